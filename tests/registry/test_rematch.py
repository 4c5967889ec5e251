"""Keeping stored matches current, on SQLite and PostgreSQL: re-match runs after a new day and a
new catalogue, the reload endpoint, the in-process worker, and `policy-match publish`."""

import asyncio
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml
from sqlalchemy import Engine, select

from service.core.clock import today
from service.core.database import make_engine, write_transaction
from service.core.migrate import upgrade_database
from service.core.settings import PROJECT_ROOT
from service.core.tables import ENTERPRISE, EVENT
from service.policy.catalogue import Catalogue, load_catalogue
from service.policy.profile import Profile
from service.registry.publication import publish
from service.registry.rematch import claim_run, execute_run, queue_rematch, run_record
from service.registry.store import matched_ids, store_profile
from service.worker import Worker
from tests.conftest import TEST_SETTINGS, Token, serve
from tests.factories import firm, put, real_catalogue, subscribe
from tests.receiver import Receiver

REAL = real_catalogue()
DROPPED = "brand-cultivation-services"  # clause 二(二)3


def profiles(count: int) -> list[Profile]:
    """Firms that differ in tier and trademarks, so their matches differ."""
    tiers = ["provincial", "municipal", "innovative", "none", "little_giant"]
    return [Profile.model_validate(firm(tier=tiers[i % 5], trademarks=i % 4)) for i in range(count)]


def store_all(engine: Engine, catalogue: Catalogue, firms: list[Profile], day: date) -> None:
    """Store firms with their matches on `day`."""
    with write_transaction(engine) as connection:
        publish(connection, catalogue, by="test")
        for profile in firms:
            store_profile(connection, catalogue, profile, changed_by="test", day=day)


def rematch(
    engine: Engine, catalogue: Catalogue, day: date, reason: str = "test"
) -> dict[str, Any]:
    """Queue, claim and execute a run for this catalogue and day; the finished run."""
    with write_transaction(engine) as c:
        publish(c, catalogue, by="test")
        run_id = queue_rematch(
            c, reason=reason, version=catalogue.version, day=day, requested_by="t"
        )
    with write_transaction(engine) as c:
        claim = claim_run(c, worker="test", run_id=run_id)
    assert claim is not None
    asyncio.run(execute_run(engine, catalogue, claim, batch_size=7))
    with engine.connect() as c:
        run = run_record(c, run_id)
    assert run is not None and run["state"] == "done"
    return run


def rematch_events(engine: Engine) -> list[dict[str, Any]]:
    """The documents of the events re-matching wrote, in order."""
    with engine.connect() as c:
        return list(
            c.execute(
                select(EVENT.c.document).where(EVENT.c.cause == "rematch").order_by(EVENT.c.id)
            ).scalars()
        )


@pytest.fixture
def engine(empty_database: str) -> Any:
    """An engine on a migrated database of its own."""
    upgrade_database(empty_database)
    engine = make_engine(empty_database)
    yield engine
    engine.dispose()


def test_a_new_day_brings_measures_into_force(engine: Engine) -> None:
    firms = profiles(12)
    store_all(engine, REAL, firms, date(2024, 1, 1))  # before the plan: nothing in force
    day = date(2025, 6, 1)
    run = rematch(engine, REAL, day, reason="new_day")
    expected = {p.uscc: matched_ids(REAL, p, day) for p in firms}
    gained = Counter(m for ids in expected.values() for m in ids)
    assert run["gained"] == dict(sorted(gained.items())) and run["lost"] == {}
    assert run["firms_done"] == 12 and run["firms_total"] == 12
    assert run["firms_changed"] == sum(bool(ids) for ids in expected.values())
    events = rematch_events(engine)
    assert run["events"] == len(events) == sum(gained.values())
    for uscc, ids in expected.items():
        assert [e["measure_id"] for e in events if e["uscc"] == uscc] == list(ids)
    with engine.connect() as c:
        rows = c.execute(select(ENTERPRISE.c.uscc, ENTERPRISE.c.matched, ENTERPRISE.c.matched_on))
        for uscc, matched, on in rows:
            assert (matched, on) == (list(expected[uscc]), day)


def test_the_end_of_the_plan_takes_every_measure_away(engine: Engine) -> None:
    firms = profiles(5)
    store_all(engine, REAL, firms, date(2025, 6, 1))
    before = {p.uscc: matched_ids(REAL, p, date(2025, 6, 1)) for p in firms}
    run = rematch(engine, REAL, date(2027, 1, 1))
    events = rematch_events(engine)
    assert {e["type"] for e in events} == {"measure.unmatched"}
    assert len(events) == sum(len(ids) for ids in before.values()) == run["events"]
    assert run["gained"] == {}


