"""Delivery to a real HTTP receiver on loopback, on SQLite and PostgreSQL: signed, retried with
backoff, timed out, ended by 410, dead after the last attempt, redelivered on request."""

import asyncio
import random
import threading
import time
from collections.abc import Generator
from datetime import timedelta
from typing import Any

import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select

from service.core.database import write_transaction
from service.core.migrate import upgrade_database
from service.core.settings import Settings
from service.core.tables import DELIVERY, SUBSCRIPTION, utcnow
from service.push.claim import claim_due
from service.push.settle import retry_delay, settle
from tests.conftest import TEST_SETTINGS, Token, serve
from tests.factories import (
    FAST,
    deliver_until,
    detail,
    engine_of,
    feed_ids,
    firm,
    put,
    states,
    subscribe,
    worker_for,
)
from tests.receiver import Receiver, start_receiver


def test_every_event_is_delivered_once_signed_as_the_contract_says(
    service: TestClient, auth: Token, receiver: Receiver
) -> None:
    subscribe(service, auth, receiver)
    put(service, auth, firm())
    events = feed_ids(service, auth)
    worker = worker_for(service)
    deliver_until(worker, lambda: states(service).get("pending", 0) == 0)
    assert sorted(receiver.event_ids()) == sorted(events)  # each once, none invented
    documents = {
        e["event_id"]: e
        for e in service.get(
            "/v1/push-events", params={"limit": 1000}, headers=auth("push")
        ).json()["items"]
    }
    for received in receiver.received:
        assert received.verified, received.headers
        assert received.headers["webhook-id"] == received.event_id
        assert abs(int(received.headers["webhook-timestamp"]) - time.time()) < 60
        assert received.headers["webhook-signature"].startswith("v1,")
        assert received.headers["content-type"] == "application/json"
        assert received.event == documents[received.event_id]
    shown = detail(service, auth, events[0])
    assert shown["deliveries"][0]["state"] == "delivered"
    assert [a["outcome"] for a in shown["deliveries"][0]["attempt_log"]] == ["delivered"]
    assert shown["deliveries"][0]["attempt_log"][0]["worker"] == "test-worker"


def test_a_forged_signature_would_not_verify(receiver: Receiver) -> None:
    """The receiver's check is real: another secret's signature fails it."""
    from standardwebhooks import Webhook

    receiver.secrets.append("whsec_" + "A" * 43 + "=")
    body = b'{"event_id":"evt_1"}'
    moment = utcnow()
    headers = {
        "webhook-id": "evt_1",
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": Webhook("whsec_" + "B" * 43 + "=").sign(
            "evt_1", moment, body.decode()
        ),
    }
    assert not receiver.verify(body, headers)


def test_filters_choose_the_events_a_subscription_gets(
    service: TestClient, auth: Token, receiver: Receiver
) -> None:
    subscribe(service, auth, receiver, counties=["440703"], kinds=["loan_interest_subsidy"])
    put(service, auth, firm(county="440781"))
    put(service, auth, firm(county="440703"))
    deliver_until(worker_for(service), lambda: states(service).get("pending", 0) == 0)
    wanted = feed_ids(service, auth, county="440703", kind="loan_interest_subsidy")
    assert len(wanted) == 2  # the city's subsidy and the central and provincial funds
    assert sorted(receiver.event_ids()) == sorted(wanted)


def test_failures_are_retried_with_backoff_until_acknowledged(
    service: TestClient, auth: Token, receiver: Receiver
) -> None:
    receiver.behaviour = lambda n, event_id: 503 if n <= 2 else 200
    subscribe(service, auth, receiver)
    put(service, auth, firm(tier="innovative", trademarks=0))
    events = feed_ids(service, auth)
    deliver_until(worker_for(service), lambda: len(set(receiver.event_ids())) == len(events))
    log = detail(service, auth, events[0])["deliveries"][0]
    assert log["state"] == "delivered" and log["attempts"] == 3
    assert [a["outcome"] for a in log["attempt_log"]] == ["retry", "retry", "delivered"]
    assert [a["status_code"] for a in log["attempt_log"]] == [503, 503, 200]
    first, second = (a["started_at"] for a in log["attempt_log"][:2])
    assert first < second
    assert sorted(receiver.event_ids()) == sorted(events)  # acknowledged once each


