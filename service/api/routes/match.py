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
from service.api.body import json_object, profile_body, refused
from service.api.clients import Scope
from service.api.compact_schemas import COMPACT_EXAMPLE, BatchAnswer, MatchAnswer
from service.api.deps import AS_OF_PARAMETER, LANGUAGE_PARAMETER, app_settings, as_of_param
from service.api.openapi import json_body, problems
from service.api.ratelimit import Limited, spend
from service.api.responses import catalogue_answer
from service.api.security_docs import secured
from service.core.errors import Unprocessable
from service.core.i18n import Language, negotiate_language
from service.matching.answer import VIEWS, View, answer_profile
from service.matching.decision_log import record_decision
from service.policy.catalogue import Catalogue
from service.policy.examples import MATCH_EXAMPLES, batch_example
from service.policy.profile import Profile

router = APIRouter(prefix="/v1/match", tags=["matching"])
COMPACT_BATCH_EXAMPLE = {
    "value": {
        "view": "compact",
        "catalogue_version": COMPACT_EXAMPLE["catalogue_version"],
        "as_of": COMPACT_EXAMPLE["as_of"],
        "results": [
            {"index": 0, "ok": True, "uscc": "91440781MA4X0Y1Z2B", **COMPACT_EXAMPLE},
            {
                "index": 1,
                "ok": False,
                "errors": [
                    {
                        "field": "$.profiles[1].uscc",
                        "in": "body",
                        "type": "value_error",
                        "message": "the check character does not match",
                    }
                ],
            },
        ],
    }
}


VIEW_PARAMETER = {
    "name": "view",
    "in": "query",
    "required": False,
    "schema": {"type": "string", "enum": list(VIEWS), "default": "full"},
    "description": "full (default): every measure with its reasons and words; compact: the "
    "measure ids of each outcome, near misses' unmet fields, missing fields and the "
    "indicators' statuses, no reasons (for volume)",
    "example": "full",
}


def _openapi(schema: str, examples: dict[str, Any], compact: dict[str, Any]) -> dict[str, Any]:
    return {
        **json_body(schema, examples),
        **secured(Scope.MATCH),
        "parameters": [AS_OF_PARAMETER, VIEW_PARAMETER, LANGUAGE_PARAMETER],
        "responses": {
            "200": {"content": {"application/json": {"examples": {"view=compact": compact}}}}
        },
    }


def _view(request: Request) -> View:
    """The `view` query parameter (default full); 422 naming it for anything else."""
    raw = request.query_params.get("view", "full")
    for view in VIEWS:
        if raw == view:
            return view
    raise Unprocessable(
        f"view: {raw!r} is not one of full, compact",
        errors=[
            {
                "field": "view",
                "in": "query",
                "type": "enum",
                "message": "Input should be 'full' or 'compact'",
            }
        ],
    )


def _matching_inputs(request: Request) -> tuple[Caller, Catalogue, Language, date, View]:
    """Check the caller's token and scope; the catalogue, the language, the day and the view
    asked."""
    caller = authorize(request, Scope.MATCH)
    catalogue: Catalogue = request.app.state.catalogue
    return (
        caller,
        catalogue,
        negotiate_language(request.headers.get("accept-language")),
        as_of_param(request),
        _view(request),
    )


@router.post(
    "",
    summary="Match one enterprise profile against the plan",
    response_model=MatchAnswer,
    responses=problems(400, 401, 403, 413, 415, 422, 429),
    openapi_extra=_openapi("Profile", MATCH_EXAMPLES, {"value": COMPACT_EXAMPLE}),
)
async def match_profile(request: Request) -> Response:
    """Which measures the firm qualifies for, nearly qualifies for, or cannot be decided yet."""
    caller, catalogue, language, as_of, view = _matching_inputs(request)
    spend(request, Limited.MATCH, caller)
    profile = await profile_body(request)
    record = partial(record_decision, request.app.state.decisions, caller.subject)
    body = answer_profile(
        catalogue, profile, as_of=as_of, language=language, record=record, view=view
    )
    return catalogue_answer(body, catalogue.version, language)


@router.post(
    "/batch",
    summary="Match up to 1,000 profiles; a bad one is reported in its place",
    response_model=BatchAnswer,
    responses=problems(400, 401, 403, 413, 415, 422, 429),
    openapi_extra=_openapi(
        "BatchRequest", {"two firms": {"value": batch_example()}}, COMPACT_BATCH_EXAMPLE
    ),
)
async def match_batch(request: Request) -> Response:
    """Match many profiles in one call; answers come in the request's order."""
    caller, catalogue, language, as_of, view = _matching_inputs(request)
    body = await json_object(request)
    profiles = body.get("profiles") if isinstance(body, dict) else None
    limit = app_settings(request).max_batch_size
    if not isinstance(profiles, list) or set(body) != {"profiles"}:
        raise Unprocessable(
            "the body must be an object with one field, `profiles`: a list of profiles",
            errors=[
                {
                    "field": "$.profiles",
                    "in": "body",
                    "message": "a list of profiles",
                    "type": "list_type",
                }
            ],
        )
    if len(profiles) > limit:
        raise Unprocessable(
            f"at most {limit} profiles per batch, got {len(profiles)}",
            errors=[
                {
                    "field": "$.profiles",
                    "in": "body",
                    "type": "too_long",
                    "message": f"at most {limit} profiles",
                }
            ],
        )
    spend(request, Limited.MATCH, caller, cost=max(1, len(profiles)))
    record = partial(record_decision, request.app.state.decisions, caller.subject)
    items: list[bytes] = []
    for index, raw in enumerate(profiles):
        try:
            profile = Profile.model_validate(raw)
        except ValidationError as e:
            errors = refused(e, ("profiles", index)).errors
            items.append(orjson.dumps({"index": index, "ok": False, "errors": errors}))
            continue
        head = orjson.dumps({"index": index, "ok": True, "uscc": profile.uscc})[:-1]
        answer = answer_profile(
            catalogue,
            profile,
            as_of=as_of,
            language=language,
            record=record,
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
    return catalogue_answer(body, catalogue.version, language)
