"""GET /console/disclosures: the disclosure record for the city's auditors (scope
`audit:read`): what the bank query told which bank about which firms, filtered by bank, measure
and firm (credit code), newest first, a page at a time."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from service.api.deps import CatalogueDep, EngineDep
from service.banks.disclosures import list_disclosures
from service.console.language import console_language
from service.console.operators import platform_scope
from service.console.pages import render
from service.console.session import ConsoleSession
from service.core.database import run_read
from service.policy.uscc import USCC_PATTERN

router = APIRouter()

PAGE_SIZE = 20
Auditor = Annotated[ConsoleSession, Depends(platform_scope("audit:read"))]


def _given(value: str | None) -> str | None:
    """A filter left empty in the form filters nothing."""
    return value.strip() or None if value is not None else None


@router.get("/console/disclosures")
async def disclosures_page(
    request: Request,
    session: Auditor,
    engine: EngineDep,
    catalogue: CatalogueDep,
    bank_id: Annotated[str | None, Query(max_length=64)] = None,
    measure_id: Annotated[str | None, Query(max_length=100)] = None,
    uscc: Annotated[str | None, Query(pattern=f"{USCC_PATTERN[:-1]}|^$")] = None,
    before: Annotated[int | None, Query(ge=1, le=2**62)] = None,
) -> HTMLResponse:
    """The disclosure log, filtered by bank, measure and firm, PAGE_SIZE records a page."""
    filters = {"bank_id": _given(bank_id), "measure_id": _given(measure_id), "uscc": _given(uscc)}
    records = await run_read(
        engine, lambda c: list_disclosures(c, **filters, before=before, limit=PAGE_SIZE + 1)
    )
    language = console_language(request)
    measures = [(m.measure_id, m.spec.title.get(language)) for m in catalogue.measures]
    titles = dict(measures)
    following = None
    if len(records) > PAGE_SIZE:
        records = records[:PAGE_SIZE]
        following = {**{k: v for k, v in filters.items() if v}, "before": records[-1].disclosure_id}
    context = {
        "records": records,
        "filters": filters,
        "measures": measures,
        "titles": titles,
        "following": following,
    }
    return render(request, "disclosures.html", context)
