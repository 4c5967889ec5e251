"""POST /v1/match and /v1/match/batch.

These are the hot path. FastAPI's request handling (dependency resolution, parameter parsing)
costs more per request here than the matching itself, so the two routes take the bare Request,
read the token, catalogue, language, `as_of` and body with plain calls to the same functions
the dependencies use, declare their parameters and security in `openapi_extra`, and are served
as plain Starlette routes (see `serve_directly`); FastAPI still documents them.
"""

from datetime import date
from functools import partial
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError

from service.api.auth import Caller, authorize
from service.api.body import json_bytes, parsed, profile_body, refused, valid_batch
from service.api.clients import Scope
from service.api.compact_schemas import BatchAnswer, MatchAnswer
from service.api.deps import AS_OF_PARAMETER, LANGUAGE_PARAMETER, app_settings, as_of_param
from service.api.openapi import json_body, problems
from service.api.openapi_texts import Tag
from service.api.ratelimit import Limited, spend
from service.api.responses import catalogue_answer, catalogue_answer_then
from service.api.security_docs import secured
from service.core.errors import Unprocessable, translated_errors
from service.core.i18n import Language, message, negotiate_language
from service.matching.answer import VIEWS, View, answer_profile
from service.matching.decision_log import Decisions, record_decision
from service.policy.catalogue import Catalogue
from service.policy.examples import MATCH_EXAMPLES, batch_example
from service.policy.profile import Profile

router = APIRouter(prefix="/v1/match", tags=[Tag.MATCHING])


VIEW_PARAMETER = {
    "name": "view",
    "in": "query",
    "required": False,
    "schema": {
        "type": "string",
        "enum": list(VIEWS),
        "default": "full",
        "x-enum-varnames": ["FULL", "COMPACT"],
        "x-enum-descriptions": ["完整：每项措施及其理由", "简要：措施编号和字段名，不含理由"],
    },
    "description": "full (default): every measure with its reasons and words; compact: the "
    "measure ids of each outcome, near misses' unmet fields, missing fields and the "
    "indicators' statuses, no reasons (for volume)",
    "example": "full",
}


def _openapi(schema: str, examples: dict[str, Any]) -> dict[str, Any]:
    # the 200's example is the full view's (service/api/answer_examples.py); the compact
    # view's is its schema's (service/api/compact_schemas.py)
    return {
        **json_body(schema, examples),
        **secured(Scope.MATCH),
        "parameters": [AS_OF_PARAMETER, VIEW_PARAMETER, LANGUAGE_PARAMETER],
    }


def _view(request: Request) -> View:
    """The `view` query parameter (default full); 422 naming it for anything else."""
    raw = request.query_params.get("view", "full")
    for view in VIEWS:
        if raw == view:
            return view
    raise Unprocessable(
        message("view: {raw!r} is not one of full, compact", raw=raw),
        errors=[
            {
                "field": "view",
                "in": "query",
                "type": "enum",
                "message": message(
                    "Input should be {expected}",
                    expected=message("{choices} or {last}", choices="'full'", last="'compact'"),
                ),
            }
        ],
    )


async def _matching_inputs(request: Request) -> tuple[Caller, Catalogue, Language, date, View]:
    """Check the caller's token and scope; the catalogue, the language, the day and the view
    asked."""
    caller = await authorize(request, Scope.MATCH)
    catalogue: Catalogue = request.app.state.catalogue
    return (
        caller,
        catalogue,
        negotiate_language(request.headers.get("accept-language")),
        as_of_param(request),
        _view(request),
    )


def _batch_items(body: Any, limit: int) -> list[Any]:
    """The items of a batch body that is not all valid, once it is an object with a list of at
    most `limit` profiles (422 naming `$.profiles` otherwise)."""
    profiles = body.get("profiles") if isinstance(body, dict) else None
    if not isinstance(profiles, list) or set(body) != {"profiles"}:
        raise Unprocessable(
            message("the body must be an object with one field, `profiles`: a list of profiles"),
            errors=[
                {
                    "field": "$.profiles",
                    "in": "body",
                    "message": message("a list of profiles"),
                    "type": "list_type",
                }
            ],
        )
    if len(profiles) > limit:
        raise Unprocessable(
            message(
                "at most {limit} profiles per batch, got {count}", limit=limit, count=len(profiles)
            ),
            errors=[
                {
                    "field": "$.profiles",
                    "in": "body",
                    "type": "too_long",
                    "message": message("at most {limit} profiles", limit=limit),
                }
            ],
        )
    return profiles


