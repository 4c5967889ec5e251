"""JSON answers: plain ones, and those of the catalogue and matching routes with their headers.

Catalogue reads carry a strong `ETag` (RFC 9110 §8.8.3): the catalogue's content hash, the
language and a digest of the bytes answered, so equal tags mean equal bytes (and a new release
that words an answer differently has a new tag). `If-None-Match` holding it gets 304 with no
body (weak comparison, as §13.1.2 asks for GET).
"""

import hashlib
from collections.abc import Callable
from typing import Annotated, Any

import orjson
from fastapi import Header
from fastapi.responses import Response
from starlette.types import Receive, Scope, Send

from service.core.i18n import Language

IfNoneMatch = Annotated[
    str | None,
    Header(
        description="the `ETag` of the answer you hold: 304 with no body if it is still current",
        examples=['"3"'],
    ),
]
NOT_MODIFIED: dict[int | str, dict[str, Any]] = {
    304: {
        "description": "未修改：If-None-Match 给出的 ETag 仍是当前的，无正文。"
        "Not modified: the `ETag` given in If-None-Match is still current; no body"
    }
}


def none_match_holds(if_none_match: str | None, etag: str) -> bool:
    """Whether If-None-Match names `etag` (or is `*`), compared weakly (RFC 9110 §13.1.2)."""
    if if_none_match is None:
        return False
    tags = [t.strip() for t in if_none_match.split(",")]
    return "*" in tags or etag.removeprefix("W/") in (t.removeprefix("W/") for t in tags)


def conditional(
    body: bytes, etag: str, if_none_match: str | None, headers: dict[str, str]
) -> Response:
    """The JSON answer with its ETag, or 304 with the same headers and no body."""
    headers = {**headers, "ETag": etag}
    if none_match_holds(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


def _catalogue_headers(
    catalogue_version: str, language: Language, max_age: int | None
) -> dict[str, str]:
    headers = {
        "X-Catalogue-Version": catalogue_version,
        "Content-Language": language,
        "Vary": "Accept-Language",
    }
    if max_age is not None:
        headers["Cache-Control"] = f"public, max-age={max_age}"
    return headers


def catalogue_answer(
    body: bytes, catalogue_version: str, language: Language, *, max_age: int | None = None
) -> Response:
    """A JSON answer drawn from a catalogue: its version, language, and (if given) cache life."""
    headers = _catalogue_headers(catalogue_version, language, max_age)
    return Response(body, media_type="application/json", headers=headers)


class AnsweredFirst(Response):
    """A response that runs `after` once it is sent, or its sending failed (the caller gone):
    work the caller need not wait for, still done for every answer."""

    def __init__(self, body: bytes, after: Callable[[], None], headers: dict[str, str]) -> None:
        super().__init__(body, media_type="application/json", headers=headers)
        self.after = after

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Send the answer, then run `after`."""
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.after()


def catalogue_answer_then(
    body: bytes, catalogue_version: str, language: Language, after: Callable[[], None]
) -> Response:
    """`catalogue_answer`, and `after` run once it is sent."""
    return AnsweredFirst(body, after, _catalogue_headers(catalogue_version, language, None))


def catalogue_read(
    body: bytes,
    catalogue_version: str,
    language: Language,
    if_none_match: str | None,
    *,
    max_age: int = 60,
) -> Response:
    """A catalogue read with its strong ETag (see the module docstring); 304 when it holds."""
    digest = hashlib.sha256(body).hexdigest()[:16]
    etag = f'"{catalogue_version}.{language}.{digest}"'
    headers = _catalogue_headers(catalogue_version, language, max_age)
    return conditional(body, etag, if_none_match, headers)


def json_answer(body: Any, status: int = 200, **headers: str) -> Response:
    """`body` as JSON (orjson: datetimes in ISO 8601), with this status and these headers."""
    return Response(orjson.dumps(body), status, media_type="application/json", headers=headers)
