"""GET /console/measures and /console/measures/{measure_id}: the catalogue for policy staff.

The list narrows the measures by the filters of service/policy/measure_filter.py; a measure's
page shows its sentence of the plan, its conditions in plain words (policy/conditions_text.py),
its units, its validity, its test cases as they run now, and how many stored firms it matches
today (registry/measure_count.py: one count in SQL, kept until the registry changes).
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse

from service.api.deps import app_engine
from service.console.language import console_language
from service.console.pages import render
from service.console.session import ConsoleSession, public_page
from service.core.clock import today
from service.core.database import run_read
from service.core.i18n import Language, message
from service.matching.cases import case_decision, run_case
from service.policy.catalogue import Catalogue, Measure
from service.policy.conditions_text import conditions_text, profile_lines
from service.policy.measure_filter import chosen_measures, read_filter
from service.policy.plan_text import simplified
from service.policy.rules import AllOf, comparisons_of
from service.registry.measure_count import MATCH_COUNTS

router = APIRouter()
Public = Annotated[ConsoleSession | None, Depends(public_page)]

STATUS_WORDS = {
    "matched": message("matched"),
    "near_miss": message("near miss"),
    "undetermined": message("undetermined (facts missing)"),
    "not_matched": message("not matched"),
}


@router.get("/console/measures")
async def measures_list(request: Request, session: Public) -> HTMLResponse:
    """The measures of the plan, narrowed by the filters in the query string."""
    catalogue: Catalogue = request.app.state.catalogue
    language = console_language(request)
    chosen, problems = read_filter(catalogue, request.query_params)
    measures = [] if problems else chosen_measures(catalogue, chosen)
    vocab = catalogue.vocabularies
    context = {
        "chosen": chosen,
        "problems": problems,
        "rows": [_row(catalogue, m, language) for m in measures],
        "total": len(catalogue.measures),
        "kinds": [(t.code, t.name(language)) for t in vocab.kinds],
        "clauses": [(c.clause, c.heading.get(language)) for c in catalogue.clauses.values()],
        "leads": _lead_units(catalogue, language),
        "counties": [(c.code, c.name(language)) for c in vocab.counties],
        "given": {k: request.query_params.get(k, "") for k in ("in_force_on", "q")},
    }
    return render(request, "measures.html", context, status=422 if problems else 200)


@router.get("/console/measures/{measure_id}")
async def measure_page(
    request: Request, session: Public, measure_id: Annotated[str, Path(max_length=100)]
) -> HTMLResponse:
    """One measure in full, with the number of stored firms it matches today."""
    catalogue: Catalogue = request.app.state.catalogue
    measure = catalogue.by_id.get(measure_id)
    if measure is None:
        return render(request, "measure_missing.html", {"measure_id": measure_id}, status=404)
    language = console_language(request)
    day = today()
    count = await run_read(
        app_engine(request),
        lambda connection: MATCH_COUNTS.count(connection, catalogue, measure, day),
    )
    context = {
        **_row(catalogue, measure, language),
        **_detail(catalogue, measure, language),
        "count": count,
        "today": day,
        "in_force_today": measure.in_force(day),
    }
    return render(request, "measure.html", context)


def _row(catalogue: Catalogue, measure: Measure, language: Language) -> dict[str, Any]:
    spec = measure.spec
    kind = next(t for t in catalogue.vocabularies.kinds if t.code == spec.kind)
    return {
        "measure_id": spec.measure_id,
        "title": spec.title.get(language),
        "title_zh": spec.title.zh_hans,
        "clause": spec.clause,
        "kind": kind.name(language),
        "lead": measure.departments[0].name(language),
        "valid_from": spec.valid_from,
        "valid_until": spec.valid_until,
    }


def _lead_units(catalogue: Catalogue, language: Language) -> list[tuple[str, str]]:
    leads = {m.departments[0].code: m.departments[0] for m in catalogue.measures}
    return [(code, unit.name(language)) for code, unit in leads.items()]


def _detail(catalogue: Catalogue, measure: Measure, language: Language) -> dict[str, Any]:
    spec = measure.spec
    vocab = catalogue.vocabularies
    tree = spec.eligibility
    members = tree.all if isinstance(tree, AllOf) else [tree]
    conditions = [
        {
            "text": conditions_text(member, vocab, language).rstrip("。."),
            "notes": [t.note.get(language) for t in comparisons_of(member) if t.note],
        }
        for member in members
    ]
    cases = []
    for case in spec.cases:
        status, _ = case_decision(catalogue, measure.measure_id, case)
        cases.append(
            {
                "name": case.name,
                "why": case.why,
                "as_of": case.as_of,
                "profile": profile_lines(case.profile, vocab, language),
                "expected": STATUS_WORDS[case.expect],
                "got": STATUS_WORDS[status],
                "status": status,
                "passes": run_case(catalogue, measure.measure_id, case) is None,
            }
        )
    return {
        "summary": spec.summary.get(language),
        "serves": spec.serves.get(language),
        "clause_heading": catalogue.clauses[spec.clause].heading.get(language),
        "quote_simplified": [simplified(q) for q in spec.source.quote],
        "quote_original": list(spec.source.quote),
        "conditions": conditions,
        "departments": [d.name(language) for d in measure.departments],
        "governments": [c.government.get(language) for c in vocab.counties],
        "county_discretion": (
            catalogue.county_discretion.listing.get(language) if spec.county_discretion else None
        ),
        "cases": cases,
        "document": catalogue.document.title.get(language),
    }
