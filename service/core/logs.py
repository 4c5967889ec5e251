"""Logs as JSON lines, and the masks that keep credit codes and names out of them.

- Every line is one JSON object: `ts`, `level`, `logger`, `message`, the `request_id` of the
  request it belongs to, and the record's own fields.
- The request id is set for each request by service/api/request_ids.py; the decision log of
  each match is written by service/matching/decision_log.py.
"""

import logging
import re
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

import orjson

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)

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


def lean_records() -> None:
    """Records without the thread, process and task names: no JSON line shows them, and looking
    them up was a fifth of the cost of a decision line (one per profile matched)."""
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False


def configure_logging(level: str = "INFO") -> None:
    """Send every logger's records, uvicorn's included, to stdout as JSON lines."""
    lean_records()
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
