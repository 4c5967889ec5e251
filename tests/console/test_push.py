"""The push page (/console/push) on SQLite and PostgreSQL: the outbox's depth, the failing and
dead deliveries a real worker left against a real receiver, and redelivery from the page."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from service.core.migrate import upgrade_database
from tests.conftest import NO_LANGUAGE, Token, serve
from tests.console.signing import DEMO_AUTH_CLIENTS, form_token, sign_in
from tests.factories import (
    FAST,
    deliver_until,
    feed_ids,
    firm,
    put,
    refresh,
    states,
    subscribe,
    worker_for,
)
from tests.receiver import Receiver


@pytest.fixture
def service(empty_database: str) -> Iterator[TestClient]:
    """The service on a database of its own, retrying fast, with the demo clients."""
    upgrade_database(empty_database)
    with serve(empty_database, auth_clients=DEMO_AUTH_CLIENTS, **FAST) as client:
        client.follow_redirects = False
        yield client


def dead_letters(service: TestClient, auth: Token, receiver: Receiver) -> list[str]:
    """A firm stored, its events pushed to a receiver that always fails, until all are dead."""
    receiver.behaviour = lambda n, event_id: 500
    subscribe(service, auth, receiver)
    put(service, auth, firm(tier="none", trademarks=0))
    events = feed_ids(service, auth)
    deliver_until(worker_for(service), lambda: states(service) == {"dead": len(events)})
    return events


def test_the_push_page_shows_the_depth_and_the_dead_deliveries(
    service: TestClient, auth: Token, receiver: Receiver
) -> None:
    events = dead_letters(service, auth, receiver)
    put(service, auth, firm(tier="none", trademarks=0))  # more events, still waiting
    waiting = states(service)["pending"]
    assert refresh(service)  # the outbox's gauges, as the service reads them in the background
    sign_in(service, "demo-platform")
    page = service.get("/console/push", headers=NO_LANGUAGE)
    assert page.status_code == 200 and "推送" in page.text and "已放弃的投递" in page.text
    assert f'<dd id="depth">{waiting}</dd>' in page.text
    assert f'<dd id="dead-count">{len(events)}</dd>' in page.text
    for event in events:
        assert f'data-event="{event}"' in page.text
    assert "HTTP 500" in page.text
    assert "已放棄的投遞" in service.get("/console/push?lang=zh-Hant").text
    assert "Dead deliveries" in service.get("/console/push?lang=en").text


def test_a_failing_delivery_is_listed_while_it_is_retried(
    service: TestClient, auth: Token, receiver: Receiver
) -> None:
    receiver.behaviour = lambda n, event_id: 503
    subscribe(service, auth, receiver)
    put(service, auth, firm(tier="none", trademarks=0))
    slow = worker_for(service, push_backoff_base_seconds=600, push_backoff_cap_seconds=600)
    deliver_until(slow, lambda: len(receiver.received) > 0)
    sign_in(service, "demo-platform")
    page = service.get("/console/push").text
    assert '<dd id="failing-count">0</dd>' not in page
    assert '<table id="failing">' in page and "HTTP 503" in page


def test_redelivery_needs_the_csrf_token_and_then_queues_the_event_again(
    service: TestClient, auth: Token, receiver: Receiver
) -> None:
    events = dead_letters(service, auth, receiver)
    sign_in(service, "demo-platform")
    page = service.get("/console/push").text
    form = {"event_id": events[0], "subscription_id": form_token(page, "subscription_id")}
    forged = service.post("/console/push/redeliver", data=form)
    assert forged.status_code == 403
    assert states(service) == {"dead": len(events)}  # nothing changed
    wrong = service.post("/console/push/redeliver", data={**form, "csrf_token": "guess"})
    assert wrong.status_code == 403 and states(service) == {"dead": len(events)}
    done = service.post("/console/push/redeliver", data={**form, "csrf_token": form_token(page)})
    assert done.status_code == 303
    assert done.headers["location"] == f"/console/push?redelivered={events[0]}"
    assert states(service) == {"dead": len(events) - 1, "pending": 1}
    receiver.behaviour = lambda n, event_id: 200
    deliver_until(worker_for(service), lambda: events[0] in receiver.event_ids())
    shown = service.get(done.headers["location"], headers=NO_LANGUAGE).text
    assert f"事件 {events[0]} 已重新排队投递" in shown
    missing = service.post(
        "/console/push/redeliver", data={"event_id": "evt_none", "csrf_token": form_token(page)}
    )
    assert missing.status_code == 404


def test_the_push_page_is_the_platforms_only(service: TestClient) -> None:
    assert service.get("/console/push").status_code == 303  # to sign in
    sign_in(service, "demo-auditor")
    assert service.get("/console/push").status_code == 403
    assert service.post("/console/push/redeliver", data={"event_id": "x"}).status_code == 403
    sign_in(service, "demo-bank-1")
    assert service.get("/console/push").status_code == 403


@pytest.mark.parametrize(
    "query", ["dead_before=abc", "dead_before=0", "dead_before=-1", "redelivered=" + "x" * 41]
)
def test_a_bad_query_is_a_4xx_never_a_500(service: TestClient, query: str) -> None:
    sign_in(service, "demo-platform")
    answer = service.get(f"/console/push?{query}")
    assert 400 <= answer.status_code < 500