def test_a_receiver_that_times_out_is_tried_again(
    service: TestClient, auth: Token, receiver: Receiver
) -> None:
    receiver.behaviour = lambda n, event_id: ("sleep", 2.0, 200) if n == 1 else 200
    subscribe(service, auth, receiver)
    put(service, auth, firm(tier="none", trademarks=0))
    events = feed_ids(service, auth)
    assert events
    deliver_until(worker_for(service), lambda: states(service) == {"delivered": len(events)})
    log = detail(service, auth, events[0])["deliveries"][0]["attempt_log"]
    assert log[0]["outcome"] == "retry" and log[0]["error"].startswith("timeout: ")
    assert log[-1]["outcome"] == "delivered"


def test_a_410_ends_the_subscription_and_cancels_the_rest(
    service: TestClient, auth: Token, receiver: Receiver
) -> None:
    receiver.behaviour = lambda n, event_id: 410
    created = subscribe(service, auth, receiver)
    put(service, auth, firm())
    worker = worker_for(service, push_batch_size=1, push_concurrency=1)
    asyncio.run(worker.drain())
    assert len(receiver.received) == 1  # the first 410 ended it: nothing more was sent
    shown = service.get(f"/v1/subscriptions/{created['id']}", headers=auth("push")).json()
    assert shown["state"] == "ended" and "410" in shown["ended_reason"]
    assert shown["deliveries"]["pending"] == 0
    assert shown["deliveries"]["cancelled"] == len(feed_ids(service, auth))
    put(service, auth, firm())  # later events go nowhere
    assert states(service).get("pending", 0) == 0


def test_the_last_failure_leaves_a_dead_letter_that_can_be_redelivered(
    service: TestClient, auth: Token, receiver: Receiver
) -> None:
    receiver.behaviour = lambda n, event_id: 500
    created = subscribe(service, auth, receiver)
    put(service, auth, firm(tier="none", trademarks=0))
    events = feed_ids(service, auth)
    worker = worker_for(service)
    deliver_until(worker, lambda: states(service) == {"dead": len(events)})
    dead = detail(service, auth, events[0])["deliveries"][0]
    assert dead["attempts"] == FAST["push_max_attempts"]
    assert [a["outcome"] for a in dead["attempt_log"]] == ["retry"] * 3 + ["dead"]
    assert dead["last_status"] == 500 and dead["last_error"] == "HTTP 500"

    receiver.behaviour = lambda n, event_id: 200
    again = service.post(f"/v1/push-events/{events[0]}/redeliver", headers=auth("push"))
    assert again.status_code == 202, again.text
    assert again.json()["deliveries"][0]["state"] == "pending"
    deliver_until(worker, lambda: events[0] in receiver.event_ids())
    assert detail(service, auth, events[0])["deliveries"][0]["state"] == "delivered"
    assert states(service)["dead"] == len(events) - 1  # only the one asked for

    service.delete(f"/v1/subscriptions/{created['id']}", headers=auth("push"))
    ended = service.post(
        f"/v1/push-events/{events[1]}/redeliver",
        params={"subscription_id": created["id"]},
        headers=auth("push"),
    )
    assert ended.status_code == 409
    missing = service.post("/v1/push-events/evt_none/redeliver", headers=auth("push"))
    assert missing.status_code == 404


def test_redelivery_reaches_a_subscription_made_after_the_event(
    service: TestClient, auth: Token, receiver: Receiver
) -> None:
    put(service, auth, firm())
    event = feed_ids(service, auth)[0]
    subscribe(service, auth, receiver)
    assert (
        service.post(f"/v1/push-events/{event}/redeliver", headers=auth("push")).status_code == 202
    )
    deliver_until(worker_for(service), lambda: states(service).get("pending", 0) == 0)
    assert receiver.event_ids() == [event]


def test_a_target_refused_at_delivery_is_retried_not_sent(
    service: TestClient, auth: Token, receiver: Receiver
) -> None:
    subscribe(service, auth, receiver)  # allowed when made (the test setting)
    put(service, auth, firm(tier="none", trademarks=0))
    event = feed_ids(service, auth)[0]
    guarded = worker_for(service, push_allow_internal_targets=False)
    asyncio.run(guarded.drain())
    assert receiver.received == []
    attempt = detail(service, auth, event)["deliveries"][0]["attempt_log"][0]
    assert attempt["outcome"] == "retry"
    assert attempt["error"] == "refused_target: a loopback address"


