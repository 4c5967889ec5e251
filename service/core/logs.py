"""Logs as JSON lines, a request id on every request, and the decision log of each match.

- Every line is one JSON object: `ts`, `level`, `logger`, `message`, the `request_id` of the
  request it belongs to, and the record's own fields.
- `X-Request-ID` is taken from the request when it is a sane token (the platform's gateway
  sets it), generated otherwise, and returned on the answer; one access line per request.
- The decision log (`policy_match.decisions`) records each match: who asked, the measures
  matched, nearly matched and undetermined, with the credit code and name masked.
"""

import logging
import re
import sys
import time
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

import orjson
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.matching.decisions import MatchResult
from service.policy.profile import Profile

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
access_log = logging.getLogger("policy_match.access")
decision_log = logging.getLogger("policy_match.decisions")

_SANE_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_CREDIT_CODE = re.compile(r"[0-9A-HJ-NPQRTUWXY]{18}")


class JsonFormatter(logging.Formatter):
    """One JSON object per record."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as a JSON line, with the request id and its `fields`."""
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        current = request_id.get()
        if current is not None:
            entry["request_id"] = current
        fields = getattr(record, "fields", None)
        if fields:
            entry.update(fields)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


def configure_logging(level: str = "INFO") -> None:
    """Send every logger's records, uvicorn's included, to stdout as JSON lines."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    # our access line (with the request id) replaces uvicorn's; /readyz's schema check is quiet
    logging.getLogger("uvicorn.access").disabled = True
    logging.getLogger("alembic.runtime.migration").setLevel(logging.WARNING)


def mask_credit_code(code: str) -> str:
    """Registration authority, kind and region kept; the organisation code hidden."""
    return code[:8] + "*" * 9 + code[17:] if len(code) == 18 else "*" * len(code)


def mask_name(name: str) -> str:
    """The first character and the last two (the firm's form, as 公司) kept."""
    return name[:1] + "*" * max(len(name) - 3, 1) + name[-2:] if len(name) > 3 else "*" * 3


def masked_path(path: str) -> str:
    """The path with any credit code in it masked."""
    return _CREDIT_CODE.sub(lambda m: mask_credit_code(m.group()), path)


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
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", ()),
                    (b"x-request-id", current.encode()),
                ]
            await send(message)

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


def record_decision(request: Request, caller: str, profile: Profile, result: MatchResult) -> None:
    """Count an answered match for /metrics and write its decision log line (masked)."""
    request.app.state.decisions.add(result)
    if not decision_log.isEnabledFor(logging.INFO):
        return
    decision_log.info(
        "match",
        extra={
            "fields": {
                "caller": caller,
                "uscc": mask_credit_code(profile.uscc) if profile.uscc else None,
                "name": mask_name(profile.name) if profile.name else None,
                "county": profile.county,
                "tier": profile.tier,
                "as_of": result.as_of.isoformat(),
                "catalogue_version": result.catalogue.version,
                "matched": [m.measure_id for m in result.matched_measures],
                "near_misses": [m.measure_id for m, _ in result.near_measures],
                "undetermined": [m.measure_id for m, _ in result.undetermined_measures],
            }
        },
    )