@router.post(
    "",
    operation_id="matchProfile",
    summary="匹配一家企业 · Match one enterprise profile against the plan",
    description=(
        "按方案逐条核对企业画像：符合的措施、差一点符合的措施（`unmet` 列出最少要改变的条件）、"
        "还缺信息而无法判断的措施（`missing_fields`），以及方案为企业设定的指标。"
        "每项措施都引用方案原文，并说明找哪个部门。"
    ),
    response_model=MatchAnswer,
    responses=problems(400, 401, 403, 413, 415, 422, 429),
    openapi_extra=_openapi("Profile", MATCH_EXAMPLES),
)
async def match_profile(request: Request) -> Response:
    """Which measures the firm qualifies for, nearly qualifies for, or cannot be decided yet."""
    caller, catalogue, language, as_of, view = await _matching_inputs(request)
    spend(request, Limited.MATCH, caller)
    profile = await profile_body(request)
    record = partial(record_decision, request.app.state.decisions, caller.subject)
    body = answer_profile(
        catalogue, profile, as_of=as_of, language=language, record=record, view=view
    )
    return catalogue_answer(body, catalogue.version, language)


@router.post(
    "/batch",
    operation_id="matchBatch",
    summary=(
        "批量匹配（最多 1000 家） · Match up to 1,000 profiles; a bad one is reported in its place"
    ),
    description=(
        "一次匹配多家企业，答复按请求的顺序排列；某一家的画像无效时只在它的位置报告错误（`ok: "
        "false`），其他企业照常匹配。"
    ),
    response_model=BatchAnswer,
    responses=problems(400, 401, 403, 413, 415, 422, 429),
    openapi_extra=_openapi("BatchRequest", {"two firms": {"value": batch_example()}}),
)
async def match_batch(request: Request) -> Response:
    """Match many profiles in one call; answers come in the request's order."""
    caller, catalogue, language, as_of, view = await _matching_inputs(request)
    limit = app_settings(request).max_batch_size
    body = await json_bytes(request)
    profiles: list[Profile] | list[Any] | None = valid_batch(body, limit)
    if profiles is None:  # something is wrong: each profile read on its own, errors in place
        profiles = _batch_items(parsed(body), limit)
    spend(request, Limited.MATCH, caller, cost=max(1, len(profiles)))
    items: list[bytes] = []
    # each decision counted and kept as it is made; their lines made and written together once
    # the answer is sent: one write, not a record, a format and a flush per profile, and the
    # caller does not wait for them
    decided = Decisions(request.app.state.decisions, caller.subject)
    for index, raw in enumerate(profiles):
        try:
            profile = raw if isinstance(raw, Profile) else Profile.model_validate(raw)
        except ValidationError as e:
            errors = translated_errors(refused(e, ("profiles", index)).errors or (), language)
            items.append(orjson.dumps({"index": index, "ok": False, "errors": errors}))
            continue
        head = orjson.dumps({"index": index, "ok": True, "uscc": profile.uscc})[:-1]
        answer = answer_profile(
            catalogue,
            profile,
            as_of=as_of,
            language=language,
            record=decided.record,
            whole=False,
            view=view,
        )
        items.append(head + b"," + answer + b"}")
    body = b"".join(
        (
            b'{"view":"compact","catalogue_version":'
            if view == "compact"
            else b'{"catalogue_version":',
            orjson.dumps(catalogue.version),
            b',"as_of":',
            orjson.dumps(as_of),
            b',"results":[',
            b",".join(items),
            b"]}",
        )
    )
    return catalogue_answer_then(body, catalogue.version, language, decided.write)