def test_backoff_grows_exponentially_with_jitter_and_a_cap() -> None:
    settings = TEST_SETTINGS.model_copy(
        update={"push_backoff_base_seconds": 10.0, "push_backoff_cap_seconds": 300.0}
    )
    rng = random.Random(1)
    for attempt, ceiling in ((1, 10), (2, 20), (3, 40), (5, 160), (6, 300), (30, 300)):
        delays = [retry_delay(attempt, settings, rng) for _ in range(200)]
        assert ceiling / 2 <= min(delays) and max(delays) <= ceiling
        assert max(delays) - min(delays) > ceiling / 4  # jittered, not one fixed value


def test_claims_never_overlap_and_only_the_holder_settles(
    service: TestClient, auth: Token, receiver: Receiver
) -> None:
    subscribe(service, auth, receiver)
    put(service, auth, firm())
    engine = engine_of(service)
    total = states(service)["pending"]
    with write_transaction(engine) as c:
        first = claim_due(c, limit=10, lease_seconds=30)
    with write_transaction(engine) as c:
        second = claim_due(c, limit=1000, lease_seconds=600)
    assert len(first) == 10 and len(second) == total - 10
    assert not {d.delivery_id for d in first} & {d.delivery_id for d in second}
    with write_transaction(engine) as c:
        assert claim_due(c, limit=1000, lease_seconds=60) == []  # all held

    # the first worker "dies"; after its lease (not the second's) another claims its deliveries
    later = utcnow() + timedelta(seconds=61)
    with write_transaction(engine) as c:
        again = claim_due(c, limit=1000, lease_seconds=60, now=later)
    assert {d.delivery_id for d in again} == {d.delivery_id for d in first}

    from service.push.sign import Attempted

    late = [Attempted(d, utcnow(), 5, 200, None) for d in first[:1]]
    settings: Settings = service.app.state.settings  # type: ignore[attr-defined]
    with write_transaction(engine) as c:
        outcomes = settle(c, late, settings=settings, worker="late", rng=random.Random())
    assert outcomes == {"stale": 1}  # the dead worker's result does not count
    with engine.connect() as c:
        state = c.execute(
            select(DELIVERY.c.state).where(DELIVERY.c.id == first[0].delivery_id)
        ).scalar_one()
    assert state == "pending"  # still the second claimant's to deliver


def test_one_subscription_gets_at_most_its_share_of_posts_at_once(
    service: TestClient, auth: Token, receiver: Receiver
) -> None:
    receiver.behaviour = lambda n, event_id: ("sleep", 0.05, 204)
    subscribe(service, auth, receiver)
    put(service, auth, firm())
    worker = worker_for(service, push_concurrency=32, push_concurrency_per_target=3)
    asyncio.run(worker.drain())
    assert worker.totals == {"delivered": len(feed_ids(service, auth))}
    assert receiver.most_in_flight == 3


@pytest.mark.slow
def test_secrets_are_stored_sealed_and_still_sign(
    empty_database: str, auth: Token, receiver: Receiver
) -> None:
    """With PUSH_SECRET_KEYS the database holds no usable secret; deliveries still verify, and
    a rotated key list (new key first, old one kept) still opens the old secrets."""
    upgrade_database(empty_database)
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    with serve(empty_database, **FAST, push_secret_keys=SecretStr(old_key)) as client:
        created = subscribe(client, auth, receiver)
        with engine_of(client).connect() as connection:
            stored = connection.execute(select(SUBSCRIPTION.c.secret)).scalar_one()
        assert stored.startswith("fernet:") and created["secret"] not in stored
        put(client, auth, firm(tier="none", trademarks=0))
    rotated = SecretStr(f"{new_key},{old_key}")
    with serve(empty_database, **FAST, push_secret_keys=rotated) as client:
        deliver_until(worker_for(client), lambda: states(client).get("pending", 0) == 0)
        assert receiver.received and all(r.verified for r in receiver.received)
        assert set(states(client)) == {"delivered"}


