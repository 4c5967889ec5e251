"""The soak's PostgreSQL database: made fresh, loaded with firms, counted, and dropped."""

import time
from collections.abc import Sequence
from typing import Any

import psycopg
from sqlalchemy import func, select

from bench.memory import load_firms
from service.core.clock import today
from service.core.database import make_engine
from service.core.migrate import upgrade_database
from service.core.tables import DELIVERY, DISCLOSURE, ENTERPRISE, EVENT, VERSION
from service.policy.catalogue import Catalogue
from service.policy.profile import Profile

ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def database_url(name: str) -> str:
    """The SQLAlchemy URL of a database on the local PostgreSQL."""
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def create(name: str, catalogue: Catalogue, firms: Sequence[Profile]) -> str:
    """A fresh database `name` (dropped first if there), migrated, holding `firms`; its URL."""
    try:
        admin = psycopg.connect(ADMIN, autocommit=True)
    except psycopg.OperationalError as e:
        raise SystemExit(f"PostgreSQL is needed at {ADMIN} (trust authentication): {e}") from e
    with admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    url = database_url(name)
    upgrade_database(url)
    started = time.perf_counter()
    engine = make_engine(url)
    load_firms(engine, catalogue, firms, today())  # the catalogue published, matches current
    engine.dispose()
    print(f"{name}: {len(firms):,} firms stored in {time.perf_counter() - started:.1f} s")
    return url


def drop(name: str) -> None:
    """Drop the database, ending any connection still open to it."""
    with psycopg.connect(ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def connections(name: str) -> int:
    """How many connections are open to the database (a leak would grow them)."""
    with psycopg.connect(ADMIN, autocommit=True) as admin:
        row = admin.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", (name,)
        ).fetchone()
    return int(row[0]) if row else 0


def contents(url: str) -> dict[str, Any]:
    """What the run left stored: firms, versions, events, deliveries by state, disclosures."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:

            def count(table: Any) -> int:
                return int(connection.execute(select(func.count()).select_from(table)).scalar_one())

            states = connection.execute(
                select(DELIVERY.c.state, func.count()).group_by(DELIVERY.c.state)
            ).all()
            return {
                "firms": count(ENTERPRISE),
                "versions": count(VERSION),
                "events": count(EVENT),
                "deliveries": {state: int(n) for state, n in sorted(states)},
                "disclosures": count(DISCLOSURE),
            }
    finally:
        engine.dispose()
