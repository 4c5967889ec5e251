"""JSON answers: plain ones, and those of the catalogue and matching routes with their headers."""

from typing import Any

import orjson
from fastapi.responses import Response

from service.core.i18n import Language


def catalogue_answer(
    body: bytes, catalogue_version: str, language: Language, *, max_age: int | None = None
) -> Response:
    """A JSON answer drawn from a catalogue: its version, language, and (if given) cache life."""
    headers = {
        "X-Catalogue-Version": catalogue_version,
        "Content-Language": language,
        "Vary": "Accept-Language",
    }
    if max_age is not None:
        headers["Cache-Control"] = f"public, max-age={max_age}"
    return Response(body, media_type="application/json", headers=headers)


def json_answer(body: Any, status: int = 200, **headers: str) -> Response:
    """`body` as JSON (orjson: datetimes in ISO 8601), with this status and these headers."""
    return Response(orjson.dumps(body), status, media_type="application/json", headers=headers)
