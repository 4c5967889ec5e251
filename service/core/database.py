"""The database engine (SQLite with WAL by default, PostgreSQL when configured), writes, and
what its failures mean (a schema not migrated, a statement cancelled)."""

import asyncio
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from threading import Lock
from typing import Any, TypeVar

import orjson
from anyio.to_thread import run_sync
from sqlalchemy import Connection, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlmodel import create_engine

from service.core.errors import Unavailable
from service.core.i18n import message

QUERY_CANCELED = "57014"  # PostgreSQL: statement_timeout (or a cancel) stopped the statement
# PostgreSQL: no such table / column; SQLite says it in words: the schema is not migrated
SCHEMA_MISSING = frozenset({"42P01", "42703"})
UNMIGRATED = message(
    "the database has no schema or an old one (not migrated): the operator must run "
    "`alembic upgrade head` (or start with `policy-match serve`, which migrates); try again later"
)


def _json_text(value: Any) -> str:
    return orjson.dumps(value).decode()


# JSON columns (profiles, their versions) are written and read with orjson: several times
# faster than the standard library on every store. Statement parameters (credit codes, names,
# revenue) never appear in an error's text, so never in a log or the import's output.
_ENGINE: dict[str, Any] = {
    "json_serializer": _json_text,
    "json_deserializer": orjson.loads,
    "hide_parameters": True,
}


def make_engine(
    url: str, *, sqlite_busy_seconds: float = 30.0, statement_timeout_ms: int = 0
) -> Engine:
    """An engine for a SQLAlchemy URL; SQLite gets WAL, foreign keys and a busy timeout.

    The service passes a short busy timeout: its SQLite writes run on the event loop and wait
    for another process's write lock by retrying (run_write), not by blocking. On
    PostgreSQL, `statement_timeout_ms` (0: none) has the server cancel a statement that runs,
    or waits for a lock, longer than that.
    """
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": sqlite_busy_seconds},
            **_ENGINE,
        )

        @event.listens_for(engine, "connect")
        def _pragmas(connection: Any, _record: Any) -> None:
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    connect_args = {"options": f"-c statement_timeout={statement_timeout_ms}"}
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=20,
        connect_args=connect_args if url.startswith("postgresql") else {},
        **_ENGINE,
    )


_sqlite_writers: dict[int, Lock] = {}


def writing(engine: Engine) -> AbstractContextManager[Any]:
    """Hold this process's SQLite write lock (writers queue here, not in SQLite's busy wait)."""
    if engine.dialect.name != "sqlite":
        return nullcontext()
    return _sqlite_writers.setdefault(id(engine), Lock())


def _writer_busy(engine: Engine) -> bool:
    """Whether a thread of this process holds the SQLite write lock now (an import job storing a
    batch): a write on the loop would block every request until it is released, so it waits for
    it in the thread pool instead."""
    lock = _sqlite_writers.get(id(engine))
    return lock is not None and lock.locked()


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A connection in a write transaction, committed on success."""
    with writing(engine), engine.begin() as connection:
        yield connection


T = TypeVar("T")
LOCK_WAIT_SECONDS = 30.0  # how long a write waits for another process's SQLite write lock
LOCK_RETRY_SECONDS = 0.05


def _in_transaction(engine: Engine, work: Callable[[Connection], T]) -> T:
    with write_transaction(engine) as connection:
        return work(connection)


def _on_connection(engine: Engine, work: Callable[[Connection], T]) -> T:
    with engine.connect() as connection:
        return work(connection)


async def run_read(engine: Engine, work: Callable[[Connection], T]) -> T:
    """`work(connection)` on a connection of its own, in the thread pool."""
    return await run_sync(_on_connection, engine, work)


async def run_write(engine: Engine, work: Callable[[Connection], T]) -> T:
    """`work(connection)` in a write transaction: on PostgreSQL in the thread pool, on SQLite on
    the loop itself.

    SQLite takes one writer at a time and a write takes well under a millisecond, so handing
    it to a thread costs more than it does (measured: 520 against 900 stores per second).
    On SQLite the work therefore runs right here; when another process holds the write lock
    (the engine's busy timeout is short, see make_engine) it is retried after a pause that
    lets the loop serve other requests, for at most LOCK_WAIT_SECONDS. When a thread of this
    process holds it (an import job storing a batch), the work waits for it in the thread pool,
    not on the loop.
    """
    if engine.dialect.name != "sqlite":
        return await run_sync(_in_transaction, engine, work)
    return await _waiting_for_lock(engine, work, in_thread=False)


async def run_long_write(engine: Engine, work: Callable[[Connection], T]) -> T:
    """run_write() for a write that takes long (an export's record of 100,000 firms): in the
    thread pool on SQLite too, so that the loop serves other requests meanwhile (a writer of
    this process that comes along waits for this one's lock, as it would have anyway)."""
    if engine.dialect.name != "sqlite":
        return await run_sync(_in_transaction, engine, work)
    return await _waiting_for_lock(engine, work, in_thread=True)


async def _waiting_for_lock(
    engine: Engine, work: Callable[[Connection], T], *, in_thread: bool
) -> T:
    """The SQLite write, retried while another process holds the lock, LOCK_WAIT_SECONDS."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + LOCK_WAIT_SECONDS
    while True:
        try:
            if in_thread or _writer_busy(engine):
                return await run_sync(_in_transaction, engine, work)
            return _in_transaction(engine, work)
        except OperationalError as e:
            if "locked" not in str(e.orig):
                raise
            if loop.time() > deadline:
                raise Unavailable(
                    message("the database is busy with another writer; try again shortly"),
                    headers={"Retry-After": "5"},
                ) from e
        await asyncio.sleep(LOCK_RETRY_SECONDS)


def schema_missing(exc: DBAPIError) -> bool:
    """Whether the database failed because a table or column the service uses is not there."""
    if getattr(exc.orig, "sqlstate", None) in SCHEMA_MISSING:
        return True
    text = str(exc.orig)
    return text.startswith(("no such table", "no such column"))
