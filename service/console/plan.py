"""GET /console/plan (方案原文): the plan clause by clause, each sentence a measure quotes
highlighted with links to its measures, each clause's coverage, and a search from a sentence's
words to its measures. The plan's cutting and coverage are service/policy/plan_coverage.py's."""

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from service.api.deps import CatalogueDep
from service.console.language import console_language
from service.console.pages import render
from service.console.session import ConsoleSession, public_page
from service.policy.plan_coverage import plan_coverage
from service.policy.plan_search import MAX_QUERY_CHARACTERS
from service.policy.plan_sentences import PlanSentence

router = APIRouter()

Script = Literal["simplified", "original"]


@router.get("/console/plan")
async def plan_page(
    request: Request,
    session: Annotated[ConsoleSession | None, Depends(public_page)],
    catalogue: CatalogueDep,
    script: Annotated[
        Script | None,
        Query(description="simplified (OpenCC) or original (the plan's Traditional script)"),
    ] = None,
    q: Annotated[
        str | None,
        Query(description="words of a sentence, in either script", max_length=MAX_QUERY_CHARACTERS),
    ] = None,
) -> HTMLResponse:
    """The plan's text with the measures that encode each sentence, and a sentence search."""
    language = console_language(request)
    shown: Script = script or ("original" if language == "zh-Hant" else "simplified")
    coverage = plan_coverage(catalogue)
    words = (q or "").strip()
    found, more = coverage.index.find(words) if words else ([], False)

    def text(sentence: PlanSentence) -> str:
        return sentence.zh_hans if shown == "simplified" else sentence.text

    return render(
        request,
        "plan.html",
        {
            "coverage": coverage,
            "clauses": catalogue.clauses,
            "titles": {m.measure_id: m.spec.title.get(language) for m in catalogue.measures},
            "script": shown,
            "other_script": "original" if shown == "simplified" else "simplified",
            "text": text,
            "q": words,
            "found": found,
            "more": more,
            "document": catalogue.document,
        },
    )
