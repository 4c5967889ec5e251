"""The plan's quantitative targets (policies/targets.yaml): baseline, target, year and quote.

Each target says how the registry counts against it, in the rule language of the measures:
`where` (the firms that count) and, for a share, `among` (the firms it is a share of). A target
the registry cannot count (output doubled against a baseline the plan does not give, brands
built by the city) says why instead. GET /v1/plan/progress runs the counts
(service/registry/progress.py).
"""

from collections.abc import Mapping
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from service.policy.checks import comparison_problem, repeated
from service.policy.plan_quotes import QuotedGoal, quote_problems
from service.policy.profile import FieldSpec
from service.policy.rules import Condition, comparisons_of
from service.policy.vocabulary import Names


class Counted(BaseModel):
    """How stored firms are counted against a target."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    where: Condition
    among: Condition | None = None  # a share: `where` among these firms
    what: Names  # what is counted, in words


class Target(QuotedGoal):
    """A number the plan aims for by a year."""

    goal: Literal["reach", "raise"]  # reach a number, or raise a share with no number given
    unit: Names
    baseline: int | None = None  # the plan's 现有 figure, where it gives one
    baseline_on: date | None = None
    target: float | None = Field(None, ge=0)
    target_max: float | None = Field(None, ge=0)  # a range: 1-2 a year, 3-5 brands
    or_more: bool = False  # 以上
    per_year: bool = False
    year: int = Field(ge=2024, le=2030)
    counted: Counted | None = None
    not_counted: Names | None = None  # why the registry cannot count it
    note: Names | None = None

    @model_validator(mode="after")
    def _consistent(self) -> "Target":
        if (self.goal == "reach") != (self.target is not None):
            raise ValueError("`goal: reach` needs a `target` number; `goal: raise` has none")
        if self.target_max is not None and (self.target is None or self.target_max < self.target):
            raise ValueError("`target_max` needs a `target` no greater than it")
        if (self.counted is None) == (self.not_counted is None):
            raise ValueError("give exactly one of `counted` and `not_counted`")
        if (self.baseline is None) != (self.baseline_on is None):
            raise ValueError("`baseline` and `baseline_on` go together")
        return self


class TargetsFile(BaseModel):
    """targets.yaml."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    anchors: dict[str, Condition] = {}  # conditions named once, repeated by YAML anchors
    targets: tuple[Target, ...]


def target_problems(
    targets: tuple[Target, ...], plan_text: str, specs: Mapping[str, FieldSpec]
) -> list[str]:
    """Every problem of targets.yaml beyond its shape, each naming the target and field."""
    problems = [f"id {i!r} used twice" for i in repeated([t.id for t in targets])]
    for target in targets:
        problems += [f"{target.id}: {p}" for p in quote_problems(target, plan_text)]
        if target.counted is None:
            continue
        for part in ("where", "among"):
            condition = getattr(target.counted, part)
            if condition is None:
                continue
            for i, test in enumerate(comparisons_of(condition)):
                problem = comparison_problem(test, specs)
                if problem:
                    problems.append(
                        f"{target.id}: counted.{part} (test {i + 1}, field {test.field!r}): "
                        f"{problem}"
                    )
    return problems
