"""Reading JSON request bodies ourselves: media type, size, and errors naming each field."""

from typing import Any

import orjson
from fastapi import Request
from pydantic import BaseModel, ConfigDict, ValidationError

from service.api.body_size import over_limit
from service.api.deps import app_settings
from service.core.errors import (
    MalformedJson,
    PayloadTooLarge,
    Unprocessable,
    UnsupportedMedia,
    errors_detail,
    field_errors,
)
from service.core.i18n import message
from service.policy.profile import Profile

NOT_JSON = message("the request body is not valid JSON")


async def json_bytes(request: Request) -> bytes:
    """The raw body of a JSON request, refused when it is not JSON or too large."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/json" and not media.endswith("+json"):
        raise UnsupportedMedia(
            message("send the body as application/json, not {media}", media=media or "nothing")
        )
    # BodySizeLimit stops reading at the limit, declared or chunked: this never reads more
    return await read_at_most(request, app_settings(request).max_body_bytes)


async def read_at_most(request: Request, limit: int) -> bytes:
    """The body, read no further than `limit` (declared or chunked alike)."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(over_limit(limit))
        chunks.append(chunk)
    return b"".join(chunks)


def refused(
    error: ValidationError, prefix: tuple[int | str, ...] = ()
) -> Unprocessable | MalformedJson:
    """The 4xx for a body pydantic refused: 400 if it is not JSON, else 422 naming each field."""
    raw = error.errors()
    if any(e["type"] == "json_invalid" for e in raw):
        return MalformedJson(NOT_JSON)
    errors = field_errors(raw, prefix)
    return Unprocessable(errors_detail(errors), errors=errors)


async def profile_body(request: Request) -> Profile:
    """The request body as a validated profile."""
    body = await json_bytes(request)
    try:
        return Profile.model_validate_json(body)
    except ValidationError as e:
        raise refused(e) from None


class _ValidBatch(BaseModel):
    """A batch body whose every profile is valid (`{"profiles": [...]}`, nothing else)."""

    model_config = ConfigDict(extra="forbid")
    profiles: list[Profile]


def valid_batch(body: bytes, limit: int) -> list[Profile] | None:
    """The profiles of a batch body when it holds at most `limit` and every one is valid (the
    usual batch: parsed and validated in one pass, as POST /v1/match parses its one); None
    otherwise, for the caller to read it item by item and say what is wrong where."""
    try:
        profiles = _ValidBatch.model_validate_json(body).profiles
    except ValidationError:
        return None
    return profiles if len(profiles) <= limit else None


def parsed(body: bytes) -> Any:
    """The body parsed as JSON, not yet validated; 400 if it is not JSON."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        raise MalformedJson(NOT_JSON) from None
