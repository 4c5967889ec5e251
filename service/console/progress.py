"""GET /console/progress (目标进度): the plan's targets against their baselines and the stored
firms, overall, by county and by quarter, as charts and tables; GET /console/progress.csv: the
same figures as a file. The figures are the API's (registry/progress_answer.py) and the
registry's history (registry/progress_history.py); nothing is counted here."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import Connection, Engine

from service.api.deps import current_catalogue, current_engine
from service.console.language import console_language, gettext_for
from service.console.pages import SECURITY_HEADERS, render
from service.console.progress_figures import (
    CSV_MEDIA_TYPE,
    Figures,
    chart_data,
    csv_bytes,
    csv_rows,
    figures_of,
    is_share,
    shown,
)
from service.console.session import ConsoleSession, public_page
from service.core.clock import today
from service.core.database import run_read
from service.core.i18n import Language
from service.policy.catalogue import Catalogue
from service.registry.progress_answer import progress_json
from service.registry.progress_history import PeriodProgress, progress_history

router = APIRouter()

Synthetic = Annotated[bool, Query(description="count the synthetic (demo) firms too")]


async def _figures(
    engine: Engine, catalogue: Catalogue, language: Language, include_synthetic: bool
) -> Figures:
    """Today's figures (the API's answer) and every quarter's, read on one connection."""
    day = today()

    def read(connection: Connection) -> list[PeriodProgress]:
        return progress_history(connection, catalogue, day, include_synthetic=include_synthetic)

    history = await run_read(engine, read)
    answer = progress_json(
        catalogue,
        history[-1].progress,  # the running quarter: today's count, plan_progress() itself
        as_of=day,
        county=None,
        include_synthetic=include_synthetic,
        language=language,
    )
    return figures_of(answer, history)


@router.get("/console/progress")
async def progress_page(
    request: Request,
    session: Annotated[ConsoleSession | None, Depends(public_page)],
    engine: Annotated[Engine, Depends(current_engine)],
    catalogue: Annotated[Catalogue, Depends(current_catalogue)],
    include_synthetic: Synthetic = False,
) -> HTMLResponse:
    """The targets' progress as charts and tables, in the page's language."""
    language = console_language(request)
    figures = await _figures(engine, catalogue, language, include_synthetic)
    charts = chart_data(figures, gettext_for(language))
    return render(
        request,
        "progress.html",
        {
            "figures": figures,
            "is_share": is_share,
            "num": shown,
            "chart_data": charts,
            "include_synthetic": include_synthetic,
        },
    )


@router.get("/console/progress.csv")
async def progress_csv(
    request: Request,
    session: Annotated[ConsoleSession | None, Depends(public_page)],
    engine: Annotated[Engine, Depends(current_engine)],
    catalogue: Annotated[Catalogue, Depends(current_catalogue)],
    include_synthetic: Synthetic = False,
) -> Response:
    """The page's figures as a CSV file (UTF-8 with a byte order mark, for Excel)."""
    language = console_language(request)
    figures = await _figures(engine, catalogue, language, include_synthetic)
    body = csv_bytes(csv_rows(figures, gettext_for(language)))
    name = f"progress-{figures.answer['as_of']}.csv"
    headers = {
        **SECURITY_HEADERS,
        "Content-Disposition": f'attachment; filename="{name}"',
        "Content-Language": language,
    }
    return Response(body, media_type=CSV_MEDIA_TYPE, headers=headers)
