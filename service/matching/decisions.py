"""What matching answers: the outcome of every comparison, and the measures it decides."""

from dataclasses import dataclass
from datetime import date
from typing import Any, Literal, NamedTuple

from service.policy.catalogue import Catalogue, Measure
from service.policy.evaluator import Reason, TierNote, reason
from service.policy.rules import Outcome, cheapest_change, open_questions, truth

Status = Literal["matched", "near_miss", "undetermined", "not_matched"]
# Facts computed from more than one profile field, and the fields they rest on.
DERIVED_FROM = {"tier": ("tier", "tier_valid_until")}


class Decision(NamedTuple):
    """What the catalogue says of one measure for one profile, with every reason."""

    measure: Measure
    status: Status
    reasons: tuple[Reason, ...]  # every comparison of the measure, in reading order
    unmet: tuple[Reason, ...] = ()  # near miss: the least that would have to change
    missing_fields: tuple[str, ...] = ()  # what the profile must add (undetermined, near miss)


@dataclass(frozen=True, slots=True)
class MatchResult:
    """A profile's standing against every measure in force on `as_of`.

    `outcome` holds how every comparison of the catalogue came out and `facts` the values it
    read, so each reported measure's reasons are there without evaluating anything again; the
    Decision views below put them together.
    """

    catalogue: Catalogue
    as_of: date
    facts: dict[str, Any]  # as the rules saw them on as_of
    note: TierNote | None  # what facts_on() said of them
    outcome: Outcome
    matched_measures: tuple[Measure, ...]
    near_measures: tuple[tuple[Measure, int], ...]  # with the bits of what stands in the way
    undetermined_measures: tuple[tuple[Measure, tuple[str, ...]], ...]  # with missing fields

    def reasons(self, measure: Measure, mask: int | None = None) -> tuple[Reason, ...]:
        """The reasons of a measure's comparisons (only those with bits in `mask`, if given)."""
        holds, fails = self.outcome
        return tuple(
            reason(c, holds, fails, self.facts, self.note)
            for c in (self.catalogue.comparisons[i] for i in measure.comparisons)
            if mask is None or c.bit & mask
        )

    @property
    def matched(self) -> tuple[Decision, ...]:
        """The measures the firm qualifies for."""
        return tuple(Decision(m, "matched", self.reasons(m)) for m in self.matched_measures)

    @property
    def near_misses(self) -> tuple[Decision, ...]:
        """The measures it nearly qualifies for: what must change, and what is not yet given."""
        holds, fails = self.outcome
        return tuple(
            Decision(
                m,
                "near_miss",
                self.reasons(m),
                self.reasons(m, change & (holds | fails)),
                missing_fields(m, change & ~(holds | fails), self.facts),
            )
            for m, change in self.near_measures
        )

    @property
    def undetermined(self) -> tuple[Decision, ...]:
        """The measures that cannot be decided without more of the profile."""
        return tuple(
            Decision(m, "undetermined", self.reasons(m), missing_fields=missing)
            for m, missing in self.undetermined_measures
        )


def missing_fields(measure: Measure, unknown: int, given: dict[str, Any]) -> tuple[str, ...]:
    """The profile fields to add so that the comparisons with bits in `unknown` can be decided."""
    fields: list[str] = []
    for c in measure.comparison_objects:
        if c.bit & unknown:
            # of a derived fact's inputs, name the first one absent: without a tier, its
            # validity is not yet a question
            inputs = DERIVED_FROM.get(c.field, (c.field,))
            name = next((n for n in inputs if n not in given), inputs[0])
            if name not in fields:
                fields.append(name)
    return tuple(fields)


def decide_tree(
    measure: Measure, outcome: Outcome, facts: dict[str, Any], *, fixed: int, max_unmet: int
) -> tuple[Status, Any] | None:
    """A measure whose tree has `any` or `not`: (status, detail), or None if not near enough.

    The detail is the unmet mask of a near miss or the missing fields of an undetermined one.
    """
    verdict = truth(measure.tree, outcome)
    if verdict is True:
        return "matched", None
    if verdict is None:
        asked = sum(1 << i for i in set(open_questions(measure.tree, outcome)))
        return "undetermined", missing_fields(measure, asked, facts)
    cost, chosen = cheapest_change(measure.tree, outcome, fixed)
    if cost > max_unmet:
        return None
    return "near_miss", sum(1 << i for i in set(chosen))
