"""Retention on SQLite and PostgreSQL: events, deliveries and attempts older than the setting are
pruned in bounded batches, by `policy-match prune` and once a day by a worker; the feed answers
410 Gone to a cursor from before what it keeps."""

import asyncio
import math
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select, update

from service.core.cursors import cursor_owner
from service.core.migrate import upgrade_database
from service.core.tables import ATTEMPT, DELIVERY, EVENT, utcnow
from service.push.retention import claim_daily_prune, prune, retention_state
from service.worker import Worker
from tests.conftest import TEST_SETTINGS, Token, serve
from tests.factories import FAST, deliver_until, engine_of, firm, put, subscribe, worker_for
from tests.receiver import Receiver


@pytest.fixture
def aged(empty_database: str, receiver: Receiver, auth: Token) -> Iterator[TestClient]:
    """A service whose first firms' events (delivered, so with attempts) are 100 days old."""
    upgrade_database(empty_database)
    with serve(empty_database, **FAST) as client:
        subscribe(client, auth, receiver)
        for _ in range(3):
            assert put(client, auth, firm()).status_code == 201
        engine = engine_of(client)
        deliver_until(
            worker_for(client), lambda: bool(receiver.acknowledged()) and not pending(engine)
        )
        with engine.begin() as connection:
            connection.execute(update(EVENT).values(occurred_at=utcnow() - timedelta(days=100)))
        for _ in range(2):  # and some of today
            assert put(client, auth, firm()).status_code == 201
        yield client


def pending(engine: Engine) -> int:
    """Deliveries pending."""
    with engine.connect() as connection:
        return int(
            connection.execute(
                select(func.count()).select_from(DELIVERY).where(DELIVERY.c.state == "pending")
            ).scalar_one()
        )


def counts(engine: Engine) -> tuple[int, int, int, int]:
    """Events, deliveries, attempts, and the highest old event's position."""
    with engine.connect() as connection:
        old = select(func.max(EVENT.c.id)).where(
            EVENT.c.occurred_at < utcnow() - timedelta(days=90)
        )
        return (
            connection.execute(select(func.count()).select_from(EVENT)).scalar_one(),
            connection.execute(select(func.count()).select_from(DELIVERY)).scalar_one(),
            connection.execute(select(func.count()).select_from(ATTEMPT)).scalar_one(),
            connection.execute(old).scalar() or 0,
        )


def test_prune_removes_what_is_older_than_the_retention_in_bounded_batches(
    aged: TestClient, auth: Token
) -> None:
    engine = engine_of(aged)
    events, deliveries, attempts, last_old = counts(engine)
    with engine.connect() as connection:
        old_events = connection.execute(
            select(func.count()).select_from(EVENT).where(EVENT.c.id <= last_old)
        ).scalar_one()
    assert 0 < old_events < events and attempts > 0
    report = asyncio.run(prune(engine, retention_days=90, batch_events=4))
    assert report.events == old_events
    assert report.batches == math.ceil(old_events / 4)  # no batch of more than 4 events
    assert report.deliveries == old_events  # one subscription: a delivery each
    assert report.attempts >= old_events
    assert report.through == last_old
    after = counts(engine)
    assert after[:3] == (events - old_events, deliveries - old_events, attempts - report.attempts)
    with engine.connect() as connection:
        assert retention_state(connection)["pruned_through"] == last_old
        assert connection.execute(select(func.min(EVENT.c.id))).scalar_one() > last_old
    again = asyncio.run(prune(engine, retention_days=90, batch_events=4))
    assert (again.events, again.batches, again.through) == (0, 0, last_old)


