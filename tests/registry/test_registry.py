"""The registry under concurrent writes, on SQLite and PostgreSQL: nothing lost, nothing doubled."""

import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from service.core.database import write_transaction
from service.core.migrate import upgrade_database
from service.core.tables import ENTERPRISE, VERSION, Enterprise
from service.policy.catalogue import Catalogue
from service.policy.profile import Profile
from service.registry.store import StoreResult, fact_columns, store_profile
from tests.conftest import Token, serve
from tests.factories import DAY, firm, real_catalogue

WRITERS = 12


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    """The real catalogue."""
    return real_catalogue()


def _store(engine: Engine, catalogue: Catalogue, profile: Profile, who: str) -> StoreResult:
    with write_transaction(engine) as connection:
        return store_profile(connection, catalogue, profile, changed_by=who, day=DAY)


def test_concurrent_writes_of_one_firm_each_become_a_version(
    engine: Engine, catalogue: Catalogue
) -> None:
    base = firm()
    profiles = [Profile.model_validate({**base, "employees": 100 + i}) for i in range(WRITERS)]
    with ThreadPoolExecutor(WRITERS) as pool:
        results = list(
            pool.map(lambda ip: _store(engine, catalogue, ip[1], f"w{ip[0]}"), enumerate(profiles))
        )
    assert sum(r.created for r in results) == 1  # exactly one of the racing first writes created
    assert sorted(r.stored.version for r in results) == list(range(1, WRITERS + 1))
    with engine.connect() as connection:
        rows = connection.execute(
            select(func.count()).select_from(ENTERPRISE).where(ENTERPRISE.c.uscc == base["uscc"])
        ).scalar_one()
        versions = connection.execute(
            select(VERSION.c.version, VERSION.c.profile)
            .where(VERSION.c.uscc == base["uscc"])
            .order_by(VERSION.c.version)
        ).all()
        stored = connection.execute(
            select(ENTERPRISE.c.profile, ENTERPRISE.c.version, ENTERPRISE.c.employees).where(
                ENTERPRISE.c.uscc == base["uscc"]
            )
        ).one()
    assert rows == 1
    assert [v.version for v in versions] == list(range(1, WRITERS + 1))
    # every write is in the history, and the stored row is the last one applied
    assert sorted(v.profile["employees"] for v in versions) == [100 + i for i in range(WRITERS)]
    assert stored.version == WRITERS
    assert stored.profile == versions[-1].profile
    assert stored.employees == stored.profile["employees"]


def test_typed_columns_follow_the_profile(engine: Engine, catalogue: Catalogue) -> None:
    profile = Profile.model_validate({**firm(), "cluster": None, "tier_valid_until": "2026-12-31"})
    del_fields = {"sub_industry", "has_bank_loan"}
    profile = Profile.model_validate(
        {k: v for k, v in profile.model_dump(exclude_unset=True).items() if k not in del_fields}
    )
    _store(engine, catalogue, profile, "t")
    expected = fact_columns(profile)
    assert expected["cluster"] is None and expected["cluster_given"] is True
    assert expected["sub_industry"] is None and expected["sub_industry_given"] is False
    assert expected["has_bank_loan"] is None
    with engine.connect() as connection:
        row = connection.execute(select(ENTERPRISE).where(ENTERPRISE.c.uscc == profile.uscc)).one()
    stored = row._mapping
    for column, value in expected.items():
        assert stored[column] == value, column


def test_every_profile_field_has_a_typed_column() -> None:
    columns = set(Enterprise.model_fields)
    assert set(Profile.model_fields) - {"bank_consents"} <= columns


def test_a_store_waits_out_another_process_holding_the_sqlite_write_lock(
    tmp_path: Path, auth: Token
) -> None:
    url = f"sqlite:///{tmp_path / 'locked.db'}"
    upgrade_database(url)
    holder = sqlite3.connect(tmp_path / "locked.db", isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")  # as an import in another process would
    release = threading.Timer(0.6, holder.execute, args=("COMMIT",))
    body = firm()
    with serve(url) as client:
        release.start()
        started = time.monotonic()
        response = client.put(
            f"/v1/enterprises/{body['uscc']}", json=body, headers=auth("enterprises:write")
        )
        waited = time.monotonic() - started
    release.join()
    holder.close()
    assert response.status_code == 201, response.text
    assert waited >= 0.5  # it waited for the lock rather than failing


def test_a_lock_held_too_long_is_a_503_and_stores_nothing(
    tmp_path: Path, auth: Token, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("service.core.database.LOCK_WAIT_SECONDS", 0.3)
    url = f"sqlite:///{tmp_path / 'held.db'}"
    upgrade_database(url)
    holder = sqlite3.connect(tmp_path / "held.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    body = firm()
    with serve(url) as client:
        refused = client.put(
            f"/v1/enterprises/{body['uscc']}", json=body, headers=auth("enterprises:write")
        )
        holder.execute("COMMIT")
        absent = client.get(f"/v1/enterprises/{body['uscc']}", headers=auth("enterprises:read"))
    holder.close()
    assert refused.status_code == 503
    assert refused.headers["retry-after"] == "5"
    assert refused.headers["content-type"] == "application/problem+json"
    assert absent.status_code == 404
