"""Signed page cursors: where a page ended, bound to who asked and which list, sealed against edits.

A cursor is `<payload>.<tag>`. The payload is URL-safe base64 of JSON `{"p": position, "x":
expiry}` (Unix seconds; no `x`: it does not expire). The tag is HMAC-SHA256 over a version
label, the list (route and path parameters, e.g. the measure id), the caller (token `sub` and
bank id) and the payload. So a cursor edited by hand (a bank moving the day inside it), given to
another caller, or used on another list fails the tag, and one past its expiry is refused: each
is 400 problem+json naming the parameter (BadCursor). Nothing is kept on the server.

Keys: POLICY_MATCH_CURSOR_KEYS, comma-separated; the first signs and every one verifies, so a
key can be rotated in by putting it first and retired once the old cursors have expired. Unset,
the key is derived from the JWT secret (HMAC of it under a fixed label, so the secret itself is
never used as this key): every process and worker of one deployment then agrees and cursors
survive a restart. Only with no JWT secret at all (public-key tokens, no cursor keys) is a key
generated per process, and cursors then end with the process.

Lifetimes: a page of the bank query, the disclosures or a history lasts PAGE_LIFETIME (24 h): a
bank query keeps the day it began on, so it must not be resumed weeks later. The feed's `after`
(service/push/feed.py) does not expire: a subscriber must resume after a long outage, and
pruning already bounds how far back one reaches (410 Gone). A subscription's `catch_up_cursor`
is bound to the caller who made the subscription: it is that caller who reads what it missed.
"""

import base64
import binascii
import hashlib
import hmac
import os
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import orjson

from service.core.errors import BadCursor
from service.core.i18n import Text, message
from service.core.settings import Settings

NOT_OURS = message("not a cursor this service gave out")

PAGE_LIFETIME = timedelta(hours=24)
FEED = "/v1/push-events"
_LABEL = "policy-match cursor v1"
_DERIVE = b"policy-match cursor key"
# The largest ids the tables hold: INTEGER columns, and BIGINT ones (SQLite's INTEGER too).
INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1
_PROCESS_KEY = os.urandom(32)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class CursorKeys:
    """The keys cursors are signed with (the first) and verified with (any)."""

    keys: tuple[bytes, ...]

    def _tag(self, key: bytes, scope: str, caller: str, payload: str) -> bytes:
        # JSON, so that no choice of list and caller can spell another's
        message = orjson.dumps([_LABEL, scope, caller, payload])
        return hmac.new(key, message, hashlib.sha256).digest()

    def seal(
        self,
        position: dict[str, Any],
        *,
        scope: str,
        caller: str = "",
        lifetime: timedelta | None = PAGE_LIFETIME,
        now: float | None = None,
    ) -> str:
        """A cursor for `position` on the list `scope`, for `caller`, expiring after `lifetime`."""
        document: dict[str, Any] = {"p": position}
        if lifetime is not None:
            document["x"] = int((time.time() if now is None else now) + lifetime.total_seconds())
        payload = _b64(orjson.dumps(document))
        return f"{payload}.{_b64(self._tag(self.keys[0], scope, caller, payload))}"

    def open(
        self,
        raw: str,
        *,
        parameter: str,
        scope: str,
        required: frozenset[str],
        caller: str = "",
        now: float | None = None,
    ) -> dict[str, Any]:
        """The position inside a cursor this service gave this caller for this list; BadCursor
        (400, naming `parameter`) for a tampered, foreign, expired or malformed one."""
        payload, _, tag = raw.partition(".")
        try:
            given = _unb64(tag)
            document = orjson.loads(_unb64(payload))
        except (ValueError, binascii.Error, orjson.JSONDecodeError):
            raise bad_cursor(parameter, NOT_OURS) from None
        if not any(
            hmac.compare_digest(given, self._tag(key, scope, caller, payload)) for key in self.keys
        ):
            raise bad_cursor(
                parameter, message("not a cursor this service gave this caller for this list")
            )
        position = document.get("p") if isinstance(document, dict) else None
        if not isinstance(position, dict) or not required <= position.keys():
            raise bad_cursor(parameter, NOT_OURS)
        expiry = document.get("x")
        if expiry is not None and (time.time() if now is None else now) > expiry:
            raise bad_cursor(parameter, message("the cursor has expired"))
        return position

    def feed_cursor(self, position: int, caller: str) -> str:
        """The feed cursor (`after` of GET /v1/push-events) for the events after `position`,
        for `caller` (a cursor_owner), never expiring (see the module docstring)."""
        return self.seal({"e": position}, scope=FEED, caller=caller, lifetime=None)

    def feed_position(self, raw: str, caller: str, parameter: str = "after") -> int:
        """The feed position inside a feed cursor; BadCursor naming `parameter` otherwise."""
        position = self.open(
            raw, parameter=parameter, scope=FEED, caller=caller, required=frozenset({"e"})
        )
        return cursor_number(position, "e", INT64_MAX, parameter)


def cursor_owner(subject: str, bank_id: str | None = None) -> str:
    """Who a cursor is bound to: a token's subject and, for a bank, its bank id."""
    return orjson.dumps([subject, bank_id]).decode()


def cursor_keys(settings: Settings) -> CursorKeys:
    """The cursor keys of these settings: POLICY_MATCH_CURSOR_KEYS, else derived from the JWT
    secret, else one made for this process (see the module docstring)."""
    if settings.cursor_keys is not None:
        given = settings.cursor_keys.get_secret_value().split(",")
        return CursorKeys(tuple(k.strip().encode() for k in given if k.strip()))
    secret = settings.jwt_secret or settings.jwt_private_key
    if secret is not None:
        derived = hmac.new(secret.get_secret_value().encode(), _DERIVE, hashlib.sha256).digest()
        return CursorKeys((derived,))
    return CursorKeys((_PROCESS_KEY,))


def cursor_number(position: dict[str, Any], key: str, maximum: int, parameter: str) -> int:
    """A row id kept in a cursor, 0 to `maximum`; BadCursor naming `parameter` otherwise."""
    value = position[key]
    if type(value) is not int or not 0 <= value <= maximum:
        raise bad_cursor(parameter, NOT_OURS)
    return value


def bad_cursor(parameter: str, problem: Text) -> BadCursor:
    """The 400 for a cursor that cannot be used here, naming its query parameter."""
    return BadCursor(
        message(
            "{parameter}: {problem}; start again without `{parameter}`",
            parameter=parameter,
            problem=problem,
        ),
        errors=[{"field": parameter, "in": "query", "message": problem, "type": "cursor"}],
    )
