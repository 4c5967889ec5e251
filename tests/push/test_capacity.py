"""Push capacity on SQLite and PostgreSQL: a caller holds a bounded number of subscriptions, and
a subscription a bounded number of pending deliveries; what is not queued is counted and can be
read from the feed. The blow-up of issue 11 (many subscriptions, one import) at small scale."""

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from service.core.clock import today
from service.core.database import run_write
from service.core.migrate import upgrade_database
from service.core.tables import DELIVERY, EVENT, SUBSCRIPTION
from service.push.capacity import recount_pending
from service.registry.demo import write_demo_file
from service.registry.importing import import_file
from service.worker import Worker
from tests.conftest import Token, serve
from tests.factories import FAST, deliver_until, engine_of, firm, put, refresh, worker_for
from tests.receiver import Receiver

MAX_PENDING = 25
PER_CALLER = 4
COUNTIES = ["440703", "440781", "440783"]


@pytest.fixture
def crowded(empty_database: str) -> Iterator[TestClient]:
    """A service with small caps, on a database of its own."""
    upgrade_database(empty_database)
    with serve(
        empty_database,
        push_max_pending_per_subscription=MAX_PENDING,
        push_max_subscriptions_per_caller=PER_CALLER,
        **FAST,
    ) as client:
        yield client


def make(client: TestClient, auth: Token, caller: str, url: str, **filters: Any) -> Any:
    """POST /v1/subscriptions as `caller`."""
    return client.post(
        "/v1/subscriptions", json={"url": url, **filters}, headers=auth("push", subject=caller)
    )


def read(client: TestClient, auth: Token, subscription_id: str) -> dict[str, Any]:
    """GET one subscription."""
    answer = client.get(f"/v1/subscriptions/{subscription_id}", headers=auth("push"))
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def test_a_caller_holds_at_most_its_quota_and_ended_ones_do_not_count(
    crowded: TestClient, auth: Token
) -> None:
    made = [make(crowded, auth, "platform-q", f"https://q{n}.example.cn/h") for n in range(4)]
    assert [m.status_code for m in made] == [201] * PER_CALLER
    assert made[0].json()["capacity"] == {
        "max_pending": MAX_PENDING,
        "events_not_queued": 0,
        "not_queued": None,
    }
    refused = make(crowded, auth, "platform-q", "https://q5.example.cn/h")
    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
    problem = refused.json()
    assert problem["type"].endswith("/too-many-subscriptions")
    assert "platform-q" in problem["detail"] and str(PER_CALLER) in problem["detail"]
    assert make(crowded, auth, "platform-r", "https://r.example.cn/h").status_code == 201
    ended = made[0].json()["id"]
    assert crowded.delete(f"/v1/subscriptions/{ended}", headers=auth("push")).status_code == 204
    assert make(crowded, auth, "platform-q", "https://q6.example.cn/h").status_code == 201
    assert make(crowded, auth, "platform-q", "https://q7.example.cn/h").status_code == 409
    listed = crowded.get("/v1/subscriptions", headers=auth("push")).json()["items"]
    assert sum(s["created_by"] == "platform-q" for s in listed) == PER_CALLER + 1  # one ended
    declared = crowded.get("/openapi.json").json()["paths"]["/v1/subscriptions"]["post"]
    assert "409" in declared["responses"]


