"""Shared fixtures: databases on both backends, the application, tokens."""

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from service.api.auth import issue_token
from service.core.database import make_engine
from service.core.migrate import upgrade_database
from service.core.settings import Settings
from service.main import create_app
from tests.policy_copies import copy_policies
from tests.receiver import Receiver, start_receiver

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
    except Exception as e:
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


# The PostgreSQL half is slow (a database made and dropped per module): -m "not slow" leaves it.
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)]


def _database(backend: str, folder: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'policy_match.db'}"
    else:
        yield from _postgres_database()


@pytest.fixture(params=BACKENDS)
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database, once on SQLite and once on PostgreSQL."""
    yield from _database(request.param, tmp_path)


@pytest.fixture
def postgresql_database() -> Iterator[str]:
    """The URL of an empty PostgreSQL database (for what only PostgreSQL can show)."""
    yield from _postgres_database()


@pytest.fixture(params=BACKENDS, scope="module")
def database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A migrated database shared by one test module, once on each backend."""
    for url in _database(request.param, tmp_path_factory.mktemp(request.param)):
        upgrade_database(url)
        yield url


@pytest.fixture(scope="module")
def engine(database: str) -> Iterator[Engine]:
    """An engine on the module's migrated database (each backend in turn)."""
    engine = make_engine(database)
    yield engine
    engine.dispose()


@pytest.fixture
def policies(tmp_path: Path) -> Path:
    """A copy of the real policies folder to break."""
    return copy_policies(tmp_path)


# --- the application, with tokens ------------------------------------------------------------

TEST_SETTINGS = Settings(
    environment="test",
    jwt_secret=SecretStr("test-secret-that-is-long-enough-0001"),
    # receivers in the tests listen on loopback; push tests start the worker they need
    push_allow_internal_targets=True,
    push_worker_in_process=False,
    # the suite calls fast and often as one subject; tests of the limits set their own
    rate_limit_match="none",
    rate_limit_bank_query="none",
    log_json=False,  # pytest keeps its own log capture
)
Token = Callable[..., dict[str, str]]


def serve(database_url: str, **settings: Any) -> TestClient:
    """A started service (catalogue loaded) on a database, speaking HTTP in-process."""
    app = create_app(TEST_SETTINGS.model_copy(update={"database_url": database_url, **settings}))
    return TestClient(app)


@pytest.fixture(scope="session")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The service on a migrated SQLite database of its own."""
    url = f"sqlite:///{tmp_path_factory.mktemp('service') / 'policy_match.db'}"
    upgrade_database(url)
    with serve(url) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def registry(database: str) -> Iterator[TestClient]:
    """The service on a migrated database shared by one module, on each backend in turn."""
    with serve(database) as test_client:
        yield test_client


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A real HTTP receiver of push deliveries on loopback."""
    yield from start_receiver()


@pytest.fixture(scope="session")
def auth() -> Token:
    """Headers carrying a token with the given scopes (and bank_id)."""

    def headers(
        *scopes: str, bank_id: str | None = None, subject: str = "test-suite", **extra: str
    ) -> dict[str, str]:
        token, _ = issue_token(
            subject=subject, scopes=scopes, bank_id=bank_id, settings=TEST_SETTINGS
        )
        return {"Authorization": f"Bearer {token}", **extra}

    return headers
