"""The targets over time (progress_history) on SQLite and PostgreSQL: firms stored, changed,
expired and deleted in past quarters counted as their history had them then."""

from datetime import UTC, date, datetime
from typing import Any

import orjson
import pytest
from sqlalchemy import update

from service.core.clock import today
from service.core.database import make_engine
from service.core.migrate import upgrade_database
from service.core.tables import VERSION
from service.policy.examples import synthetic_uscc
from service.registry.demo import synthetic_profiles
from service.registry.progress import fold_progress, plan_progress
from service.registry.progress_history import (
    MAX_QUARTERS,
    Quarter,
    forget_history,
    history_query,
    past_quarters,
    progress_history,
    quarters,
)
from tests.conftest import Token, serve
from tests.factories import import_quietly, real_catalogue

CATALOGUE = real_catalogue()
TODAY = date(2025, 8, 20)


def _uscc(n: int) -> str:
    return synthetic_uscc(f"9144070{n:02d}MA5XXXXX")


def _firm(n: int, tier: str, until: str | None) -> dict[str, Any]:
    profile: dict[str, Any] = {"uscc": _uscc(n), "county": "440703", "tier": tier}
    if until is not None:
        profile["tier_valid_until"] = until
    return profile


def test_quarters_run_from_the_plan_to_today() -> None:
    found = quarters(date(2024, 1, 30), TODAY)
    assert [q.label for q in found] == [
        "2024Q1",
        "2024Q2",
        "2024Q3",
        "2024Q4",
        "2025Q1",
        "2025Q2",
        "2025Q3",
    ]
    assert found[0] == Quarter("2024Q1", date(2024, 3, 31), running=False)
    assert found[3].last_day == date(2024, 12, 31)
    assert found[-1] == Quarter("2025Q3", date(2025, 9, 30), running=True)
    assert len(quarters(date(2000, 1, 1), TODAY)) == MAX_QUARTERS


def test_each_quarter_counts_the_firms_as_they_stood(empty_database: str, auth: Token) -> None:
    upgrade_database(empty_database)
    forget_history()
    write = auth("enterprises:write")
    # (firm, version) -> when it was written
    moments = {
        # A: a little giant since May 2024, valid to 2030
        (1, 1): datetime(2024, 5, 1, tzinfo=UTC),
        # B: a little giant from August 2024 whose recognition ran out on 1 March 2025
        (2, 1): datetime(2024, 8, 1, tzinfo=UTC),
        # C: provincial in May 2024, a little giant from February 2025
        (3, 1): datetime(2024, 5, 2, tzinfo=UTC),
        (3, 2): datetime(2025, 2, 10, tzinfo=UTC),
        # D: a little giant from May 2024 without its validity (unknown), deleted in May 2025
        (4, 1): datetime(2024, 5, 3, tzinfo=UTC),
        (4, 2): datetime(2025, 5, 5, tzinfo=UTC),
        # E: stored in the running quarter
        (5, 1): datetime(2025, 7, 1, tzinfo=UTC),
    }
    with serve(empty_database) as client:
        for profile in (
            _firm(1, "little_giant", "2030-12-31"),
            _firm(2, "little_giant", "2025-03-01"),
            _firm(3, "provincial", "2030-12-31"),
            _firm(3, "little_giant", "2030-12-31"),
            _firm(4, "little_giant", None),
            _firm(5, "little_giant", "2030-12-31"),
        ):
            answer = client.put(f"/v1/enterprises/{profile['uscc']}", json=profile, headers=write)
            assert answer.status_code in (200, 201), answer.text
        assert client.delete(f"/v1/enterprises/{_uscc(4)}", headers=write).status_code == 204
    engine = make_engine(empty_database)
    try:
        with engine.begin() as connection:
            for (n, version), when in moments.items():
                connection.execute(
                    update(VERSION)
                    .where(VERSION.c.uscc == _uscc(n), VERSION.c.version == version)
                    .values(changed_at=when)
                )
        with engine.connect() as connection:
            history = progress_history(connection, CATALOGUE, TODAY, include_synthetic=False)
            now = plan_progress(connection, CATALOGUE, TODAY, county=None, include_synthetic=False)
            again = progress_history(connection, CATALOGUE, TODAY, include_synthetic=False)
            # the one statement for every quarter counts as one statement per quarter does
            days = [p.day for p in history[:-1]]
            for include_synthetic in (False, True):
                together = past_quarters(
                    connection, CATALOGUE, days, include_synthetic=include_synthetic
                )
                for day in days:
                    query, laid = history_query(
                        CATALOGUE,
                        day,
                        include_synthetic=include_synthetic,
                        dialect=connection.dialect.name,
                    )
                    assert together[day] == fold_progress(connection.execute(query), laid), day
    finally:
        engine.dispose()
    giants = {
        p.quarter.label: (
            p.progress.total("little-giants").count,
            p.progress.total("little-giants").unknown,
        )
        for p in history
    }
    assert giants == {
        "2024Q1": (0, 0),
        "2024Q2": (1, 1),  # A; D's tier without its validity is unknown
        "2024Q3": (2, 1),  # A, B
        "2024Q4": (2, 1),
        "2025Q1": (2, 1),  # A, C; B ran out on 1 March
        "2025Q2": (2, 0),  # A, C; D deleted
        "2025Q3": (3, 0),  # A, C, E: today's count
    }
    assert history[-1].progress == now
    assert history[-1].day == TODAY and history[1].day == date(2024, 6, 30)
    assert [p.progress for p in again] == [p.progress for p in history]
    provincial = {
        p.quarter.label: p.progress.total("provincial-specialised").count for p in history
    }
    assert provincial["2024Q2"] == 2  # A and C (provincial); D unknown


