"""Quotes of the plan outside the measures (indicators, targets): their shape and their check."""

from pydantic import BaseModel, ConfigDict, Field

from service.policy.plan_text import place_texts
from service.policy.vocabulary import Names

PLACE = r"^(一|二|三)\((一|二|三)\)[1-9]?$"


class PlanPlace(BaseModel):
    """A sentence of the plan and where it stands: `{clause: 一(二), quote: …}`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    clause: str = Field(pattern=PLACE, description="一(二), 二(二)4 … as the plan numbers it")
    quote: str = Field(min_length=2, max_length=400)


class QuotedGoal(PlanPlace):
    """A goal of the plan: its place, its words in three languages, and where it is repeated."""

    id: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=80)
    sentence: Names
    also: tuple[PlanPlace, ...] = ()
    title: Names


def quote_problems(goal: QuotedGoal, plan_text: str) -> list[str]:
    """Each quote of a goal that is not verbatim in its clause, and a sentence that strays."""
    places = place_texts(plan_text)
    problems = []
    for where, place in [("quote", goal), *((f"also.{i}", p) for i, p in enumerate(goal.also))]:
        text = places.get(place.clause)
        if text is None:
            problems.append(f"{where}: clause {place.clause!r} is not a place of the plan")
        elif place.quote not in plan_text:
            problems.append(f"{where}: not found verbatim in the plan: {place.quote[:40]!r}…")
        elif place.quote not in text:
            problems.append(f"{where}: in the plan, but not in clause {place.clause}")
    if goal.sentence.zh_hant != goal.quote:
        problems.append("sentence.zh-Hant: must be the quote itself (the plan is in zh-Hant)")
    # a Simplified rendering changes characters, not their number
    if len(goal.sentence.zh_hans) != len(goal.quote):
        problems.append("sentence.zh-Hans: is not the quote in Simplified characters")
    return problems
