"""A profile against the catalogue: matched, near misses and undetermined, each with reasons."""

from datetime import date
from typing import Any

from service.matching.decider import Decide, build_decider
from service.matching.decisions import Decision, MatchResult
from service.policy.catalogue import Catalogue
from service.policy.evaluator import TierNote
from service.policy.rules import Outcome

__all__ = ["Decision", "MatchResult", "TierNote", "facts_on", "match", "outcome_of"]

_deciders: dict[tuple[str, date], Decide] = {}
_by_measures: dict[tuple[str, tuple[str, ...]], Decide] = {}


def facts_on(facts: dict[str, Any], as_of: date) -> tuple[dict[str, Any], TierNote | None]:
    """The facts as the rules see them on `as_of`, and a note where they differ from the profile.

    A recognised tier counts only while valid: expired, it is `none`. With its validity not
    given, it may or may not count; outcome_of() reads it both ways.
    """
    tier = facts.get("tier")
    if tier is None or tier == "none":
        return facts, None
    if "tier_valid_until" not in facts:
        return facts, TierNote(tier, None)
    until = facts["tier_valid_until"]
    if until is not None and until < as_of:
        return {**facts, "tier": "none"}, TierNote(tier, until)
    return facts, None


def outcome_of(
    catalogue: Catalogue, facts: dict[str, Any], as_of: date
) -> tuple[dict[str, Any], TierNote | None, Outcome]:
    """The facts as read on `as_of`, the note on them, and how every comparison came out.

    A tier given without its validity is read both as given and as `none`: a comparison on it
    is known where both readings agree, unknown (its validity missing) where they differ.
    """
    seen, note = facts_on(facts, as_of)
    holds, fails = catalogue.evaluate(seen)
    if note is not None and note.expired_on is None:
        other_holds, other_fails = catalogue.evaluate({**seen, "tier": "none"})
        holds, fails = holds & other_holds, fails & other_fails
    return seen, note, Outcome(holds, fails)


def decider(catalogue: Catalogue, day: date) -> Decide:
    """The compiled decisions for the measures in force on `day` (built once per set)."""
    found = _deciders.get((catalogue.version, day))
    if found is None:
        in_force = tuple(m for m in catalogue.measures if m.in_force(day))
        key = (catalogue.version, tuple(m.measure_id for m in in_force))
        found = _by_measures.get(key)
        if found is None:
            found = _by_measures[key] = build_decider(
                in_force, fixed=catalogue.fixed_mask, max_unmet=catalogue.near_miss.max_unmet
            )
        if len(_deciders) > 10_000:
            _deciders.clear()
        _deciders[(catalogue.version, day)] = found
    return found


def match(*, catalogue: Catalogue, facts: dict[str, Any], as_of: date) -> MatchResult:
    """Decide every measure in force on `as_of` for a profile's facts."""
    seen, note, outcome = outcome_of(catalogue, facts, as_of)
    matched, near, unknown = decider(catalogue, as_of)(outcome.holds, outcome.fails, facts)
    return MatchResult(
        catalogue, as_of, seen, note, outcome, tuple(matched), tuple(near), tuple(unknown)
    )
