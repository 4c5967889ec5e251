"""A profile against the catalogue: matched, near misses and undetermined, each with reasons."""

from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from service.catalogue import Catalogue, CompiledComparison, Measure
from service.profile import ZJTX_TIERS
from service.rules import cheapest_change, truth

MISSING: Any = object()
Status = Literal["matched", "near_miss", "undetermined", "not_matched"]
# Facts computed from more than one profile field, and the fields they rest on.
DERIVED_FROM = {"tier": ("tier", "tier_valid_until")}


@dataclass(frozen=True, slots=True)
class Reason:
    """One test of a measure as it came out for this profile."""

    test: CompiledComparison
    passed: bool | None
    actual: Any  # MISSING when the profile leaves the field out
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    """What the catalogue says of one measure for one profile."""

    measure: Measure
    status: Status
    reasons: tuple[Reason, ...]
    unmet: tuple[Reason, ...] = ()
    missing_fields: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class MatchResult:
    """A profile's standing against every measure in force on `as_of`."""

    catalogue_version: str
    as_of: date
    matched: tuple[Decision, ...]
    near_misses: tuple[Decision, ...]
    undetermined: tuple[Decision, ...]


def facts_on(facts: dict[str, Any], as_of: date) -> tuple[dict[str, Any], str | None]:
    """The facts as the rules see them on `as_of`, and a note where they differ from the profile.

    A recognised tier counts only while valid: expired, it is `none`; with its validity not
    given at all, it is unknown.
    """
    tier = facts.get("tier")
    if tier is None or tier == "none":
        return facts, None
    if "tier_valid_until" not in facts:
        return {k: v for k, v in facts.items() if k != "tier"}, None
    until = facts["tier_valid_until"]
    if until is not None and until < as_of:
        return {**facts, "tier": "none"}, f"{tier} recognition expired on {until.isoformat()}"
    return facts, None


def outcomes(catalogue: Catalogue, facts: dict[str, Any]) -> list[bool | None]:
    """Each distinct test of the catalogue run once against the facts (None: unknown)."""
    results: list[bool | None] = []
    append = results.append
    for test in catalogue.comparisons:
        actual = facts.get(test.field, MISSING)
        if actual is MISSING:
            append(None)
            continue
        try:
            append(bool(test.compare(actual, test.value)))
        except TypeError:  # a value of the wrong type is a "no", never a crash
            append(False)
    return results


def match(*, catalogue: Catalogue, facts: dict[str, Any], as_of: date) -> MatchResult:
    """Decide every measure in force on `as_of` for a profile's facts."""
    seen, tier_note = facts_on(facts, as_of)
    outcome = outcomes(catalogue, seen)
    matched: list[Decision] = []
    near: list[Decision] = []
    unknown: list[Decision] = []
    limit = catalogue.near_miss.max_unmet
    for measure in catalogue.measures:
        if not measure.in_force(as_of):
            continue
        verdict = truth(measure.tree, outcome)
        if verdict is False:
            cost, blocking = cheapest_change(measure.tree, outcome, catalogue.fixed_comparisons)
            if cost > limit:
                continue
        reasons = tuple(
            Reason(
                catalogue.comparisons[i], outcome[i], seen.get(catalogue.comparisons[i].field, MISSING),
                tier_note if catalogue.comparisons[i].field == "tier" else None,
            )
            for i in measure.comparisons
        )
        if verdict is True:
            matched.append(Decision(measure, "matched", reasons))
        elif verdict is None:
            missing = _missing_fields(reasons, facts)
            unknown.append(Decision(measure, "undetermined", reasons, missing_fields=missing))
        else:
            unmet = tuple(r for r in reasons if r.test.index in set(blocking))
            near.append(Decision(measure, "near_miss", reasons, unmet=unmet))
    return MatchResult(
        catalogue.version, as_of, tuple(matched), tuple(near), tuple(unknown)
    )


def decide(*, catalogue: Catalogue, facts: dict[str, Any], measure_id: str, as_of: date) -> Status:
    """The status of one measure for a profile (not_matched when neither near nor in force)."""
    result = match(catalogue=catalogue, facts=facts, as_of=as_of)
    for status, decisions in (
        ("matched", result.matched),
        ("near_miss", result.near_misses),
        ("undetermined", result.undetermined),
    ):
        if any(d.measure.measure_id == measure_id for d in decisions):
            return status  # type: ignore[return-value]
    return "not_matched"


def _missing_fields(reasons: tuple[Reason, ...], given: dict[str, Any]) -> tuple[str, ...]:
    fields: list[str] = []
    for reason in reasons:
        if reason.passed is None:
            for name in DERIVED_FROM.get(reason.test.field, (reason.test.field,)):
                if name not in given and name not in fields:
                    fields.append(name)
    return tuple(fields)


def is_zjtx(tier: str | None) -> bool:
    """Whether a tier is 专精特新 (municipal, provincial or little giant)."""
    return tier in ZJTX_TIERS