def test_a_second_run_finds_nothing_to_do(engine: Engine) -> None:
    store_all(engine, REAL, profiles(4), date(2024, 1, 1))
    rematch(engine, REAL, date(2025, 6, 1))
    again = rematch(engine, REAL, date(2025, 6, 1))
    assert again["firms_total"] == 0 and again["events"] == 0


def drop_measure(folder: Path) -> None:
    """Take DROPPED out of a policies folder: its file, and its name from indicators.yaml."""
    (folder / "measures" / f"{DROPPED}.yaml").unlink()
    path = folder / "indicators.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for indicator in data["indicators"]:
        indicator["measures"] = [m for m in indicator["measures"] if m != DROPPED]
    data["indicators"] = [i for i in data["indicators"] if i["measures"]]
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


@pytest.fixture
def edited_policies(tmp_path: Path) -> Path:
    """A copy of the policies folder for a test to edit."""
    folder = tmp_path / "policies"
    shutil.copytree(PROJECT_ROOT / "policies", folder)
    return folder


def test_a_measure_dropped_from_the_catalogue_is_lost_and_still_named(
    engine: Engine, edited_policies: Path
) -> None:
    firms = profiles(10)
    day = date(2025, 6, 1)
    store_all(engine, REAL, firms, day)
    had = sum(DROPPED in matched_ids(REAL, p, day) for p in firms)
    assert had > 0
    drop_measure(edited_policies)
    edited = load_catalogue(edited_policies)
    run = rematch(engine, edited, day, reason="catalogue_published")
    assert run["lost"] == {DROPPED: had} and run["gained"] == {}
    events = rematch_events(engine)
    assert len(events) == had
    assert {(e["clause"], e["kind"]) for e in events} == {("二(二)3", "brand_building")}
    assert {e["catalogue_version"] for e in events} == {edited.version}


ADMIN = "catalogue:admin"


@pytest.mark.slow
def test_reloading_an_edited_catalogue_re_matches_every_firm(
    empty_database: str, edited_policies: Path, auth: Token
) -> None:
    upgrade_database(empty_database)
    with serve(empty_database, policies_dir=edited_policies) as client:
        for _ in range(6):
            put(client, auth, firm(tier="municipal", trademarks=1))  # brand services: matched
        unchanged = client.post("/v1/catalogue/reload", headers=auth(ADMIN))
        assert unchanged.status_code == 200, unchanged.text
        assert unchanged.json()["changed"] is False and unchanged.json()["rematch"] is None

        drop_measure(edited_policies)
        reload = client.post("/v1/catalogue/reload", headers=auth(ADMIN))
        assert reload.status_code == 202, reload.text
        body = reload.json()
        assert body["changed"] and body["measures_removed"] == [DROPPED]
        assert body["rematch"]["state"] == "queued"
        assert client.get("/v1/measures/" + DROPPED).status_code == 404  # in force at once
        worker = Worker(
            client.app.state.engine,  # type: ignore[attr-defined]
            client.app.state.settings,  # type: ignore[attr-defined]
            client.app.state,  # type: ignore[attr-defined]
        )
        asyncio.run(worker.upkeep())
        run = client.get(reload.headers["location"], headers=auth(ADMIN)).json()
        assert run["state"] == "done" and run["firms_done"] == 6
        assert run["lost"] == {DROPPED: 6}
        lost = client.get(
            "/v1/push-events", params={"kind": "brand_building"}, headers=auth("push")
        ).json()["items"]
        assert [e["type"] for e in lost] == ["measure.matched"] * 6 + ["measure.unmatched"] * 6
        listed = client.get("/v1/catalogue/rematches", headers=auth(ADMIN)).json()
        assert listed["items"][0]["id"] == run["id"]


