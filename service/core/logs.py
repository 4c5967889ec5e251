"""Logs as JSON lines, and the masks that keep credit codes and names out of them.

- Every line is one JSON object: `ts`, `level`, `logger`, `message`, the `request_id` of the
  request it belongs to, and the record's own fields.
- The request id is set for each request by service/api/request_ids.py; the decision log of
  each match is written by service/matching/decision_log.py.
- `JsonLines` writes many records' lines at once, in one write, for the decision log of a
  batch: the same lines as the formatter's, without a LogRecord per line.
"""

import codecs
import logging
import math
import re
import sys
import time
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TypeGuard

import orjson

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)

_CREDIT_CODE = re.compile(r"[0-9A-HJ-NPQRTUWXY]{18}")


def json_line(
    created: float,
    level: int,
    logger: str,
    message: str,
    fields: Mapping[str, Any] | None = None,
    exception: str | None = None,
) -> bytes:
    """One JSON line (without its newline): the time, level, logger and message, the request
    id of the current request, then the `fields`."""
    entry: dict[str, Any] = {"ts": timestamp(created), **_shared(level, logger, message)}
    if fields:
        entry.update(fields)
    if exception:
        entry["exception"] = exception
    return orjson.dumps(entry, default=str)


def _shared(level: int, logger: str, message: str) -> dict[str, Any]:
    """The members after `ts` that the lines of one logger and message share in a request."""
    entry: dict[str, Any] = {
        "level": logging.getLevelName(level).lower(),
        "logger": logger,
        "message": message,
    }
    current = request_id.get()
    if current is not None:
        entry["request_id"] = current
    return entry


_last_second: tuple[int, str] = (-1, "")


