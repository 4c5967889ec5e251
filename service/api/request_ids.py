"""A request id on every request, returned as X-Request-ID, and one access line per request;
and Content-Language on every answer that does not name its language itself.

`X-Request-ID` is taken from the request when it is a sane token (the platform's gateway sets
it), generated otherwise; the JSON log lines written while the request runs carry it.
"""

import logging
import re
import time
import uuid
from collections.abc import Sequence

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.core.i18n import DEFAULT_LANGUAGE, Language, negotiate_language
from service.core.logs import masked_path, request_id

access_log = logging.getLogger("policy_match.access")

_SANE_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def scope_language(headers: Sequence[tuple[bytes, bytes]]) -> Language:
    """The language Accept-Language picks, from raw ASGI headers (for pure ASGI middleware)."""
    for name, value in headers:
        if name == b"accept-language":
            return negotiate_language(value.decode("latin-1"))
    return DEFAULT_LANGUAGE


def problem_instance(scope: Scope | None = None) -> str | None:
    """The request's id as a problem's `instance`: urn:uuid:… for an id made here, else the
    X-Request-ID as given (a URI reference); None outside a request."""
    current = request_id.get() or ((scope or {}).get("state") or {}).get("request_id")
    if current is None:
        return None
    try:
        return uuid.UUID(hex=current).urn if len(current) == 32 else current
    except ValueError:
        return current


class RequestContext:
    """Pure ASGI: a request id for each request, returned as X-Request-ID, and the access line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the request with its id set, then log it."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next((v for k, v in scope["headers"] if k == b"x-request-id"), b"").decode(
            "latin-1"
        )
        current = given if _SANE_ID.fullmatch(given) else uuid.uuid4().hex
        token = request_id.set(current)
        # kept in the scope too: a 500 is answered outside this middleware, after the reset
        scope.setdefault("state", {})["request_id"] = current
        started = time.perf_counter()
        status = 500

        async def send_with_id(event: Message) -> None:
            nonlocal status
            if event["type"] == "http.response.start":
                status = event["status"]
                headers = [*event.get("headers", ()), (b"x-request-id", current.encode())]
                if not any(name.lower() == b"content-language" for name, _ in headers):
                    # an answer in no particular language is in the one negotiated (a dict hit)
                    language = scope_language(scope["headers"]).encode()
                    headers.append((b"content-language", language))
                event["headers"] = headers
            await send(event)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if access_log.isEnabledFor(logging.INFO):
                client = scope.get("client")
                access_log.info(
                    "request",
                    extra={
                        "fields": {
                            "method": scope["method"],
                            "path": masked_path(scope["path"]),
                            "status": status,
                            "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                            "client": client[0] if client else None,
                        }
                    },
                )
            request_id.reset(token)
