"""The plan's target indicators for a firm (policies/indicators.yaml), and a firm against them.

An indicator is a goal for the firms the measures serve (拥有2项以上发明专利, 数字化水平三级以上 …),
not a condition for being served: every match answer lists each one with the firm's value and
`met`, `not_met`, or `unknown` when the profile leaves the field out. The target is written as a
test of the measures' rule language, so it is checked and compared exactly as a condition is.
"""

from collections.abc import Iterable, Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from service.policy.checks import comparison_problem, repeated
from service.policy.plan_quotes import QuotedGoal, quote_problems
from service.policy.profile import FieldSpec
from service.policy.rules import Comparison, python_outcome
from service.policy.vocabulary import Names

Status = Literal["met", "not_met", "unknown"]


class Indicator(QuotedGoal):
    """One target the plan sets for a firm."""

    target: Comparison
    target_text: Names
    measures: tuple[str, ...] = Field(min_length=1)

    def status(self, facts: Mapping[str, Any]) -> Status:
        """Whether a firm's facts (as read on the day asked) meet the target."""
        if self.target.field not in facts:
            return "unknown"
        target = self.target
        met = python_outcome(target.operator, facts[target.field], target.value)
        return "met" if met else "not_met"


class IndicatorsFile(BaseModel):
    """indicators.yaml."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    indicators: tuple[Indicator, ...]


def indicator_problems(
    indicators: tuple[Indicator, ...],
    plan_text: str,
    specs: Mapping[str, FieldSpec],
    measure_ids: frozenset[str],
) -> list[str]:
    """Every problem of indicators.yaml beyond its shape, each naming the indicator and field."""
    problems = [f"id {i!r} used twice" for i in repeated([i.id for i in indicators])]
    for indicator in indicators:
        mine = [f"{indicator.id}: {p}" for p in quote_problems(indicator, plan_text)]
        problem = comparison_problem(indicator.target, specs)
        if problem:
            mine.append(f"{indicator.id}: target (field {indicator.target.field!r}): {problem}")
        mine += [
            f"{indicator.id}: measures: no measure {m!r}"
            for m in indicator.measures
            if m not in measure_ids
        ]
        problems += mine
    return problems


def indicators_for(indicators: Iterable[Indicator], measure_id: str) -> tuple[Indicator, ...]:
    """The indicators (a catalogue's, in file order) that a measure works towards."""
    return tuple(i for i in indicators if measure_id in i.measures)
