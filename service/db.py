"""The database engine: SQLite (WAL, foreign keys) by default, PostgreSQL when configured."""

from functools import lru_cache
from typing import Any

import orjson
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import create_engine

from service.config import get_settings


def _json_text(value: Any) -> str:
    return orjson.dumps(value).decode()


# JSON columns (profiles, their versions) are written and read with orjson: several times
# faster than the standard library on every store.
_JSON = {"json_serializer": _json_text, "json_deserializer": orjson.loads}


def make_engine(url: str, *, sqlite_busy_seconds: float = 30.0) -> Engine:
    """An engine for a SQLAlchemy URL; SQLite gets WAL, foreign keys and a busy timeout.

    The service passes a short busy timeout: its SQLite writes run on the event loop and wait
    for another process's write lock by retrying (registry.run_write), not by blocking.
    """
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": sqlite_busy_seconds},
            **_JSON,
        )

        @event.listens_for(engine, "connect")
        def _pragmas(connection: Any, _record: Any) -> None:
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, **_JSON)


@lru_cache
def engine() -> Engine:
    """The process-wide engine for the configured database."""
    return make_engine(get_settings().database_url)
