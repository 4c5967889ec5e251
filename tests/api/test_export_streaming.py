"""A bank's export is recorded before its first byte, and streamed: read over real HTTP."""

import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from service.api.auth import issue_token
from service.api.routes import eligibility
from service.banks import eligible_export
from service.core import spreadsheets
from service.core.clock import today
from service.core.database import make_engine
from service.core.migrate import upgrade_database
from service.core.tables import DISCLOSURE
from service.main import create_app
from service.policy.profile import Profile
from tests.api.test_banks import LOAN, bank, eligible
from tests.api.test_openapi_client import served
from tests.conftest import TEST_SETTINGS
from tests.factories import store_directly

pytestmark = pytest.mark.slow  # a uvicorn server, and PostgreSQL
FIRMS = 30


def test_the_disclosure_is_committed_before_the_first_byte(
    empty_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    upgrade_database(empty_database)
    engine = make_engine(empty_database)
    mine = bank()
    profiles = [Profile.model_validate(eligible(bank_consents=[mine])) for _ in range(FIRMS)]
    store_directly(engine, profiles, day=today())

    # the server writes a chunk per row and, after the first row, waits for the test to look
    looked = threading.Event()
    rows_of = eligible_export.eligible_rows

    def held_rows(*args: Any) -> Iterator[list[Any]]:
        rows = rows_of(*args)
        yield next(rows)
        assert looked.wait(timeout=30)
        yield from rows

    monkeypatch.setattr(spreadsheets, "CHUNK_BYTES", 1)
    monkeypatch.setattr(eligibility, "eligible_rows", held_rows)
    token, _ = issue_token(
        subject="bank", scopes=("eligibility:read",), bank_id=mine, settings=TEST_SETTINGS
    )
    app = create_app(TEST_SETTINGS.model_copy(update={"database_url": empty_database}))
    try:
        with (
            served(app) as base,
            httpx.stream(
                "GET",
                base + LOAN,
                params={"format": "csv"},
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
            ) as answer,
        ):
            assert answer.status_code == 200
            chunks = answer.iter_raw()
            first = next(chunks)
            assert first.count(b"\r\n") == 2  # the header and one firm: the rest is held
            with engine.connect() as connection:  # committed: another connection sees it
                counts = connection.execute(
                    select(DISCLOSURE.c.firm_count).where(DISCLOSURE.c.bank_id == mine)
                ).all()
            assert [c.firm_count for c in counts] == [FIRMS]  # one record, naming every firm
            looked.set()
            body = first + b"".join(chunks)
    finally:
        looked.set()
        engine.dispose()
    assert body.count(b"\r\n") == FIRMS + 1
