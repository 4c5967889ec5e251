"""The impact of a candidate catalogue before it is published: written nowhere.

For each measure the candidate adds, removes or changes, every stored firm is decided twice,
by the catalogue in force and by the candidate, on the same day: matched, near miss,
undetermined, unmatched, or absent (not in that catalogue, or not in force that day). A firm
that becomes matched *gains* the measure, one that stops being matched *loses* it; the re-match
that publishing queues pushes a `measure.matched` or `measure.unmatched` event for each
(service/registry/rematch.py, service/push/outbox.py), and a delivery to each active
subscription whose filters the event passes.

Only the changed measures are decided, from the typed columns of the fields they test (not the
stored profile's JSON), firms read in batches from one read-only connection; the catalogues'
compiled comparisons and a decider built for the one measure do the work, once per distinct
combination of the tested values (firms share them: a tier, and whether it is still valid).
Firms whose stored matches are not current (an older catalogue or day) may also gain or lose
unchanged measures when re-matched: they are counted as `stale`, not decided.
"""

import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Connection, func, select

from service.core.tables import ENTERPRISE
from service.matching.decider import Decide, build_decider
from service.matching.match import outcome_of
from service.policy.catalogue import Catalogue
from service.policy.changes import measure_changes
from service.policy.profile import NULLABLE_FIELDS
from service.push.outbox import MATCHED, UNMATCHED, measure_heads
from service.push.routing import SubscriptionFilter, active_subscriptions

MATCHED_STATE, NEAR, UNDETERMINED, UNMATCHED_STATE, ABSENT = (
    "matched",
    "near_miss",
    "undetermined",
    "unmatched",
    "absent",
)
STATES = (MATCHED_STATE, NEAR, UNDETERMINED, UNMATCHED_STATE, ABSENT)
SAMPLE_FIRMS = 20  # firm ids listed per measure and direction
BATCH_SIZE = 5_000
MEMORY = 100_000  # distinct combinations of the tested fields remembered
_ALWAYS = ("tier", "tier_valid_until")  # how a tier is read on the day (matching.facts_on)


@dataclass(slots=True)
class FirmSample:
    """One firm listed as moved: its credit code, county and name (None if not stored)."""

    uscc: str
    county: str
    name: str | None


@dataclass(slots=True)
class MeasureImpact:
    """What one added, removed or changed measure does to the stored firms."""

    measure_id: str
    change: str  # added / removed / changed
    transitions: Counter[tuple[str, str]] = field(default_factory=Counter)  # (before, after)
    gained: Counter[str] = field(default_factory=Counter)  # firms by county
    lost: Counter[str] = field(default_factory=Counter)
    gained_firms: list[FirmSample] = field(default_factory=list)  # the first, by credit code
    lost_firms: list[FirmSample] = field(default_factory=list)

    @property
    def moved(self) -> dict[tuple[str, str], int]:
        """The transitions between two different states, most firms first."""
        moved = [(k, n) for k, n in self.transitions.items() if k[0] != k[1]]
        return dict(sorted(moved, key=lambda kn: (-kn[1], kn[0])))


@dataclass(slots=True)
class Preview:
    """The impact of putting `candidate_version` in force instead of `current_version`."""

    current_version: str
    candidate_version: str
    day: date
    firms: int  # stored firms decided
    stale: int  # of them, whose stored matches are older than the catalogue in force or the day
    measures: list[MeasureImpact]
    events: Counter[str] = field(default_factory=Counter)  # by type: measure.matched / unmatched
    events_by_county: Counter[str] = field(default_factory=Counter)
    deliveries: int = 0  # to the active subscriptions, before their caps
    subscriptions: int = 0  # active subscriptions

    @property
    def unchanged(self) -> bool:
        """Whether the candidate is the catalogue in force."""
        return self.current_version == self.candidate_version


Progress = Callable[[int], object]


class _Judge:
    """One measure decided by one catalogue on one day, from a firm's facts."""

    def __init__(self, catalogue: Catalogue, measure_id: str, day: date) -> None:
        measure = catalogue.by_id.get(measure_id)
        self.catalogue, self.day = catalogue, day
        self.decide: Decide | None = None
        self.fields: set[str] = set()
        if measure is not None and measure.in_force(day):
            self.decide = build_decider(
                [measure], fixed=catalogue.fixed_mask, max_unmet=catalogue.near_miss.max_unmet
            )
            self.fields = {c.field for c in measure.comparison_objects}

    def state(self, facts: dict[str, Any], outcome: tuple[int, int]) -> str:
        """The measure's state for a firm whose comparisons came out as `outcome`."""
        if self.decide is None:
            return ABSENT
        matched, near, unknown = self.decide(outcome[0], outcome[1], facts)
        if matched:
            return MATCHED_STATE
        return NEAR if near else UNDETERMINED if unknown else UNMATCHED_STATE


def _facts(row: Any, fields: Iterable[str]) -> dict[str, Any]:
    """A stored firm's facts as its profile gives them (Profile.facts), from typed columns."""
    facts = {}
    for name in fields:
        value = getattr(row, name)
        if name in NULLABLE_FIELDS:
            if getattr(row, f"{name}_given"):
                facts[name] = value
        elif value is not None:
            facts[name] = value
    return facts


def _columns(fields: set[str]) -> list[Any]:
    names = sorted(fields)
    columns = [ENTERPRISE.c.uscc, ENTERPRISE.c.county, ENTERPRISE.c.name]
    columns += [ENTERPRISE.c[n] for n in names if n != "county"]
    columns += [ENTERPRISE.c[f"{n}_given"] for n in names if n in NULLABLE_FIELDS]
    return columns


