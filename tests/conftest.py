"""Shared fixtures: databases on both backends."""

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

POSTGRES_URL = os.environ.get(
    "POLICY_MATCH_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REQUIRE_POSTGRES = os.environ.get("POLICY_MATCH_REQUIRE_POSTGRES") == "1"


def _postgres_database() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test module, dropped afterwards."""
    admin_url = make_url(POSTGRES_URL)
    try:
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text("select 1"))
    except Exception as e:  # noqa: BLE001 - any failure to connect means "not here"
        if REQUIRE_POSTGRES:
            raise
        pytest.skip(
            f"PostgreSQL not reachable at {POSTGRES_URL} ({type(e).__name__}); start it or set "
            "POLICY_MATCH_TEST_POSTGRES_URL to run the PostgreSQL half of the database tests"
        )
    name = f"pm_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'policy_match.db'}"
    else:
        yield from _postgres_database()
