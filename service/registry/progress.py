"""The plan's targets against the stored firms: one GROUP BY county statement, typed columns.

Each counted target's `where` and `among` (service/policy/targets.py) compile to SQL with the bank
query's own compiler (eligibility_sql.comparison_filter), so a tier counts exactly on the days
match() would count it. The statement groups by county and by the outcome of each condition on
the tier (evaluated once a row, however many targets read it) and counts each other condition
with FILTER, met and unknown; plan_progress() folds the rows into each target's tally (see
Counting). Deleted firms never count; synthetic (demo) firms only when asked. The registry is
what the stored profiles say, not the official recognition list.

Only firms some target can count are read. When every counted target asks for a recognised tier
(those of the plan all do), a firm whose stored tier is none of those counts nowhere: the
statement reads the firms with one of those tiers and those with no tier given (unknown), each a
range of the index `ix_enterprise_progress` (migration 0007), which holds every column the
targets read: on 1,000,000 firms a third of one narrow index, never the table.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, func, not_, or_, select, union_all

from service.banks.eligibility_sql import NO_TIER, TIER, comparison_filter
from service.core.tables import ENTERPRISE
from service.policy.catalogue import Catalogue, CompiledComparison
from service.policy.rules import (
    AllOf,
    AnyOf,
    Comparison,
    Condition,
    NotOf,
    Operator,
    comparisons_of,
)
from service.policy.targets import Target


def condition_filter(condition: Condition, day: date) -> ColumnElement[bool]:
    """A condition of the rule language on `enterprise` rows: true, false or NULL (unknown)."""
    if isinstance(condition, Comparison):
        return comparison_filter(CompiledComparison.of(0, condition), day)
    if isinstance(condition, NotOf):
        return not_(condition_filter(condition.not_, day))
    if isinstance(condition, AllOf):
        return and_(*(condition_filter(c, day) for c in condition.all))
    assert isinstance(condition, AnyOf)
    return or_(*(condition_filter(c, day) for c in condition.any))


def required_tiers(condition: Condition) -> frozenset[str] | None:
    """The stored tiers a firm must have for `condition` to hold or be unknown (None: any).

    A tier counts as `none` once expired, never as another, so a test that `none` fails
    needs one of its own tiers stored (or none given).
    """
    if isinstance(condition, Comparison):
        if condition.field != TIER or condition.operator not in (Operator.IS, Operator.ONE_OF):
            return None
        values = frozenset(
            condition.value if condition.operator is Operator.ONE_OF else (condition.value,)
        )
        return None if NO_TIER in values else values
    if isinstance(condition, AllOf):
        found = [t for t in map(required_tiers, condition.all) if t is not None]
        return frozenset.intersection(*found) if found else None
    if isinstance(condition, AnyOf):
        each = [required_tiers(c) for c in condition.any]
        return None if None in each else frozenset().union(*(t for t in each if t))
    return None


def _read_tiers(targets: Sequence[Target]) -> frozenset[str] | None:
    """The tiers of the firms any counted target can count (None: every firm)."""
    tiers: set[str] = set()
    for target in targets:
        if target.counted is None:
            continue
        found = required_tiers(target.counted.among or target.counted.where)
        if found is None:
            return None
        tiers |= found
    return frozenset(tiers)


@dataclass(frozen=True, slots=True)
class Tally:
    """One target's count in one county (or in all)."""

    firms: int | None  # for a share: the firms it is a share of
    count: int  # the firms that meet it (of those, for a share)
    unknown: int  # the firms whose profile does not say (of those, for a share)

    def __add__(self, other: "Tally") -> "Tally":
        firms = None if self.firms is None or other.firms is None else self.firms + other.firms
        return Tally(firms, self.count + other.count, self.unknown + other.unknown)


@dataclass(frozen=True, slots=True)
class Progress:
    """Every counted target's tally by county."""

    tallies: dict[str, dict[str, Tally]]  # target id -> county -> tally
    shares: frozenset[str]  # the ids of the targets that are shares

    def empty(self, target_id: str) -> Tally:
        """A target's tally where no stored firm counts."""
        return Tally(0 if target_id in self.shares else None, 0, 0)

    def total(self, target_id: str) -> Tally:
        """A target's tally over every county."""
        return sum(self.tallies[target_id].values(), self.empty(target_id))


@dataclass(frozen=True, slots=True)
class Counting:
    """Where each counted target finds its numbers in the rows of progress_query().

    A row is one county and one outcome of every `key` condition (true, false or unknown),
    with the firms in it (`n`) and, for every `filter` condition, how many meet it and how many
    leave it unknown. Conditions on the tier are keys: each row evaluates them once, however
    many targets read them (every share is among 专精特新 firms); the rest are filters. A `where`
    that is an `all` of both is split: its tier part a key, the rest a filter, and_() of the
    two in plan_progress().
    """

    keys: tuple[Condition, ...]
    filters: tuple[Condition, ...]
    # target id, the key of its `among` (None: not a share), its `where` as (key, filter) parts
    targets: tuple[tuple[str, int | None, tuple[int | None, int | None]], ...]


