"""Before publishing: POST /v1/catalogue/preview, the impact of the policies folder against the
catalogue in force over the stored firms. Nothing is written.

Bounded: it reads every stored firm, so it runs one at a time in a process (a second caller
is answered 503 with Retry-After) and is abandoned after PREVIEW_DEADLINE_SECONDS (503 too);
one changed measure over 100,000 firms takes a few seconds (docs/performance.md).
"""

import threading
from functools import partial
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from service.api.auth import CatalogueAdmin
from service.api.deps import EngineDep, LanguageDep, app_settings, as_of_param
from service.api.openapi import problems
from service.api.openapi_texts import Tag
from service.api.preview_schemas import CataloguePreview
from service.api.responses import json_answer
from service.api.routes.publication import folder_refused
from service.core.database import run_read
from service.core.errors import Unavailable
from service.core.i18n import message
from service.matching.cases import load_checked_catalogue
from service.policy.catalogue import Catalogue, CatalogueError
from service.registry.preview import PreviewAbandoned, preview_impact, within
from service.registry.preview_answer import preview_json

router = APIRouter(prefix="/v1/catalogue", tags=[Tag.CATALOGUE_ADMIN])

PREVIEW_DEADLINE_SECONDS = 60.0
RETRY_AFTER_SECONDS = 10
PREVIEW_SLOT = threading.Lock()  # one preview at a time in a process (the console's too)

EXAMPLE: dict[str, Any] = {
    "catalogue_version": "3f1c9a0d5e2b7c41",
    "in_force_version": "8d2e4b6a1c0f9e37",
    "changed": True,
    "day": "2025-06-01",
    "firms": 3000,
    "stale_firms": 0,
    "measures": [
        {
            "measure_id": "brand-cultivation-services",
            "title": "品牌培育和运营专业服务",
            "change": "changed",
            "gained": {
                "firms": 120,
                "by_county": [{"county": "440703", "county_name": "蓬江区", "firms": 120}],
                "first": [
                    {"uscc": "91440703*********X", "county": "440703", "name": "（*********公司"}
                ],
            },
            "lost": {"firms": 0, "by_county": [], "first": []},
            "moved": [{"from": "near_miss", "to": "matched", "firms": 120}],
        }
    ],
    "events": {
        "measure.matched": 120,
        "measure.unmatched": 0,
        "by_county": [{"county": "440703", "county_name": "蓬江区", "events": 120}],
        "deliveries": 120,
        "subscriptions": 1,
    },
}


def candidate_catalogue(request: Request) -> Catalogue:
    """The server's policies folder, checked and its cases run; 422 naming every problem."""
    try:
        return load_checked_catalogue(app_settings(request).policies_dir)
    except CatalogueError as e:
        raise folder_refused(e) from None


def busy() -> Unavailable:
    """Another preview is running in this process, or this one ran out of time."""
    return Unavailable(
        message("a preview is already running or took too long; try again shortly"),
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


@router.post(
    "/preview",
    operation_id="previewCatalogue",
    summary=(
        "预览政策目录变更的影响 · Preview the impact of the policies folder against the "
        "catalogue in force (nothing is written)"
    ),
    description=(
        "对新增、删除或修改的每项措施，列出将获得和失去该措施的已存企业（按县（市、区）统计，"
        "列出前 20 家，信用代码和名称已遮盖），以及发布后重新匹配将推送的事件。不写入任何数据。"
        "未通过检查或用例的目录答复 422 并列出全部问题。一次只运行一个预览，超过 60 秒即放弃"
        "（均答复 503 和 `Retry-After`）。`as_of` 默认为江门的今天。"
    ),
    response_model=CataloguePreview,
    responses={
        200: {"content": {"application/json": {"example": EXAMPLE}}},
        **problems(401, 403, 422, 503),
    },
    openapi_extra={
        "parameters": [
            {
                "name": "as_of",
                "in": "query",
                "required": False,
                "description": "the day both catalogues are read on (default: today in Jiangmen)",
                "schema": {"type": "string", "format": "date", "examples": ["2025-06-01"]},
            }
        ]
    },
)
async def preview_catalogue(
    request: Request, caller: CatalogueAdmin, engine: EngineDep, language: LanguageDep
) -> Response:
    """The impact of the policies folder against the catalogue in force; nothing is written."""
    day = as_of_param(request)
    candidate = await run_in_threadpool(candidate_catalogue, request)
    current: Catalogue = request.app.state.catalogue
    if not PREVIEW_SLOT.acquire(blocking=False):
        raise busy()
    try:
        work = partial(
            preview_impact,
            current=current,
            candidate=candidate,
            day=day,
            progress=within(PREVIEW_DEADLINE_SECONDS),
        )
        preview = await run_read(engine, work)
    except PreviewAbandoned:
        raise busy() from None
    finally:
        PREVIEW_SLOT.release()
    return json_answer(preview_json(preview, current, candidate, language))
