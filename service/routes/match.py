"""POST /v1/match and /v1/match/batch."""

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import ValidationError

from service.auth import MatchCaller
from service.body import json_object, profile_body, refused
from service.config import get_settings
from service.deps import AsOf, CatalogueDep, LanguageDep
from service.errors import Unprocessable
from service.examples import MATCH_EXAMPLES, batch_example
from service.matching import match
from service.openapi import json_body, problems
from service.presentation import match_json
from service.profile import Profile
from service.schemas import BatchResponse, MatchResponse

router = APIRouter(prefix="/v1/match", tags=["matching"])


def _json(payload: Any, catalogue_version: str, language: str) -> Response:
    return Response(
        orjson.dumps(payload),
        media_type="application/json",
        headers={"X-Catalogue-Version": catalogue_version, "Content-Language": language},
    )


@router.post(
    "",
    summary="Match one enterprise profile against the plan",
    response_model=MatchResponse,
    responses=problems(400, 401, 403, 413, 415, 422),
    openapi_extra=json_body("Profile", MATCH_EXAMPLES),
)
async def match_profile(
    caller: MatchCaller,
    catalogue: CatalogueDep,
    language: LanguageDep,
    as_of: AsOf,
    profile: Annotated[Profile, Depends(profile_body)],
) -> Response:
    """Which measures the firm qualifies for, nearly qualifies for, or cannot be decided yet."""
    result = match(catalogue=catalogue, facts=profile.facts(), as_of=as_of)
    return _json(match_json(result, profile.county, language), catalogue.version, language)


@router.post(
    "/batch",
    summary="Match up to 1,000 profiles; a bad one is reported in its place",
    response_model=BatchResponse,
    responses=problems(400, 401, 403, 413, 415, 422),
    openapi_extra=json_body("BatchRequest", {"two firms": {"value": batch_example()}}),
)
async def match_batch(
    request: Request,
    caller: MatchCaller,
    catalogue: CatalogueDep,
    language: LanguageDep,
    as_of: AsOf,
) -> Response:
    """Match many profiles in one call; answers come in the request's order."""
    body = await json_object(request)
    profiles = body.get("profiles") if isinstance(body, dict) else None
    limit = get_settings().max_batch_size
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
    results: list[dict[str, Any]] = []
    for index, raw in enumerate(profiles):
        try:
            profile = Profile.model_validate(raw)
        except ValidationError as e:
            results.append(
                {"index": index, "ok": False, "errors": refused(e, ("profiles", index)).errors}
            )
            continue
        result = match(catalogue=catalogue, facts=profile.facts(), as_of=as_of)
        answer = match_json(result, profile.county, language)
        del answer["catalogue_version"], answer["as_of"]
        results.append({"index": index, "ok": True, "uscc": profile.uscc, **answer})
    payload = {"catalogue_version": catalogue.version, "as_of": as_of, "results": results}
    return _json(payload, catalogue.version, language)
