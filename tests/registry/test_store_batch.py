"""store_profiles (an import's batch) leaves what store_profile one profile at a time leaves.

The same sequence of stores and deletions goes into two fresh databases, one profile at a time
and a batch at a time, on SQLite and on PostgreSQL; the registry, the history, the consents, the
outbox events, their deliveries and the subscriptions' counts must be the same, less times and
generated ids.
"""

from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, Table, func, select

from service.core.database import make_engine, write_transaction
from service.core.migrate import upgrade_database
from service.core.settings import Settings
from service.core.tables import CONSENT, DELIVERY, ENTERPRISE, EVENT, SUBSCRIPTION, VERSION
from service.policy.profile import Profile
from service.push.capacity import set_max_pending
from service.push.subscriptions import create_subscription
from service.registry.store import delete_enterprise, store_profile
from service.registry.store_batch import StoredCounts, store_profiles
from tests.conftest import BACKENDS, _database
from tests.factories import DAY, FEW, firm, real_catalogue

CATALOGUE = real_catalogue()
Step = tuple[str, Any, date]  # ("store", [profiles], day) or ("delete", uscc, day)


@pytest.fixture(params=BACKENDS)
def two_engines(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Engine, Engine]]:
    """Two fresh migrated databases on one backend, each with two subscriptions: one for every
    event, one for a county with room for only a few pending deliveries."""
    folders = [tmp_path / "one_by_one", tmp_path / "batched"]
    sources = []
    engines = []
    for folder in folders:
        folder.mkdir()
        source = _database(request.param, folder)
        url = next(source)
        sources.append(source)
        upgrade_database(url)
        engine = make_engine(url)
        engines.append(engine)
        with write_transaction(engine) as connection:
            for name, counties, cap in (("all", None, 10_000), ("taishan", ["440781"], 4)):
                subscription, _ = create_subscription(
                    connection,
                    Settings(),
                    url=f"https://platform.example.cn/{name}",
                    counties=counties,
                    kinds=None,
                    description=name,
                    created_by="test",
                )
                set_max_pending(connection, subscription.id, cap)
    yield engines[0], engines[1]
    for engine in engines:
        engine.dispose()
    for source in sources:
        next(source, None)


def _profile(body: dict[str, Any], **changes: Any) -> Profile:
    return Profile.model_validate({**body, **changes})


def _steps() -> list[Step]:
    """New firms, changed, unchanged, a re-creation after deletion, consent changes, a firm
    repeated within a batch, firms gaining and losing measures, a later day."""
    a, b, c, d = (firm(county="440781"), firm(), firm(bank_consents=["bank-1"]), firm())
    lean = firm(**FEW)
    a2 = _profile(a, **FEW)  # loses measures
    return [
        ("store", [_profile(a), _profile(b), _profile(c), a2, _profile(lean)], DAY),
        (
            "store",
            [
                a2,  # unchanged
                _profile(b, employees=7),  # changed
                _profile(c, bank_consents=["bank-2", "bank-1"]),  # consents change
                _profile(d),
                _profile(lean, **{k: v for k, v in a.items() if k != "uscc"}),  # gains
            ],
            DAY,
        ),
        ("delete", d["uscc"], DAY),
        (
            "store",
            [
                _profile(d, bank_consents=["bank-3"]),  # re-created after deletion
                _profile(c, bank_consents=[]),
                _profile(c, bank_consents=["bank-3"]),
                _profile(c, bank_consents=[]),
                _profile(a),  # gains again
                _profile(a),  # unchanged, in the same batch
            ],
            DAY,
        ),
        ("store", [_profile(a), _profile(b, employees=7)], DAY + timedelta(days=900)),  # refresh
    ]


def _one_by_one(engine: Engine, profiles: Sequence[Profile], day: date) -> StoredCounts:
    counts = StoredCounts()
    with write_transaction(engine) as connection:
        for profile in profiles:
            result = store_profile(connection, CATALOGUE, profile, changed_by="test", day=day)
            counts.created += result.created
            counts.updated += result.changed and not result.created
            counts.unchanged += not result.changed
            counts.deliveries += result.deliveries
    return counts


def _batched(engine: Engine, profiles: Sequence[Profile], day: date) -> StoredCounts:
    with write_transaction(engine) as connection:
        return store_profiles(connection, CATALOGUE, profiles, changed_by="test", day=day)


def _rows(engine: Engine, table: Table, drop: set[str], order: Sequence[str]) -> list[Any]:
    query = select(table).order_by(*(table.c[name] for name in order))
    with engine.connect() as connection:
        found = [dict(row) for row in connection.execute(query).mappings()]
    return [{k: v for k, v in row.items() if k not in drop} for row in found]


