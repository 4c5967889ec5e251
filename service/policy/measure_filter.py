"""Choosing measures of the catalogue as a person would: by kind, clause, lead unit, county, a
day they are in force on, and words of their title or quote.

The filter is read from text (a page's query string) and every value is checked against the
catalogue: an unknown code or a malformed day is a problem naming its parameter, never a filter
that quietly matches nothing.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from service.core.i18n import Message, message
from service.policy.catalogue import Catalogue, Measure
from service.policy.plan_text import simplified
from service.policy.profile import ISO_DAY
from service.policy.rules import Outcome, truth

MAX_TEXT = 100  # characters of a text search
PARAMETERS = ("kind", "clause", "department", "county", "in_force_on", "q")


@dataclass(frozen=True, slots=True)
class MeasureFilter:
    """What a list of measures is narrowed to; None (or empty text): not narrowed."""

    kind: str | None = None
    clause: str | None = None
    department: str | None = None  # the lead unit's code
    county: str | None = None  # measures a firm of this county may be eligible for
    in_force_on: date | None = None
    text: str = ""


def read_filter(
    catalogue: Catalogue, params: Mapping[str, str]
) -> tuple[MeasureFilter, dict[str, Message]]:
    """The filter written in `params` (empty values left out), and a problem per parameter
    whose value the catalogue does not know."""
    given = {name: params.get(name, "").strip() for name in PARAMETERS}
    problems: dict[str, Message] = {}
    kinds = catalogue.vocabularies.codes("kinds")
    if given["kind"] and given["kind"] not in kinds:
        problems["kind"] = message("not a kind of measure")
    if given["clause"] and given["clause"] not in catalogue.clauses:
        problems["clause"] = message("not a clause of the plan")
    if given["department"] and given["department"] not in catalogue.departments:
        problems["department"] = message("not a unit the plan names")
    if given["county"] and given["county"] not in catalogue.vocabularies.codes("counties"):
        problems["county"] = message("not a county-level division of Jiangmen")
    day = None
    if given["in_force_on"]:
        try:
            if not ISO_DAY.fullmatch(given["in_force_on"]):
                raise ValueError(given["in_force_on"])
            day = date.fromisoformat(given["in_force_on"])
        except ValueError:
            problems["in_force_on"] = message("not a date (YYYY-MM-DD)")
    if len(given["q"]) > MAX_TEXT:
        problems["q"] = message("at most {count} characters", count=MAX_TEXT)
    chosen = MeasureFilter(
        kind=given["kind"] or None,
        clause=given["clause"] or None,
        department=given["department"] or None,
        county=given["county"] or None,
        in_force_on=day,
        text=given["q"][:MAX_TEXT],
    )
    return chosen, problems


def chosen_measures(catalogue: Catalogue, chosen: MeasureFilter) -> list[Measure]:
    """The catalogue's measures that pass every part of the filter, in the plan's order."""
    county_outcome = None
    if chosen.county is not None:
        holds, fails = catalogue.evaluate({"county": chosen.county})
        county_outcome = Outcome(holds, fails)
    words = simplified(chosen.text).casefold()
    return [
        measure
        for measure in catalogue.measures
        if (chosen.kind is None or measure.spec.kind == chosen.kind)
        and (chosen.clause is None or measure.spec.clause == chosen.clause)
        and (chosen.department is None or measure.departments[0].code == chosen.department)
        and (chosen.in_force_on is None or measure.in_force(chosen.in_force_on))
        and (county_outcome is None or truth(measure.tree, county_outcome) is not False)
        and (not words or words in searchable_text(measure))
    ]


# by id(); the measure is kept with its text, so its id is never another object's
_SEARCHABLE: dict[int, tuple[Measure, str]] = {}


def searchable_text(measure: Measure) -> str:
    """A measure's titles and quote, in Simplified script and case-folded, for a text search."""
    kept = _SEARCHABLE.get(id(measure))
    if kept is not None and kept[0] is measure:
        return kept[1]
    spec = measure.spec
    parts = [spec.measure_id, *spec.title.model_dump().values(), *spec.source.quote]
    text = simplified("\n".join(parts)).casefold()
    _SEARCHABLE[id(measure)] = (measure, text)
    return text
