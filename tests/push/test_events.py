"""The push outbox on SQLite and PostgreSQL: events exactly when a stored match set changes,
in the change's own transaction, and the resumable feed of them."""

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from service.core.clock import today
from service.core.database import make_engine, write_transaction
from service.core.migrate import upgrade_database
from service.core.tables import ENTERPRISE, EVENT
from service.policy.profile import Profile
from service.push.feed import event_feed
from service.push.outbox import MatchChange, record_match_changes
from service.registry.store import store_profile
from tests.conftest import Token
from tests.factories import WRITE, firm, put, real_catalogue

PUSH = "push"
REAL = real_catalogue()


def feed(client: TestClient, auth: Token, **params: Any) -> dict[str, Any]:
    """One page of GET /v1/push-events."""
    response = client.get("/v1/push-events", params=params, headers=auth(PUSH))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def events_of(client: TestClient, auth: Token, uscc: str) -> list[dict[str, Any]]:
    """Every event of one firm, in order."""
    return list(feed(client, auth, uscc=uscc, limit=1000)["items"])


def matched_now(client: TestClient, auth: Token, uscc: str) -> list[str]:
    """The measures the stored firm matches today, as GET …/matches answers."""
    answer = client.get(f"/v1/enterprises/{uscc}/matches", headers=auth("enterprises:read"))
    return [m["measure_id"] for m in answer.json()["matched"]]


def test_a_new_firm_is_pushed_every_measure_it_matches(registry: TestClient, auth: Token) -> None:
    body = firm()
    assert put(registry, auth, body).status_code == 201
    events = events_of(registry, auth, body["uscc"])
    expected = matched_now(registry, auth, body["uscc"])
    assert len(expected) > 30
    assert [e["measure_id"] for e in events] == expected
    assert {e["type"] for e in events} == {"measure.matched"}
    loan = next(e for e in events if e["measure_id"] == "loan-interest-subsidy")
    assert loan["clause"] == "二(二)5" and loan["kind"] == "loan_interest_subsidy"
    assert loan["county"] == body["county"] and loan["uscc"] == body["uscc"]
    assert loan["lead_department"]["code"] and loan["lead_department"]["name"]
    assert loan["catalogue_version"] == REAL.version and loan["cause"] == "profile_stored"
    assert loan["event_id"].startswith("evt_") and loan["occurred_at"].endswith("Z")
    assert len({e["event_id"] for e in events}) == len(events)


def test_an_update_pushes_exactly_what_was_gained_and_lost(
    registry: TestClient, auth: Token
) -> None:
    body = firm()
    put(registry, auth, body)
    before = set(matched_now(registry, auth, body["uscc"]))
    start = len(events_of(registry, auth, body["uscc"]))

    assert put(registry, auth, body).status_code == 200  # the same profile: nothing changes
    assert put(registry, auth, {**body, "employees": 181}).status_code == 200  # same matches
    assert len(events_of(registry, auth, body["uscc"])) == start

    put(registry, auth, {**body, "tier": "innovative", "trademarks": 0})
    after = set(matched_now(registry, auth, body["uscc"]))
    new = events_of(registry, auth, body["uscc"])[start:]
    assert {e["measure_id"] for e in new if e["type"] == "measure.matched"} == after - before
    assert {e["measure_id"] for e in new if e["type"] == "measure.unmatched"} == before - after
    assert before - after and after - before  # both kinds really happened
    assert len(new) == len(after ^ before)


def test_a_deletion_pushes_every_measure_lost(registry: TestClient, auth: Token) -> None:
    body = firm()
    put(registry, auth, body)
    matched = matched_now(registry, auth, body["uscc"])
    gone = registry.delete(f"/v1/enterprises/{body['uscc']}", headers=auth(*WRITE))
    assert gone.status_code == 204
    lost = [e for e in events_of(registry, auth, body["uscc"]) if e["type"] == "measure.unmatched"]
    assert [e["measure_id"] for e in lost] == matched
    assert {e["cause"] for e in lost} == {"enterprise_deleted"}


def test_refused_writes_push_nothing(registry: TestClient, auth: Token) -> None:
    body = firm()
    put(registry, auth, body)
    start = len(events_of(registry, auth, body["uscc"]))
    stale = put(registry, auth, {**body, "tier": "none"}, **{"If-Match": '"7"'})
    assert stale.status_code == 412
    invalid = put(registry, auth, {**body, "tier": "none", "employees": -1})
    assert invalid.status_code == 422
    assert len(events_of(registry, auth, body["uscc"])) == start


def test_events_roll_back_with_the_change_that_made_them(registry: TestClient) -> None:
    engine = make_engine(str(registry.app.state.engine.url))  # type: ignore[attr-defined]
    profile = Profile.model_validate(firm())

    def count() -> int:
        with engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(EVENT)).scalar_one())

    events = count()
    with pytest.raises(RuntimeError), write_transaction(engine) as connection:
        result = store_profile(connection, REAL, profile, changed_by="test", day=today())
        assert len(result.matched) > 30
        inside = connection.execute(select(func.count()).select_from(EVENT)).scalar_one()
        assert inside == events + len(result.matched)  # written, in this transaction
        assert count() == events  # not committed yet: nothing to see from outside
        raise RuntimeError("the transaction fails after the store")
    assert count() == events
    with engine.connect() as connection:
        stored = connection.execute(
            select(ENTERPRISE.c.uscc).where(ENTERPRISE.c.uscc == profile.uscc)
        ).first()
    assert stored is None
    engine.dispose()