def _contents(engine: Engine) -> dict[str, list[Any]]:
    """What the registry and the outbox hold, less times and generated ids: an event is named
    by its place in the feed, a subscription by its description."""
    events = _rows(engine, EVENT, {"event_id", "occurred_at"}, ["id"])
    place = {event.pop("id"): n for n, event in enumerate(events)}
    for event in events:
        event["document"] = {
            k: v for k, v in event["document"].items() if k not in ("event_id", "occurred_at")
        }
    subscriptions = _rows(
        engine, SUBSCRIPTION, {"secret", "created_at", "not_queued_since"}, ["description"]
    )
    name = {sub.pop("id"): sub["description"] for sub in subscriptions}
    for sub in subscriptions:
        for key in ("not_queued_first", "not_queued_last"):
            sub[key] = place.get(sub[key])
    deliveries = _rows(engine, DELIVERY, {"id", "created_at", "next_attempt_at"}, ["id"])
    for delivery in deliveries:
        delivery["event_id"] = place[delivery["event_id"]]
        delivery["subscription_id"] = name[delivery["subscription_id"]]
    # a batch writes its deliveries subscription by subscription, not event by event
    deliveries.sort(key=lambda d: (d["event_id"], d["subscription_id"]))
    enterprises = _rows(engine, ENTERPRISE, {"created_at", "updated_at"}, ["uscc"])
    for enterprise in enterprises:
        enterprise["deleted_at"] = enterprise["deleted_at"] is not None
    return {
        "enterprise": enterprises,
        "enterprise_version": _rows(engine, VERSION, {"changed_at"}, ["uscc", "version"]),
        "bank_consent": _rows(engine, CONSENT, set(), ["bank_id", "uscc"]),
        "push_event": events,
        "push_delivery": deliveries,
        "push_subscription": subscriptions,
    }


def test_a_batch_stores_what_one_by_one_stores(two_engines: tuple[Engine, Engine]) -> None:
    one_by_one, batched = two_engines
    for action, what, day in _steps():
        if action == "delete":
            for engine in two_engines:
                with write_transaction(engine) as connection:
                    delete_enterprise(connection, CATALOGUE, what, changed_by="test")
            continue
        expected = _one_by_one(one_by_one, what, day)
        assert _batched(batched, what, day) == expected
    expected_contents, got = _contents(one_by_one), _contents(batched)
    for table, rows in expected_contents.items():
        assert got[table] == rows, table
    kinds = {e["type"] for e in expected_contents["push_event"]}
    assert kinds == {"measure.matched", "measure.unmatched"}, "the sequence shows gains and losses"
    counties = {d["subscription_id"] for d in expected_contents["push_delivery"]}
    assert counties == {"all", "taishan"}
    assert any(s["events_not_queued"] for s in expected_contents["push_subscription"])
    versions = expected_contents["enterprise_version"]
    assert {v["action"] for v in versions} == {"created", "updated", "deleted"}


def test_a_firm_repeated_in_a_batch_gets_a_version_each_time(engine: Engine) -> None:
    body = firm()
    profiles = [_profile(body, employees=n) for n in (10, 20, 20, 30)]
    with write_transaction(engine) as connection:
        counts = store_profiles(connection, CATALOGUE, profiles, changed_by="test", day=DAY)
    assert (counts.created, counts.updated, counts.unchanged) == (1, 2, 1)
    with engine.connect() as connection:
        versions = connection.execute(
            select(VERSION.c.version, VERSION.c.profile)
            .where(VERSION.c.uscc == body["uscc"])
            .order_by(VERSION.c.version)
        ).all()
    assert [(v, p["employees"]) for v, p in versions] == [(1, 10), (2, 20), (3, 30)]


def test_concurrent_batches_of_the_same_firms_each_become_versions(engine: Engine) -> None:
    bodies = [firm() for _ in range(12)]
    with write_transaction(engine) as connection:  # half stored already, half new
        store_profiles(
            connection, CATALOGUE, [_profile(b) for b in bodies[:6]], changed_by="test", day=DAY
        )
    writers = 4

    def write(n: int) -> StoredCounts:
        order = bodies if n % 2 == 0 else list(reversed(bodies))  # the locks taken in order
        batch = [_profile(b, employees=1000 + n) for b in order]
        with write_transaction(engine) as connection:
            return store_profiles(connection, CATALOGUE, batch, changed_by=f"w{n}", day=DAY)

    with ThreadPoolExecutor(writers) as pool:
        results = list(pool.map(write, range(writers)))
    assert sum(r.created for r in results) == 6  # each new firm created exactly once
    assert sum(r.updated for r in results) == writers * 12 - 6
    with engine.connect() as connection:
        versions = connection.execute(
            select(VERSION.c.uscc, func.count(), func.max(VERSION.c.version))
            .where(VERSION.c.uscc.in_([b["uscc"] for b in bodies]))
            .group_by(VERSION.c.uscc)
        ).all()
    expected = {b["uscc"]: writers + (n < 6) for n, b in enumerate(bodies)}
    assert {uscc: (count, top) for uscc, count, top in versions} == {
        uscc: (n, n) for uscc, n in expected.items()
    }