def _reads_tier(condition: Condition) -> bool:
    return any(c.field == TIER for c in comparisons_of(condition))


def counting(targets: Sequence[Target]) -> Counting:
    """How the counted targets' conditions are laid out in the query."""
    keys: dict[str, Condition] = {}
    filters: dict[str, Condition] = {}

    def place(conditions: list[Condition], found: dict[str, Condition]) -> int | None:
        if not conditions:
            return None
        condition = conditions[0] if len(conditions) == 1 else AllOf(all=conditions)
        found.setdefault(repr(condition), condition)
        return list(found).index(repr(condition))

    laid = []
    for target in targets:
        if target.counted is None:
            continue
        among = target.counted.among
        where = target.counted.where
        parts = where.all if isinstance(where, AllOf) else [where]
        on_tier = [c for c in parts if _reads_tier(c)]
        rest = [c for c in parts if not _reads_tier(c)]
        laid.append(
            (
                target.id,
                None if among is None else place([among], keys),
                (place(on_tier, keys), place(rest, filters)),
            )
        )
    return Counting(tuple(keys.values()), tuple(filters.values()), tuple(laid))


def progress_query(
    targets: Sequence[Target],
    day: date,
    *,
    county: str | None,
    include_synthetic: bool,
    ranges: bool = True,
) -> tuple[Any, Counting]:
    """The query (see Counting for its rows) and the layout of its columns; `ranges` False:
    the firms with a counted tier or none in one read, not two (for a table with no index)."""
    e = ENTERPRISE.c
    laid = counting(targets)
    keys = [condition_filter(c, day).label(f"k{i}") for i, c in enumerate(laid.keys)]
    columns: list[Any] = [e.county, *keys, func.count()]
    for condition in laid.filters:
        where = condition_filter(condition, day)
        columns += [func.count().filter(where), func.count().filter(where.is_(None))]
    query = select(*columns).where(e.deleted_at.is_(None)).group_by(e.county, *keys)
    if not include_synthetic:
        query = query.where(e.synthetic.is_(False))
    if county is not None:
        query = query.where(e.county == county)
    tiers = _read_tiers(targets)
    if tiers is None:
        return query, laid
    if not ranges:
        return query.where(or_(e.tier.in_(sorted(tiers)), e.tier.is_(None))), laid
    # two ranges of the index, not an OR of them: an OR would make PostgreSQL read all of it
    read = [query.where(e.tier.in_(sorted(tiers))), query.where(e.tier.is_(None))]
    return union_all(*read), laid


def plan_progress(
    connection: Connection,
    catalogue: Catalogue,
    day: date,
    *,
    county: str | None,
    include_synthetic: bool,
) -> Progress:
    """Count the stored firms against every counted target of the plan, by county."""
    key = (catalogue.version, day, county, include_synthetic)
    built = _BUILT.get(key)
    if built is None:  # building the statement costs as much as running it on SQLite
        built = progress_query(
            catalogue.targets, day, county=county, include_synthetic=include_synthetic
        )
        if len(_BUILT) >= _BUILT_MAX:
            _BUILT.clear()
        _BUILT[key] = built
    query, laid = built
    return fold_progress(connection.execute(query), laid)


# the statements of plan_progress() built per catalogue, day, county and choice of firms
_BUILT: dict[tuple[str, date, str | None, bool], tuple[Any, Counting]] = {}
_BUILT_MAX = 64


def fold_progress(rows: Iterable[Sequence[Any]], laid: Counting) -> Progress:
    """The rows of a progress_query() folded into each counted target's tally by county."""
    tallies: dict[str, dict[str, Tally]] = {target_id: {} for target_id, *_ in laid.targets}
    width = len(laid.keys)
    for row in rows:
        place, n, met_unknown = row[0], row[1 + width], row[2 + width :]
        outcomes = [None if k is None else bool(k) for k in row[1 : 1 + width]]
        for target_id, among, (key, test) in laid.targets:
            if among is not None and outcomes[among] is not True:
                continue
            # three-valued: where = key part AND filter part (either may be absent: true)
            held = True if key is None else outcomes[key]
            met, unknown = (n, 0) if test is None else met_unknown[2 * test : 2 * test + 2]
            if held is None:
                met, unknown = 0, met + unknown
            elif held is False:
                met, unknown = 0, 0
            tally = Tally(None if among is None else n, met, unknown)
            found = tallies[target_id].get(place)
            tallies[target_id][place] = tally if found is None else found + tally
    shares = frozenset(target_id for target_id, among, _ in laid.targets if among is not None)
    return Progress(tallies, shares)
