"""A pure ASGI guard that stops reading a request body at the limit, declared or chunked.

- A declared Content-Length over the limit is answered 413 before a byte of the body is read.
- Otherwise the bytes of the `http.request` messages are counted as the application receives
  them; past the limit nothing more is handed on, and the answer is 413 whatever the
  application then tries to send (FastAPI turns an error while reading a body into a 400).
- A path may have its own limit (`paths`: the spreadsheet upload of POST
  /v1/enterprises/imports takes up to POLICY_MATCH_IMPORT_MAX_BYTES, far more than a JSON body).
- Every 413, and every answer sent before the whole body was read (a 401 that never looked at
  it), closes the connection: the rest of the body is never read, so it costs nothing.
"""

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.api.problems import problem_response
from service.api.request_ids import scope_language
from service.core import i18n
from service.core.errors import PayloadTooLarge
from service.core.i18n import Language

CLOSE = (b"connection", b"close")


def over_limit(limit: int) -> i18n.Message:
    """Why a body was refused: it passed `limit` bytes."""
    return i18n.message("the body may be at most {limit} bytes", limit=limit)


def ascii_number(value: bytes | str) -> int | None:
    """The value as a whole number if it is written with ASCII digits only, else None."""
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    return int(text) if text.isascii() and text.isdigit() and len(text) < 19 else None


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return ascii_number(value)
    return None


def _has_body(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"transfer-encoding" or (name == b"content-length" and value != b"0"):
            return True
    return False


def too_large(max_bytes: int, language: Language) -> Response:
    """The 413 problem+json, closing the connection."""
    error = PayloadTooLarge(
        over_limit(max_bytes),
        headers={"connection": "close"},
    )
    return problem_response(error, language)


class BodySizeLimit:
    """Answer 413 problem+json once a request body passes `max_bytes`, and read no further."""

    def __init__(self, app: ASGIApp, max_bytes: int, paths: dict[str, int] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.paths = paths or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on with its body counted; refuse it once over the limit."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.paths.get(scope["path"], self.max_bytes)
        declared = _declared_length(scope)
        if declared is not None and declared > limit:
            await too_large(limit, scope_language(scope["headers"]))(scope, receive, send)
            return
        await _Guarded(self, limit, scope, receive, send).run()


class _Guarded:
    """One request: its body counted, its answer replaced by a 413 once over the limit."""

    def __init__(
        self, guard: BodySizeLimit, max_bytes: int, scope: Scope, receive: Receive, send: Send
    ) -> None:
        self.app, self.max_bytes = guard.app, max_bytes
        self.scope, self._receive, self._send = scope, receive, send
        self.received = 0
        self.over = False
        self.started = False
        self.whole = not _has_body(scope)  # the body has been read to its end

    async def run(self) -> None:
        """Run the application; a 413 if it stopped on the limit before answering."""
        try:
            await self.app(self.scope, self.receive, self.send)
        except Exception:
            if not self.over or self.started:
                raise
        if self.over and not self.started:
            refusal = too_large(self.max_bytes, scope_language(self.scope["headers"]))
            await refusal(self.scope, self._receive, self._send)

    async def receive(self) -> Message:
        """The next part of the body, counted; PayloadTooLarge once past the limit."""
        if self.over:
            return {"type": "http.disconnect"}
        event = await self._receive()
        if event["type"] == "http.request":
            self.received += len(event.get("body", b""))
            if self.received > self.max_bytes:
                self.over = True
                raise PayloadTooLarge(over_limit(self.max_bytes))
            if not event.get("more_body", False):
                self.whole = True
        return event

    async def send(self, event: Message) -> None:
        """Pass the answer on, unless the body went over the limit (the 413 is sent instead)."""
        if self.over and not self.started:
            return  # whatever the application made of the refused body: run() answers 413
        if event["type"] == "http.response.start":
            self.started = True
            if not self.whole:  # the rest of the body is not wanted: close, do not read it
                event = {**event, "headers": [*event.get("headers", ()), CLOSE]}
        await self._send(event)
