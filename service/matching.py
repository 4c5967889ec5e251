"""A profile against the catalogue: matched, near misses and undetermined, each with reasons."""

from datetime import date
from typing import Any, Literal, NamedTuple

from service.catalogue import Catalogue, Measure
from service.evaluator import MISSING, Reason
from service.rules import cheapest_change, open_questions, truth

__all__ = ["MISSING", "Decision", "MatchResult", "Reason", "decide", "facts_on", "match"]

Status = Literal["matched", "near_miss", "undetermined", "not_matched"]
# Facts computed from more than one profile field, and the fields they rest on.
DERIVED_FROM = {"tier": ("tier", "tier_valid_until")}
_new = tuple.__new__


class Decision(NamedTuple):
    """What the catalogue says of one measure for one profile."""

    measure: Measure
    status: Status
    reasons: tuple[Reason, ...]  # every comparison of the measure, in reading order
    unmet_mask: int = 0  # near miss: the bits of the comparisons that would have to change
    missing_fields: tuple[str, ...] = ()  # undetermined: what the profile must add

    @property
    def unmet(self) -> tuple[Reason, ...]:
        """Near miss: the reasons of the least that would have to change for it to match."""
        mask = self.unmet_mask
        return tuple(r for r in self.reasons if r.comparison.bit & mask)


class MatchResult(NamedTuple):
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


def match(*, catalogue: Catalogue, facts: dict[str, Any], as_of: date) -> MatchResult:
    """Decide every measure in force on `as_of` for a profile's facts."""
    seen, note = facts_on(facts, as_of)
    holds, fails, reasons = catalogue.evaluate(seen, note)
    matched: list[Decision] = []
    near: list[Decision] = []
    unknown: list[Decision] = []
    limit = catalogue.near_miss.max_unmet
    fixed = catalogue.fixed_mask
    outcome: list[bool | None] | None = None
    new, add_matched, add_near = _new, matched.append, near.append  # the hot loop's names
    for measure in catalogue.in_force(as_of):
        if measure.conjunctive:
            need = measure.mask
            if need & fails:
                unmet = need & ~holds
                if unmet & fixed or unmet.bit_count() > limit:
                    continue
                add_near(new(Decision, (measure, "near_miss", measure.pick(reasons), unmet, ())))
            elif need & holds == need:
                add_matched(new(Decision, (measure, "matched", measure.pick(reasons), 0, ())))
            else:
                mine = measure.pick(reasons)
                unknown.append(_new(Decision, (measure, "undetermined", mine, 0,
                                               _missing_fields(mine, facts))))
            continue
        mine = measure.pick(reasons)
        # A tree with `any` or `not`: fold it three-valued over the outcomes.
        if outcome is None:
            outcome = [r.passed for r in reasons]
        verdict = truth(measure.tree, outcome)
        if verdict is True:
            matched.append(Decision(measure, "matched", mine))
        elif verdict is None:
            asked = set(open_questions(measure.tree, outcome))
            open_reasons = tuple(r for r in mine if r.comparison.index in asked)
            unknown.append(Decision(measure, "undetermined", mine,
                                    missing_fields=_missing_fields(open_reasons, facts)))
        else:
            fixed_indices = catalogue.fixed_comparisons
            cost, chosen = cheapest_change(measure.tree, outcome, fixed_indices)
            if cost <= limit:
                near.append(Decision(measure, "near_miss", mine, sum({1 << i for i in chosen})))
    return MatchResult(catalogue.version, as_of, tuple(matched), tuple(near), tuple(unknown))


def decide(*, catalogue: Catalogue, facts: dict[str, Any], measure_id: str, as_of: date) -> Status:
    """The status of one measure for a profile (not_matched when not reported at all)."""
    result = match(catalogue=catalogue, facts=facts, as_of=as_of)
    for decision in (*result.matched, *result.near_misses, *result.undetermined):
        if decision.measure.measure_id == measure_id:
            return decision.status
    return "not_matched"


def _missing_fields(reasons: tuple[Reason, ...], given: dict[str, Any]) -> tuple[str, ...]:
    fields: list[str] = []
    for reason in reasons:
        if reason.passed is None:
            # of a derived fact's inputs, name the first one absent: without a tier, its
            # validity is not yet a question
            inputs = DERIVED_FROM.get(reason.comparison.field, (reason.comparison.field,))
            name = next((n for n in inputs if n not in given), inputs[0])
            if name not in fields:
                fields.append(name)
    return tuple(fields)