def _key(columns: list[Any], tested: set[str], day: date) -> Callable[[Any], tuple[Any, ...]]:
    """What a firm's decisions depend on: the values of the tested fields, and of the tier's
    validity only whether it ran out before `day` (unless a measure tests the day itself)."""
    kept = [i for i, c in enumerate(columns) if c.name not in ("uscc", "name", "tier_valid_until")]
    until = next(i for i, c in enumerate(columns) if c.name == "tier_valid_until")
    if "tier_valid_until" in tested:
        kept.append(until)

        def exact(row: Any) -> tuple[Any, ...]:
            return tuple(row[i] for i in kept)

        return exact

    def expired(row: Any) -> tuple[Any, ...]:
        valid_until = row[until]
        return (*(row[i] for i in kept), valid_until is not None and valid_until < day)

    return expired


def _outcome(catalogue: Catalogue, facts: dict[str, Any], day: date) -> tuple[int, int]:
    _, _, outcome = outcome_of(catalogue, facts, day)
    return outcome.holds, outcome.fails


def stored_firms(connection: Connection) -> int:
    """How many firms a preview decides: the stored ones, not deleted."""
    query = select(func.count()).where(ENTERPRISE.c.deleted_at.is_(None))
    return int(connection.execute(query).scalar_one())


def preview_impact(
    connection: Connection,
    current: Catalogue,
    candidate: Catalogue,
    *,
    day: date,
    sample: int = SAMPLE_FIRMS,
    batch_size: int = BATCH_SIZE,
    progress: Progress | None = None,
) -> Preview:
    """The impact of putting `candidate` in force instead of `current` over the stored firms
    on `day`, reading only (`progress` is told each batch's number of firms)."""
    changes = measure_changes(current, candidate)
    kinds = (
        [(m, "added") for m in changes["measures_added"]]
        + [(m, "removed") for m in changes["measures_removed"]]
        + [(m, "changed") for m in changes["measures_changed"]]
    )
    impacts = [MeasureImpact(m, change) for m, change in kinds]
    judges = [
        (impact, _Judge(current, impact.measure_id, day), _Judge(candidate, impact.measure_id, day))
        for impact in impacts
    ]
    subscriptions = active_subscriptions(connection)
    live = ENTERPRISE.c.deleted_at.is_(None)
    firms = stored_firms(connection)
    stale_query = select(func.count()).where(
        live,
        (ENTERPRISE.c.matched_catalogue_version != current.version)
        | (ENTERPRISE.c.matched_on != day),
    )
    preview = Preview(
        current.version,
        candidate.version,
        day,
        firms,
        int(connection.execute(stale_query).scalar_one()),
        impacts,
        subscriptions=len(subscriptions),
    )
    fields = set(_ALWAYS).union(*(b.fields | a.fields for _, b, a in judges))
    if not judges or firms == 0:
        if progress is not None:
            progress(firms)
        return preview
    columns = _columns(fields)
    rows = connection.execution_options(yield_per=batch_size).execute(
        select(*columns).where(live).order_by(ENTERPRISE.c.uscc)
    )
    key_of = _key(columns, set().union(*(b.fields | a.fields for _, b, a in judges)), day)
    decided: dict[tuple[Any, ...], list[tuple[str, str]]] = {}
    for batch in rows.partitions():
        for row in batch:
            # a firm's states depend only on the fields the measures test: decided once each
            key = key_of(row)
            states = decided.get(key)
            if states is None:
                facts = _facts(row, fields)
                before = _outcome(current, facts, day)
                after = _outcome(candidate, facts, day)
                states = [(b.state(facts, before), a.state(facts, after)) for _, b, a in judges]
                if len(decided) >= MEMORY:
                    decided.clear()
                decided[key] = states
            for (impact, _, _), (was, now) in zip(judges, states, strict=True):
                impact.transitions[(was, now)] += 1
                if (was == MATCHED_STATE) != (now == MATCHED_STATE):
                    _moved(impact, row, gained=now == MATCHED_STATE, sample=sample)
        if progress is not None:
            progress(len(batch))
    _count_events(preview, current, candidate, subscriptions)
    return preview


def _moved(impact: MeasureImpact, row: Any, *, gained: bool, sample: int) -> None:
    counties, listed = (
        (impact.gained, impact.gained_firms) if gained else (impact.lost, impact.lost_firms)
    )
    counties[row.county] += 1
    if len(listed) < sample:
        listed.append(FirmSample(row.uscc, row.county, row.name))


def _count_events(
    preview: Preview,
    current: Catalogue,
    candidate: Catalogue,
    subscriptions: list[SubscriptionFilter],
) -> None:
    """The events the re-match would write for the moves, and their deliveries."""
    heads = {**measure_heads(current), **measure_heads(candidate)}
    for impact in preview.measures:
        kind = heads[impact.measure_id]["kind"]
        for event, counties in ((MATCHED, impact.gained), (UNMATCHED, impact.lost)):
            for county, firms in counties.items():
                preview.events[event] += firms
                preview.events_by_county[county] += firms
                passing = sum(s.passes(county, kind) for s in subscriptions)
                preview.deliveries += firms * passing


class PreviewAbandoned(Exception):
    """A preview stopped at its deadline: nothing was written, nothing is answered."""


def within(seconds: float, progress: Progress | None = None) -> Progress:
    """A progress callback that abandons the preview once `seconds` have passed (checked
    between batches), passing each batch on to `progress`."""
    deadline = time.monotonic() + seconds

    def told(firms: int) -> None:
        if progress is not None:
            progress(firms)
        if time.monotonic() > deadline:
            raise PreviewAbandoned(seconds)

    return told
