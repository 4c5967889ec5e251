"""GET /v1/plan/progress: the plan's quantitative targets against the stored firms, by county."""

from datetime import date
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from service.api.auth import Caller, require_platform
from service.api.clients import Scope
from service.api.deps import AS_OF_PARAMETER, CatalogueDep, EngineDep, LanguageDep, as_of_param
from service.api.openapi import problems
from service.api.openapi_texts import Tag
from service.api.progress_schemas import PlanProgress
from service.api.ratelimit import Limited, spend
from service.api.responses import catalogue_answer
from service.core.database import run_read
from service.core.errors import Unprocessable
from service.policy.profile import vocabulary_labels
from service.policy.vocabulary import vocabularies
from service.registry.progress import plan_progress
from service.registry.progress_answer import progress_json

router = APIRouter(prefix="/v1/plan", tags=[Tag.PLAN])

StatsReader = Annotated[Caller, Depends(require_platform(Scope.STATS_READ))]
COUNTIES = vocabularies().codes("counties")
COUNTY_ENUM: dict[str, Any] = {"enum": list(COUNTIES)}
vocabulary_labels("counties")(COUNTY_ENUM)  # the members' names and labels, for generators
AS_OF = {
    **AS_OF_PARAMETER,
    "description": "the day to count on: recognitions valid that day (default: today)",
    "example": "2026-06-30",
}


def _county(
    county: Annotated[
        str | None,
        Query(
            description="only this county (GB/T 2260 code)",
            examples=["440781"],
            json_schema_extra=COUNTY_ENUM,
            max_length=6,
        ),
    ] = None,
) -> str | None:
    if county is not None and county not in COUNTIES:
        raise Unprocessable(
            f"county: {county!r} is not a county-level division of Jiangmen",
            errors=[
                {
                    "field": "county",
                    "in": "query",
                    "type": "enum",
                    "message": f"expected one of {', '.join(COUNTIES)}",
                }
            ],
        )
    return county


@router.get(
    "/progress",
    operation_id="getPlanProgress",
    summary="方案目标进度 · The plan's targets against the stored firms, by county",
    description=(
        "一、(二)工作目标和第二部分的每个目标，附基数和原文，以及在 `as_of` 当天按登记库统计、"
        "分县（市、区）的企业数：有效期内的认定、上市企业、研发机构等。已删除的企业不计；"
        "合成（演示）企业仅在 include_synthetic 时计入。登记库不是官方认定名单，答复中会说明。"
    ),
    response_model=PlanProgress,
    responses=problems(401, 403, 422, 429, 503),
    openapi_extra={"parameters": [AS_OF]},
)
async def progress(
    request: Request,
    caller: StatsReader,
    engine: EngineDep,
    catalogue: CatalogueDep,
    language: LanguageDep,
    as_of: Annotated[date, Depends(as_of_param)],
    county: Annotated[str | None, Depends(_county)],
    include_synthetic: Annotated[
        bool, Query(description="count the synthetic (demo) firms too")
    ] = False,
) -> Response:
    """Each target of 一、(二)工作目标 and section 二 with its baseline and quote, and the
    stored firms counted against it on `as_of`: recognitions valid that day, listed firms, R&D
    institutions, … Deleted firms never count; synthetic ones only with include_synthetic. The
    registry is not the official recognition list, and the answer says so."""
    spend(request, Limited.PLAN_PROGRESS, caller)
    counted = await run_read(
        engine,
        lambda connection: plan_progress(
            connection, catalogue, as_of, county=county, include_synthetic=include_synthetic
        ),
    )
    body = progress_json(
        catalogue,
        counted,
        as_of=as_of,
        county=county,
        include_synthetic=include_synthetic,
        language=language,
    )
    return catalogue_answer(orjson.dumps(body), catalogue.version, language)