def test_a_secret_no_key_opens_fails_the_attempt_not_the_worker(
    empty_database: str, auth: Token, receiver: Receiver
) -> None:
    upgrade_database(empty_database)
    key = SecretStr(Fernet.generate_key().decode())
    with serve(empty_database, **FAST, push_secret_keys=key) as client:
        subscribe(client, auth, receiver)
        put(client, auth, firm(tier="none", trademarks=0))
        other = SecretStr(Fernet.generate_key().decode())
        worker = worker_for(client, push_secret_keys=other)
        asyncio.run(worker.drain())
        event = feed_ids(client, auth)[0]
        attempt = detail(client, auth, event)["deliveries"][0]["attempt_log"][0]
    assert receiver.received == []
    assert attempt["outcome"] == "retry" and "PUSH_SECRET_KEYS" in attempt["error"]


def test_production_needs_keys_to_seal_secrets() -> None:
    with pytest.raises(ValueError, match="PUSH_SECRET_KEYS"):
        Settings(
            environment="production",
            enable_token_endpoint=False,
            jwt_secret=SecretStr("a-real-secret-of-enough-length-0001"),
        )


def test_an_attempt_that_could_outlast_its_lease_is_not_started(
    service: TestClient, auth: Token, receiver: Receiver
) -> None:
    """A slow receiver holds up a batch: what cannot start before lease − timeout waits for the
    next claim instead of being POSTed while another worker may hold it."""
    receiver.behaviour = lambda n, event_id: ("sleep", 0.2, 200)
    subscribe(service, auth, receiver)
    put(service, auth, firm())
    settings: dict[str, Any] = {
        "push_concurrency_per_target": 1,
        "push_lease_seconds": 1.0,
        "push_timeout_seconds": 0.5,
        "push_batch_size": 10,
    }
    slow = worker_for(service, **settings)

    async def one_batch() -> int:
        async with slow.client() as client:
            return await slow.deliver_batch(client)

    assert asyncio.run(one_batch()) == 10
    first = len(receiver.received)
    assert 1 <= first <= 4  # started within 0.5 s of the claim, one at a time, 0.2 s each
    assert states(service)["pending"] == len(feed_ids(service, auth)) - first
    patient = worker_for(service, push_timeout_seconds=3.0)  # 8 at once × 0.2 s on a busy host
    deliver_until(patient, lambda: states(service).get("pending", 0) == 0)
    assert sorted(receiver.event_ids()) == sorted(feed_ids(service, auth))  # each once


def test_a_slow_receiver_holds_up_only_its_own_deliveries(
    service: TestClient, auth: Token, receiver: Receiver
) -> None:
    fast_events: Generator[Receiver, None, None] = start_receiver()
    fast = next(fast_events)
    try:
        receiver.behaviour = lambda n, event_id: ("sleep", 0.3, 200)  # the slow one
        subscribe(service, auth, receiver)
        subscribe(service, auth, fast)
        worker = worker_for(
            service, push_concurrency_per_target=2, push_poll_seconds=0.1, push_lease_seconds=30
        )
        stop = threading.Event()

        def run() -> None:
            async def until_stopped() -> None:
                done = asyncio.Event()
                task = asyncio.create_task(worker.run(done))
                while not stop.is_set():
                    await asyncio.sleep(0.05)
                done.set()
                await task

            asyncio.run(until_stopped())

        thread = threading.Thread(target=run)
        thread.start()
        put(service, auth, firm())
        first = len(feed_ids(service, auth))
        assert fast.wait_for(first, timeout=10)
        put(service, auth, firm())  # while the slow receiver is still busy with the first
        assert fast.wait_for(len(feed_ids(service, auth)), timeout=3)
        assert len(receiver.event_ids()) < first  # the slow one has not even had the first
        stop.set()
        thread.join(timeout=30)
        assert not thread.is_alive()  # stopping did not wait for the slow batch
        counts = states(service)
        pending = counts["pending"]
        # every delivery is either acknowledged or pending again: a stopping worker cancels its
        # POSTs in flight (the slow receiver may still log them after it gave up) and releases
        assert pending + counts.get("delivered", 0) == 2 * len(feed_ids(service, auth))
        # released unsent: due now for the next worker, not after the 30 s lease
        with write_transaction(engine_of(service)) as c:
            assert len(claim_due(c, limit=1000, lease_seconds=30)) == pending
        assert all(r.verified for r in fast.received)
    finally:
        fast_events.close()