def test_the_feed_answers_410_to_a_cursor_before_the_window(aged: TestClient, auth: Token) -> None:
    first = aged.get("/v1/push-events?limit=1", headers=auth("push")).json()
    asyncio.run(prune(engine_of(aged), retention_days=90))
    stale = aged.get(
        "/v1/push-events", params={"after": first["next_cursor"]}, headers=auth("push")
    )
    assert stale.status_code == 410
    assert stale.headers["content-type"] == "application/problem+json"
    assert stale.json()["type"].endswith("/gone") and "after" in stale.json()["detail"]
    fresh = aged.get("/v1/push-events", headers=auth("push")).json()
    kept = [e["sequence"] for e in fresh["items"]]
    with engine_of(aged).connect() as connection:
        through = retention_state(connection)["pruned_through"]
    assert kept and min(kept) > through
    keys = aged.app.state.cursor_keys  # type: ignore[attr-defined]
    mark = keys.feed_cursor(through, cursor_owner("test-suite"))
    at_mark = aged.get("/v1/push-events", params={"after": mark}, headers=auth("push"))
    assert at_mark.status_code == 200 and [e["sequence"] for e in at_mark.json()["items"]] == kept
    pruned_id = first["items"][0]["event_id"]
    assert aged.get(f"/v1/push-events/{pruned_id}", headers=auth("push")).status_code == 404
    declared = aged.get("/openapi.json").json()["paths"]["/v1/push-events"]["get"]["responses"]
    assert "410" in declared


def test_a_delivery_claimed_under_a_live_lease_stops_the_prune_before_its_event(
    aged: TestClient,
) -> None:
    engine = engine_of(aged)
    _, _, _, last_old = counts(engine)
    with engine.connect() as connection:
        ids = list(connection.execute(select(EVENT.c.id).order_by(EVENT.c.id)).scalars())
    held = ids[2]
    with engine.begin() as connection:
        connection.execute(
            update(DELIVERY)
            .where(DELIVERY.c.event_id == held)
            .values(claim="in-flight", next_attempt_at=utcnow() + timedelta(minutes=1))
        )
    report = asyncio.run(prune(engine, retention_days=90, batch_events=100))
    assert report.through == held - 1 < last_old
    with engine.connect() as connection:
        assert connection.execute(select(func.min(EVENT.c.id))).scalar_one() == held


def test_one_worker_a_day_prunes(aged: TestClient) -> None:
    engine = engine_of(aged)
    settings = aged.app.state.settings  # type: ignore[attr-defined]
    first = Worker(engine, settings, aged.app.state, name="first")  # type: ignore[attr-defined]
    second = Worker(engine, settings, aged.app.state, name="second")  # type: ignore[attr-defined]
    _, _, _, last_old = counts(engine)
    asyncio.run(first.keep_capacity())
    with engine.connect() as connection:
        state = retention_state(connection)
    assert state["pruned_through"] == last_old and state["pruned_at"] is not None
    with engine.begin() as connection:  # an old event written since: not pruned until tomorrow
        connection.execute(
            update(EVENT)
            .where(EVENT.c.id == last_old + 1)
            .values(occurred_at=utcnow() - timedelta(days=100))
        )
    asyncio.run(second.keep_capacity())
    with engine.connect() as connection:
        assert retention_state(connection)["pruned_through"] == last_old
    with engine.begin() as connection:
        assert not claim_daily_prune(connection)
        assert claim_daily_prune(connection, now=utcnow() + timedelta(days=1, seconds=1))


@pytest.mark.slow
def test_policy_match_prune_says_what_it_removed_in_chinese_first(
    aged: TestClient, tmp_path: Path
) -> None:
    engine = engine_of(aged)
    events_before = counts(engine)[0]
    env = {
        **os.environ,
        "POLICY_MATCH_DATABASE_URL": str(engine.url.render_as_string(hide_password=False)),
        "POLICY_MATCH_ENVIRONMENT": "test",
        "POLICY_MATCH_PUSH_RETENTION_DAYS": "90",
        "LANG": "C.UTF-8",  # no locale: Chinese first, whatever the machine's
        "LC_ALL": "",
        "LC_MESSAGES": "",
    }
    done = subprocess.run(
        [sys.executable, "-m", "service.cli", "prune", "--batch", "3"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    pruned = events_before - counts(engine)[0]
    assert pruned > 0
    assert done.stdout.startswith(f"已清理 {pruned} 个推送事件"), done.stdout
    assert "保留 90 天" in done.stdout
    english = subprocess.run(
        [sys.executable, "-m", "service.cli", "--lang", "en", "prune", "--days", "1"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert english.returncode == 0 and english.stdout.startswith("pruned 0 push events")
    assert TEST_SETTINGS.push_retention_days == 90  # the default the README gives