@pytest.fixture(scope="module")
def stored_firms(database: str, auth: Token, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Real firms (some thinned, some deleted) and imported synthetic ones, stored today."""
    everyone = synthetic_profiles(90, seed=31)
    write = auth("enterprises:write")
    with serve(database) as client:
        for n, profile in enumerate(everyone[:70]):
            body = profile.model_dump(mode="json", exclude_unset=True)
            if n % 6 == 0:
                body.pop("tier_valid_until", None)
            if n % 5 == 0:
                body.pop("rd_institution", None)
            answer = client.put(f"/v1/enterprises/{body['uscc']}", json=body, headers=write)
            assert answer.status_code == 201, answer.text
            if n % 9 == 0:
                gone = client.delete(f"/v1/enterprises/{body['uscc']}", headers=write)
                assert gone.status_code == 204
    lines = tmp_path_factory.mktemp("history") / "demo.jsonl"
    lines.write_bytes(
        b"".join(
            orjson.dumps(p.model_dump(mode="json", exclude_unset=True)) + b"\n"
            for p in everyone[70:]
        )
    )
    report = import_quietly(lines, database, synthetic=True)
    assert report.stored == 20 and not report.bad
    return database


def test_the_history_of_today_is_todays_count(stored_firms: str) -> None:
    engine = make_engine(stored_firms)
    try:
        with engine.connect() as connection:
            dialect = connection.dialect.name
            for include_synthetic in (False, True):
                now = plan_progress(
                    connection, CATALOGUE, today(), county=None, include_synthetic=include_synthetic
                )
                assert sum(t.count for t in now.tallies["provincial-specialised"].values()) > 0
                query, laid = history_query(
                    CATALOGUE, today(), include_synthetic=include_synthetic, dialect=dialect
                )
                assert fold_progress(connection.execute(query), laid) == now
                # before the firms were stored, nothing counts
                query, laid = history_query(
                    CATALOGUE,
                    date(2025, 6, 1),
                    include_synthetic=include_synthetic,
                    dialect=dialect,
                )
                before = fold_progress(connection.execute(query), laid)
                assert all(county == {} for county in before.tallies.values())
    finally:
        engine.dispose()
