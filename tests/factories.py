"""What many tests build, defined once: the real catalogue and the test day, firms and their
credit codes, storing them over HTTP or by import, the service's engine, and the push worker run
fast in-process or as a process."""

import asyncio
import base64
import os
import random
import time
from collections.abc import Callable
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import ColumnElement, Engine, func, select

from service.core.database import make_engine, write_transaction
from service.core.tables import DELIVERY, ENTERPRISE
from service.policy.catalogue import Catalogue, load_catalogue
from service.policy.examples import FULL_PROFILE, synthetic_uscc
from service.policy.profile import Profile
from service.policy.uscc import CHARSET
from service.push.deliver import DeliveryWorker
from service.registry.importing import ImportReport, import_file
from service.registry.store import store_profile
from tests.conftest import Token
from tests.policy_copies import POLICIES
from tests.receiver import Receiver

# --- the plan and the day ---------------------------------------------------------------------

DAY = date(2025, 6, 1)  # a day when the plan is in force
PROBLEM = "application/problem+json"


@cache
def real_catalogue() -> Catalogue:
    """The real catalogue, loaded once for the whole run (loading takes a second or two)."""
    return load_catalogue(POLICIES)


# --- firms ------------------------------------------------------------------------------------

WRITE = ("enterprises:write", "enterprises:read")
FEW = {"tier": "none", "trademarks": 0}  # changes to a profile that makes a handful of events
_rng = random.Random(11)


def new_uscc() -> str:
    """A fresh valid credit code, so that tests sharing a database never meet."""
    return synthetic_uscc("91440781" + "".join(_rng.choice(CHARSET) for _ in range(9)))


def wrong_check_digit(uscc: str) -> str:
    """The credit code with a check character that is not its own."""
    return uscc[:-1] + ("1" if uscc[-1] != "1" else "2")


def firm(**changes: Any) -> dict[str, Any]:
    """The full example profile under a fresh credit code, with changes."""
    return {**FULL_PROFILE, "uscc": new_uscc(), **changes}


def put(client: TestClient, auth: Token, body: dict[str, Any], **headers: str) -> Any:
    """PUT a profile at its own uscc."""
    return client.put(f"/v1/enterprises/{body['uscc']}", json=body, headers=auth(*WRITE, **headers))


def import_quietly(path: Path, database: str, *, synthetic: bool = False) -> ImportReport:
    """import_file() with the real catalogue into the database, on 2025-06-01, quietly."""
    engine = make_engine(database)
    try:
        return import_file(
            path,
            engine,
            real_catalogue(),
            changed_by="test",
            day=DAY,
            synthetic=synthetic,
            progress=False,
        )
    finally:
        engine.dispose()


def store_directly(engine: Engine, profiles: list[Profile], day: date = DAY) -> None:
    """Store profiles with the real catalogue in one transaction, as of `day` (no HTTP)."""
    with write_transaction(engine) as connection:
        for profile in profiles:
            store_profile(connection, real_catalogue(), profile, changed_by="test", day=day)


def count_enterprises(url: str, *where: ColumnElement[bool]) -> int:
    """How many firms the database at `url` holds (that meet `where`)."""
    engine = make_engine(url)
    with engine.connect() as connection:
        query = select(func.count()).select_from(ENTERPRISE).where(*where)
        count = connection.execute(query).scalar_one()
    engine.dispose()
    return int(count)


def engine_of(client: TestClient) -> Engine:
    """The service's own engine."""
    engine: Engine = client.app.state.engine  # type: ignore[attr-defined]
    return engine


def refresh(client: TestClient) -> bool:
    """Have the service read its database gauges now (as its background task does)."""
    assert client.portal is not None
    collector = client.app.state.outbox_collector  # type: ignore[attr-defined]
    return bool(client.portal.call(collector.refresh))


# --- tokens -----------------------------------------------------------------------------------


def b64(data: bytes) -> str:
    """base64url without padding, as JWTs use."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# --- push ---------------------------------------------------------------------------------------

FAST = {
    "push_backoff_base_seconds": 0.02,
    "push_backoff_cap_seconds": 0.1,
    "push_timeout_seconds": 1.0,  # the whole attempt: generous on a busy machine
    "push_max_attempts": 4,
    "push_lease_seconds": 5.0,
}


def worker_for(client: TestClient, name: str = "test-worker", **settings: Any) -> DeliveryWorker:
    """A delivery worker on the service's database, with the service's settings."""
    merged = client.app.state.settings.model_copy(update=settings)  # type: ignore[attr-defined]
    return DeliveryWorker(engine_of(client), merged, name=name)


def deliver_until(worker: DeliveryWorker, done: Callable[[], bool], timeout: float = 15.0) -> None:
    """Run the worker (retries come due) until `done()` holds."""
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "deliveries did not finish in time"
        asyncio.run(worker.drain())
        time.sleep(0.02)


def subscribe(
    client: TestClient, auth: Token, receiver: Receiver, **filters: Any
) -> dict[str, Any]:
    """Subscribe the receiver; it learns the secret to verify with."""
    response = client.post(
        "/v1/subscriptions", json={"url": receiver.url, **filters}, headers=auth("push")
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    receiver.secrets.append(created["secret"])
    return created


def feed_ids(client: TestClient, auth: Token, **params: Any) -> list[str]:
    """Every event id in the feed (filtered)."""
    events = client.get(
        "/v1/push-events", params={"limit": 1000, **params}, headers=auth("push")
    ).json()["items"]
    return [e["event_id"] for e in events]


def detail(client: TestClient, auth: Token, event_id: str) -> dict[str, Any]:
    """GET /v1/push-events/{event_id}."""
    response = client.get(f"/v1/push-events/{event_id}", headers=auth("push"))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def states(client: TestClient) -> dict[str, int]:
    """Deliveries by state."""
    with engine_of(client).connect() as connection:
        rows = connection.execute(select(DELIVERY.c.state)).scalars().all()
    counts: dict[str, int] = {}
    for state in rows:
        counts[state] = counts.get(state, 0) + 1
    return counts


def worker_env(database_url: str, **settings: Any) -> dict[str, str]:
    """The environment of a worker process on this database, with these settings."""
    env = {**os.environ, "POLICY_MATCH_DATABASE_URL": database_url}
    env["POLICY_MATCH_PUSH_ALLOW_INTERNAL_TARGETS"] = "true"
    for name, value in settings.items():
        env[f"POLICY_MATCH_{name.upper()}"] = str(value)
    return env


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll until the condition holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)