@pytest.mark.slow
def test_a_broken_catalogue_is_refused_and_the_one_in_force_stays(
    edited_policies: Path, auth: Token, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    upgrade_database(url)
    with serve(url, policies_dir=edited_policies) as client:
        in_force = client.app.state.catalogue.version  # type: ignore[attr-defined]
        path = edited_policies / "measures" / "loan-interest-subsidy.yaml"
        path.write_text(path.read_text().replace("clause: 二(二)5", "clause: 九(九)9"))
        refused = client.post("/v1/catalogue/reload", headers=auth(ADMIN))
        assert refused.status_code == 422
        assert any("loan-interest-subsidy" in e["message"] for e in refused.json()["errors"])
        assert client.app.state.catalogue.version == in_force  # type: ignore[attr-defined]
        assert client.post("/v1/catalogue/reload", headers=auth("push")).status_code == 403
        assert client.get("/v1/catalogue/rematches/999", headers=auth(ADMIN)).status_code == 404


def test_the_worker_queues_a_run_when_the_day_changes(engine: Engine) -> None:
    firms = profiles(5)
    store_all(engine, REAL, firms, date(2024, 1, 1))
    holder = SimpleNamespace(catalogue=REAL)
    worker = Worker(engine, TEST_SETTINGS, holder, clock=lambda: date(2025, 6, 1))
    asyncio.run(worker.upkeep())
    with engine.connect() as c:
        days = set(c.execute(select(ENTERPRISE.c.matched_on)).scalars())
    assert days == {date(2025, 6, 1)}
    assert len(rematch_events(engine)) == sum(
        len(matched_ids(REAL, p, date(2025, 6, 1))) for p in firms
    )


def test_the_in_process_worker_pushes_a_store_within_moments(
    empty_database: str, auth: Token, receiver: Receiver
) -> None:
    upgrade_database(empty_database)
    with serve(empty_database, push_worker_in_process=True, push_poll_seconds=5.0) as client:
        subscribe(client, auth, receiver)
        body = firm()
        put(client, auth, body)
        expected = len(
            client.get(
                "/v1/push-events", params={"uscc": body["uscc"]}, headers=auth("push")
            ).json()["items"]
        )
        assert receiver.wait_for(expected, timeout=4.0)  # woken by the store, not the 5 s poll
    assert all(r.verified for r in receiver.received)


@pytest.mark.slow
def test_publish_command_puts_the_folder_in_force_and_re_matches(
    tmp_path: Path, edited_policies: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    upgrade_database(url)
    engine = make_engine(url)
    store_all(engine, REAL, [Profile.model_validate(firm(tier="municipal", trademarks=1))], today())
    engine.dispose()
    drop_measure(edited_policies)
    env = {**os.environ, "POLICY_MATCH_DATABASE_URL": url}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "service.cli",
            "--lang",
            "en",
            "publish",
            "--policies",
            str(edited_policies),
            "--no-progress",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=PROJECT_ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert "re-matched 1 firms: 1 changed" in done.stdout
    assert f"lost   {DROPPED}: 1 firm(s)" in done.stdout


@pytest.mark.slow
def test_a_restarted_service_delivers_what_it_had_not(
    empty_database: str, auth: Token, receiver: Receiver
) -> None:
    upgrade_database(empty_database)
    receiver.behaviour = lambda n, event_id: 503  # the platform is down
    fast = {
        "push_worker_in_process": True,
        "push_backoff_base_seconds": 0.05,
        "push_backoff_cap_seconds": 0.2,
        "push_poll_seconds": 0.1,
    }
    with serve(empty_database, **fast) as client:
        subscribe(client, auth, receiver)
        body = firm(tier="none", trademarks=0)
        put(client, auth, body)
        events = client.get(
            "/v1/push-events", params={"uscc": body["uscc"]}, headers=auth("push")
        ).json()["items"]
        deadline = time.monotonic() + 10
        while len(receiver.received) < 2 * len(events) and time.monotonic() < deadline:
            time.sleep(0.05)  # every event tried, and tried again
    assert receiver.event_ids() == []
    receiver.behaviour = lambda n, event_id: 200  # the platform is back; so is the service
    with serve(empty_database, **fast):
        assert receiver.wait_for(len(events), timeout=10)
    assert sorted(set(receiver.event_ids())) == sorted(e["event_id"] for e in events)


def test_a_worker_runs_only_what_its_catalogue_is_for(
    engine: Engine, edited_policies: Path
) -> None:
    """A run for a catalogue no longer in force is superseded; one in force that this worker
    does not serve is left queued for a worker that does."""
    drop_measure(edited_policies)
    edited = load_catalogue(edited_policies)
    store_all(engine, REAL, profiles(3), date(2025, 6, 1))
    with write_transaction(engine) as c:
        stale_run = queue_rematch(
            c, reason="t", version=REAL.version, day=date(2025, 6, 2), requested_by="t"
        )
        publish(c, edited, by="test")
        current_run = queue_rematch(
            c, reason="t", version=edited.version, day=date(2025, 6, 2), requested_by="t"
        )
    behind = Worker(engine, TEST_SETTINGS, SimpleNamespace(catalogue=REAL))
    assert asyncio.run(behind.run_queued()) is True  # the stale run: superseded
    assert asyncio.run(behind.run_queued()) is False  # the current one: not its catalogue
    with engine.connect() as c:
        superseded, queued = run_record(c, stale_run), run_record(c, current_run)
    assert superseded is not None and (superseded["state"], superseded["reason"]) == (
        "done",
        "superseded",
    )
    assert queued is not None and queued["state"] == "queued" and queued["firms_done"] == 0