def exact_pending(engine: Engine) -> dict[str, int]:
    """Pending deliveries by subscription, counted from the deliveries."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(DELIVERY.c.subscription_id, func.count())
            .where(DELIVERY.c.state == "pending")
            .group_by(DELIVERY.c.subscription_id)
        ).all()
    return {s: int(n) for s, n in rows}


def events_passing(engine: Engine, counties: list[str] | None) -> list[int]:
    """The feed positions of the events a subscription with these counties passes."""
    query = select(EVENT.c.id).order_by(EVENT.c.id)
    if counties is not None:
        query = query.where(EVENT.c.county.in_(counties))
    with engine.connect() as connection:
        return [int(i) for i in connection.execute(query).scalars()]


def catch_up(client: TestClient, auth: Token, cursor: str, caller: str) -> list[int]:
    """Every feed position from this cursor on, page by page, as a subscriber catches up (the
    cursor is bound to the caller who made the subscription)."""
    positions: list[int] = []
    while True:
        page = client.get(
            "/v1/push-events",
            params={"after": cursor, "limit": 1000},
            headers=auth("push", subject=caller),
        ).json()
        if not page["items"]:
            return positions
        positions += [e["sequence"] for e in page["items"]]
        cursor = page["next_cursor"]


def test_an_import_fed_to_many_subscriptions_stays_within_both_caps(
    crowded: TestClient, auth: Token, tmp_path: Path
) -> None:
    # three callers, each at its quota, to hosts that do not resolve (as in the report)
    subscriptions: list[dict[str, Any]] = []
    for caller in ("platform-a", "platform-b", "platform-c"):
        for n in range(PER_CALLER):
            filters = {"counties": [COUNTIES[n % 3]]} if n % 2 else {}
            answer = make(crowded, auth, caller, f"https://hook-{n}.{caller}.invalid/h", **filters)
            assert answer.status_code == 201, answer.text
            subscriptions.append(answer.json())
        assert make(crowded, auth, caller, "https://one-more.invalid/h").status_code == 409

    source = tmp_path / "firms.jsonl"
    write_demo_file(source, count=120, seed=11)
    engine = engine_of(crowded)
    catalogue = crowded.app.state.catalogue  # type: ignore[attr-defined]
    report = import_file(
        source, engine, catalogue, changed_by="import", day=today(), progress=False
    )
    assert report.stored == 120 and not report.bad

    pending = exact_pending(engine)
    everything = events_passing(engine, None)
    assert len(everything) > 10 * MAX_PENDING  # the import made far more than a cap
    total_not_queued = 0
    for sub in subscriptions:
        passing = events_passing(engine, sub["counties"])
        queued = pending.get(sub["id"], 0)
        assert queued == min(MAX_PENDING, len(passing))  # the cap holds, and is filled
        shown = read(crowded, auth, sub["id"])
        capacity = shown["capacity"]
        assert shown["deliveries"]["pending"] == queued
        assert capacity["events_not_queued"] == len(passing) - queued
        total_not_queued += capacity["events_not_queued"]
        # the first event not queued is the one after the last queued; the run ends at the last
        run = capacity["not_queued"]
        assert run["first_sequence"] == passing[MAX_PENDING]
        assert run["last_sequence"] == passing[-1]
        caught_up = catch_up(crowded, auth, run["catch_up_cursor"], sub["created_by"])
        assert caught_up[0] == run["first_sequence"]
        assert set(caught_up) >= set(passing[MAX_PENDING:])
    with engine.connect() as connection:
        deliveries = connection.execute(select(func.count()).select_from(DELIVERY)).scalar_one()
        counted = connection.execute(
            select(SUBSCRIPTION.c.id, SUBSCRIPTION.c.pending_deliveries)
        ).all()
    assert deliveries <= MAX_PENDING * len(subscriptions)
    assert all(n >= pending.get(s, 0) for s, n in counted)  # the count is an upper bound
    assert refresh(crowded)
    metrics = crowded.get("/metrics").text
    assert f"policy_match_push_events_not_queued {float(total_not_queued)}" in metrics
    assert 'policy_match_push_subscriptions{state="active"} 12.0' in metrics


def test_a_full_subscription_takes_events_again_once_a_recount_sees_them_sent(
    crowded: TestClient, auth: Token, receiver: Receiver
) -> None:
    answer = make(crowded, auth, "platform-s", receiver.url)
    created = answer.json()
    receiver.secrets.append(created["secret"])
    engine = engine_of(crowded)
    for _ in range(3):  # each full profile matches several measures
        assert put(crowded, auth, firm()).status_code == 201
    first_run = read(crowded, auth, created["id"])["capacity"]
    assert exact_pending(engine)[created["id"]] == MAX_PENDING
    assert first_run["events_not_queued"] > 0

    worker = worker_for(crowded)
    deliver_until(worker, lambda: not exact_pending(engine))
    assert len(receiver.acknowledged()) == MAX_PENDING
    # sent, but not recounted yet: the count is still the cap, so nothing more is queued
    assert put(crowded, auth, firm()).status_code == 201
    assert not exact_pending(engine)
    counted = read(crowded, auth, created["id"])["capacity"]
    assert counted["events_not_queued"] > first_run["events_not_queued"]
    assert counted["not_queued"]["first_sequence"] == first_run["not_queued"]["first_sequence"]

    asyncio.run(run_write(engine, lambda c: recount_pending(c, MAX_PENDING)))
    assert put(crowded, auth, firm()).status_code == 201
    assert 0 < exact_pending(engine)[created["id"]] <= MAX_PENDING
    for _ in range(10):  # fill it again
        if exact_pending(engine)[created["id"]] == MAX_PENDING:
            break
        assert put(crowded, auth, firm()).status_code == 201
    assert put(crowded, auth, firm()).status_code == 201
    assert exact_pending(engine)[created["id"]] == MAX_PENDING
    # full again, after events were queued: a new run of events not queued begins
    again = read(crowded, auth, created["id"])["capacity"]["not_queued"]
    assert again["first_sequence"] > counted["not_queued"]["last_sequence"]


def test_the_worker_recounts_and_applies_a_changed_cap(crowded: TestClient, auth: Token) -> None:
    created = make(crowded, auth, "platform-t", "https://t.example.cn/h").json()
    assert put(crowded, auth, firm()).status_code == 201
    engine = engine_of(crowded)
    with engine.begin() as connection:  # an ended delivery the count still holds
        connection.execute(DELIVERY.update().values(state="dead"))
    settings = crowded.app.state.settings.model_copy(  # type: ignore[attr-defined]
        update={"push_max_pending_per_subscription": 7}
    )
    worker = Worker(engine, settings, crowded.app.state, name="upkeep")  # type: ignore[attr-defined]
    asyncio.run(worker.keep_capacity())
    with engine.connect() as connection:
        row = connection.execute(
            select(SUBSCRIPTION.c.pending_deliveries, SUBSCRIPTION.c.max_pending).where(
                SUBSCRIPTION.c.id == created["id"]
            )
        ).one()
    assert tuple(row) == (0, 7)
    assert read(crowded, auth, created["id"])["capacity"]["max_pending"] == 7


def test_a_redelivery_keeps_the_count_an_upper_bound(crowded: TestClient, auth: Token) -> None:
    created = make(crowded, auth, "platform-u", "https://u.example.cn/h").json()
    assert put(crowded, auth, firm()).status_code == 201
    engine = engine_of(crowded)
    with engine.begin() as connection:  # every delivery sent, and the count recounted
        connection.execute(DELIVERY.update().values(state="delivered"))
    asyncio.run(run_write(engine, lambda c: recount_pending(c, MAX_PENDING)))
    event = crowded.get("/v1/push-events?limit=1", headers=auth("push")).json()["items"][0]
    again = crowded.post(f"/v1/push-events/{event['event_id']}/redeliver", headers=auth("push"))
    assert again.status_code == 202
    with engine.connect() as connection:
        counted = connection.execute(
            select(SUBSCRIPTION.c.pending_deliveries).where(SUBSCRIPTION.c.id == created["id"])
        ).scalar_one()
    assert counted == exact_pending(engine)[created["id"]] == 1