def test_the_feed_resumes_where_it_stopped_without_gaps_or_repeats(
    registry: TestClient, auth: Token
) -> None:
    for _ in range(2):
        put(registry, auth, firm())
    everything = feed(registry, auth, limit=1000)["items"]
    pages, cursor = [], None
    while True:
        page = feed(registry, auth, limit=7, **({"after": cursor} if cursor else {}))
        pages.extend(page["items"])
        if not page["items"]:
            assert page["next_cursor"] == cursor  # polling again later starts at the same place
            break
        cursor = page["next_cursor"]
    assert [e["event_id"] for e in pages] == [e["event_id"] for e in everything]

    later = firm()
    put(registry, auth, later)
    fresh = feed(registry, auth, after=cursor, limit=1000)["items"]
    assert fresh and {e["uscc"] for e in fresh} == {later["uscc"]}


def test_the_feed_filters_by_county_and_kind(registry: TestClient, auth: Token) -> None:
    put(registry, auth, firm(county="440703"))
    by_county = feed(registry, auth, county="440703", limit=1000)["items"]
    assert by_county and {e["county"] for e in by_county} == {"440703"}
    by_kind = feed(registry, auth, kind="loan_interest_subsidy", limit=1000)["items"]
    assert by_kind and {e["kind"] for e in by_kind} == {"loan_interest_subsidy"}


@pytest.mark.parametrize("cursor", ["not-a-cursor", "eyJlIjotMX0", "eyJiIjo0Mn0"])
def test_a_bad_cursor_is_a_400_naming_it(registry: TestClient, auth: Token, cursor: str) -> None:
    response = registry.get("/v1/push-events", params={"after": cursor}, headers=auth(PUSH))
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "after"


def test_the_feed_needs_the_push_scope_and_refuses_banks(registry: TestClient, auth: Token) -> None:
    assert registry.get("/v1/push-events").status_code == 401
    assert registry.get("/v1/push-events", headers=auth("match")).status_code == 403
    bank = auth("push", "eligibility:read", bank_id="bank-demo-1")
    assert registry.get("/v1/push-events", headers=bank).status_code == 403


def test_a_feed_read_while_firms_are_stored_concurrently_misses_nothing(
    registry: TestClient, auth: Token
) -> None:
    """A reader following the feed while eight writers store firms ends with every event, once."""
    cursor = None
    while True:  # to the end of the feed as it is now
        page = feed(registry, auth, limit=1000, **({"after": cursor} if cursor else {}))
        cursor = page["next_cursor"]
        if not page["items"]:
            break
    bodies = [firm(tier=tier) for tier in ("provincial", "municipal", "innovative") * 8]
    seen: list[str] = []
    done = threading.Event()

    def follow() -> None:
        position = cursor
        while True:
            finished = done.is_set()
            page = feed(registry, auth, after=position, limit=50)
            seen.extend(e["event_id"] for e in page["items"])
            position = page["next_cursor"]
            if finished and not page["items"]:
                return

    reader = threading.Thread(target=follow)
    reader.start()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda body: put(registry, auth, body), bodies))
    done.set()
    reader.join(timeout=60)
    written = [e["event_id"] for body in bodies for e in events_of(registry, auth, body["uscc"])]
    assert len(seen) == len(set(seen)) == len(written)
    assert set(seen) == set(written)


@pytest.mark.slow
def test_event_ids_commit_in_the_order_they_are_drawn_on_postgresql(
    postgresql_database: str,
) -> None:
    """The second writer of events waits for the first to commit: a reader can never see a
    later id while an earlier one is still to come, which would make it skip that one."""
    upgrade_database(postgresql_database)
    engine = make_engine(postgresql_database)
    first = MatchChange("91440781MA4W6K2L1C", "440781", [], ["loan-interest-subsidy"])
    second = MatchChange("91440781MA4W6K2L1C", "440781", ["loan-interest-subsidy"], [])
    try:
        with engine.connect() as held:
            transaction = held.begin()
            record_match_changes(held, REAL, [first], cause="profile_stored")

            def later() -> None:
                with write_transaction(engine) as connection:
                    record_match_changes(connection, REAL, [second], cause="profile_stored")

            writer = threading.Thread(target=later)
            writer.start()
            writer.join(timeout=1.0)
            assert writer.is_alive()  # waiting for the first writer's commit
            with engine.connect() as reader:
                assert event_feed(reader, after=0, limit=10) == []
            transaction.commit()
        writer.join(timeout=10)
        with engine.connect() as reader:
            events = [document["type"] for _, document in event_feed(reader, after=0, limit=10)]
        assert events == ["measure.matched", "measure.unmatched"]
    finally:
        engine.dispose()


def test_each_event_carries_its_place_in_the_feed(registry: TestClient, auth: Token) -> None:
    put(registry, auth, firm())
    events = feed(registry, auth, limit=1000)["items"]
    sequences = [e["sequence"] for e in events]
    assert sequences == sorted(sequences) and len(set(sequences)) == len(sequences)
    last = events[-1]
    detail = registry.get(f"/v1/push-events/{last['event_id']}", headers=auth(PUSH)).json()
    assert detail["event"] == last


def test_the_webhook_a_subscriber_receives_is_documented(registry: TestClient) -> None:
    spec = registry.get("/openapi.json").json()
    post = spec["webhooks"]["measure-event"]["post"]
    headers = {p["name"] for p in post["parameters"] if p["in"] == "header"}
    assert headers == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    body = post["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert body.endswith("/PushEventOut")
    fields = spec["components"]["schemas"]["PushEventOut"]["properties"]
    assert {
        "event_id",
        "type",
        "uscc",
        "county",
        "measure_id",
        "clause",
        "kind",
        "lead_department",
        "catalogue_version",
        "occurred_at",
        "sequence",
    } <= fields.keys()
    assert "410" in post["responses"]