def timestamp(created: float) -> str:
    """A record's time as a line shows it: UTC, to the millisecond (the second's text made once
    and remembered, as the lines of a batch fall many to a second)."""
    global _last_second
    # rounded to the microsecond as datetime.fromtimestamp rounds it, then cut to milliseconds
    fraction, seconds = math.modf(created)
    microseconds = round(fraction * 1e6)
    whole, millisecond = divmod(int(seconds) * 1000 + microseconds // 1000, 1000)
    last = _last_second
    if last[0] != whole:
        last = _last_second = (whole, datetime.fromtimestamp(whole, UTC).isoformat()[:19])
    return f"{last[1]}.{millisecond:03d}+00:00"


class JsonFormatter(logging.Formatter):
    """One JSON object per record."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as a JSON line, with the request id and its `fields`."""
        return json_line(
            record.created,
            record.levelno,
            record.name,
            record.getMessage(),
            getattr(record, "fields", None),
            self.formatException(record.exc_info) if record.exc_info else None,
        ).decode()


class JsonLines:
    """Records of one logger and message, each made into its JSON line when added (as the
    formatter would make it) and written together by `write`: to every plain stream handler
    with the JSON formatter in one write and one flush under its lock; any other handler (a
    test's capture, say) still gets a record per line.

    For the decision log of a batch: a LogRecord, a format and a flush (a system call) per
    profile cost as much as matching it. The lines are kept as bytes, not as dicts and lists,
    which would keep the garbage collector busy over a batch of 1,000.
    """

    def __init__(self, logger: logging.Logger, level: int, message: str) -> None:
        self.logger, self.level, self.message = logger, level, message
        self.streams: list[logging.StreamHandler[Any]] = []
        self.others: list[logging.Handler] = []  # a record each
        self.enabled = logger.isEnabledFor(level)
        if self.enabled:
            for handler in _handlers(logger, level):
                if _plain_json_stream(handler):
                    self.streams.append(handler)
                else:
                    self.others.append(handler)
        shared = orjson.dumps(_shared(level, logger.name, message))[1:-1]  # "level":…
        self.shared = b'",' + shared + b","
        self.pieces: list[bytes] = []  # the lines so far, each in pieces
        self.records: list[tuple[float, Mapping[str, Any]]] = []

    def add(self, fields: Mapping[str, Any], created: float | None = None) -> None:
        """One record with these fields, made now (or at `created`)."""
        if not self.enabled:
            return
        created = time.time() if created is None else created
        if self.streams:
            if fields and _HEAD.isdisjoint(fields):
                ts = timestamp(created).encode()
                own = orjson.dumps(fields, default=str)  # {"caller":…}
                self.pieces += (b'{"ts":"', ts, self.shared, own[1:], b"\n")
            else:  # none, or an own `message`, say: the formatter's way
                line = json_line(created, self.level, self.logger.name, self.message, fields)
                self.pieces += (line, b"\n")
        if self.others:
            self.records.append((created, fields))

    def add_encoded(
        self, own: bytes, fields: Callable[[], Mapping[str, Any]], created: float | None = None
    ) -> None:
        """One record whose own fields are already the JSON object `own` (no `ts`, `level`,
        `logger`, `message` or `request_id` in it); `fields` makes them as a mapping for the
        handlers that want a record."""
        if not self.enabled:
            return
        created = time.time() if created is None else created
        if self.streams:
            ts = timestamp(created).encode()
            self.pieces += (b'{"ts":"', ts, self.shared, own[1:], b"\n")
        if self.others:
            self.records.append((created, fields()))

    def write(self) -> None:
        """Write the lines added since the last write; hand the other handlers their records."""
        pieces, self.pieces = self.pieces, []
        records, self.records = self.records, []
        if pieces:
            data = b"".join(pieces)
            for stream in self.streams:
                _write(stream, data, lambda: self._record(time.time(), {}))
        for created, fields in records:
            record = self._record(created, fields)
            for handler in self.others:
                handler.handle(record)

    def _record(self, created: float, fields: Mapping[str, Any]) -> logging.LogRecord:
        """The record `logger.log(level, message, extra={"fields": fields})` makes, at
        `created`."""
        logger, extra = self.logger, {"fields": fields}
        record = logger.makeRecord(
            logger.name, self.level, __file__, 0, self.message, (), None, extra=extra
        )
        record.created = created
        record.msecs = int((created - int(created)) * 1000) + 0.0
        return record


_HEAD = frozenset(("ts", "level", "logger", "message", "request_id"))


def _handlers(logger: logging.Logger, level: int) -> list[logging.Handler]:
    """The handlers a record of `logger` at `level` reaches, as Logger.callHandlers finds
    them; a logger's own filters make it hand every record to `logger.handle` instead."""
    if logger.filters:
        return [_Handle(logger)]
    found: list[logging.Handler] = []
    reached = False
    current: logging.Logger | None = logger
    while current is not None:
        reached = reached or bool(current.handlers)
        found += [h for h in current.handlers if level >= h.level]
        current = current.parent if current.propagate else None
    if not reached and logging.lastResort and level >= logging.lastResort.level:
        found.append(logging.lastResort)
    return found


class _Handle(logging.Handler):
    """Hands each record to its logger, filters and all."""

    def __init__(self, logger: logging.Logger) -> None:
        super().__init__()
        self.logger = logger

    def handle(self, record: logging.LogRecord) -> bool:
        """The logger's own handling."""
        self.logger.handle(record)
        return True


def _plain_json_stream(handler: logging.Handler) -> TypeGuard["logging.StreamHandler[Any]"]:
    """A StreamHandler writing each record as our JSON line, with nothing else in between."""
    return (
        isinstance(handler, logging.StreamHandler)
        and type(handler).emit is logging.StreamHandler.emit
        and type(handler.formatter) is JsonFormatter
        and not handler.filters
        and handler.terminator == "\n"
    )


def _write(
    handler: "logging.StreamHandler[Any]", data: bytes, record: Callable[[], logging.LogRecord]
) -> None:
    """The lines in one write and one flush, as StreamHandler.emit writes one line: as bytes
    to a UTF-8 stream's buffer (what was written as text before flushed first), so that 1.7 MB
    of a batch is not decoded only to be encoded again."""
    stream = handler.stream
    try:
        handler.acquire()
        try:
            buffer = getattr(stream, "buffer", None)
            if buffer is not None and _utf8(getattr(stream, "encoding", None)):
                stream.flush()
                buffer.write(data)
                buffer.flush()
            else:
                stream.write(data.decode())
                if hasattr(stream, "flush"):
                    stream.flush()
        finally:
            handler.release()
    except RecursionError:
        raise
    except Exception:
        handler.handleError(record())


def _utf8(encoding: str | None) -> bool:
    """Whether a text stream's encoding writes our bytes unchanged."""
    return encoding is not None and codecs.lookup(encoding).name == "utf-8"


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
