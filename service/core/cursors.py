"""Opaque page cursors: what a page ended on, as URL-safe base64 of a small JSON object."""

import base64
import binascii
from typing import Any

import orjson

from service.core.errors import Unprocessable
from service.core.i18n import Text, message

NOT_OURS = message("not a cursor this service gave out")


def encode_cursor(position: dict[str, Any]) -> str:
    """An opaque cursor for a position."""
    return base64.urlsafe_b64encode(orjson.dumps(position)).decode().rstrip("=")


def decode_cursor(raw: str, required: frozenset[str]) -> dict[str, Any]:
    """The position of a cursor this service gave out; 422 naming `cursor` otherwise."""
    try:
        position = orjson.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        if not isinstance(position, dict) or not required <= position.keys():
            raise ValueError(raw)
        return position
    except (ValueError, binascii.Error, orjson.JSONDecodeError):
        raise cursor_error(NOT_OURS) from None


# The largest ids the tables hold: INTEGER columns, and BIGINT ones (SQLite's INTEGER too).
INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1


def cursor_number(position: dict[str, Any], key: str, maximum: int) -> int:
    """A row id kept in a cursor, 0 to `maximum`; 422 naming `cursor` otherwise."""
    value = position[key]
    if type(value) is not int or not 0 <= value <= maximum:
        raise cursor_error(NOT_OURS)
    return value


def cursor_error(problem: Text) -> Unprocessable:
    """The 422 for a cursor that cannot be used here."""
    return Unprocessable(
        message("cursor: {problem}; start again without a cursor", problem=problem),
        errors=[{"field": "cursor", "in": "query", "message": problem, "type": "cursor"}],
    )
