"""One push worker delivering to a local receiver, against the same POSTs made with no worker.

Run: .venv/bin/python -m bench.push_delivery [--firms 600] [--rounds 3] [--database URL]
Stores synthetic firms (their matches are the events) on a fresh SQLite file (or the database
given, which must be empty and migrated), subscribes a receiver (bench/receiver.py under uvicorn,
its own process) and then, round after round:
- worker: one DeliveryWorker, running as it does in service (a lane for the subscription),
  until every delivery is acknowledged: claim in batches, sign (Standard Webhooks), POST,
  settle and record each attempt;
- bare POSTs: the same bodies POSTed by httpx, as many at once as the worker sends to one
  subscription, no database, no
  signing: what the receiver and the loopback allow, the ceiling the worker is measured against.
Between rounds the deliveries are set pending again. The receiver's count is checked each time.
"""

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import httpx
import orjson
from sqlalchemy import Engine, func, select, update

from bench.common import free_port
from service.core.database import make_engine, write_transaction
from service.core.migrate import upgrade_database
from service.core.settings import PROJECT_ROOT, Settings
from service.core.tables import DELIVERY, EVENT, utcnow
from service.policy.catalogue import load_catalogue
from service.push.deliver import DeliveryWorker
from service.push.subscriptions import create_subscription
from service.registry.demo import synthetic_profiles
from service.registry.publication import publish
from service.registry.store import store_profile

DAY = date(2025, 6, 1)


def prepare(engine: Engine, firms: int, receiver_url: str) -> int:
    """A subscription and the events of `firms` stored firms; the number of deliveries."""
    catalogue = load_catalogue(PROJECT_ROOT / "policies")
    with write_transaction(engine) as connection:
        publish(connection, catalogue, by="bench")
        create_subscription(
            connection,
            Settings(),
            url=receiver_url,
            counties=None,
            kinds=None,
            description="bench",
            created_by="bench",
        )
        for profile in synthetic_profiles(firms, seed=7):
            store_profile(connection, catalogue, profile, changed_by="bench", day=DAY)
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(DELIVERY)).scalar_one())


def reset(engine: Engine) -> None:
    """Every delivery pending again, as new."""
    with write_transaction(engine) as connection:
        connection.execute(
            update(DELIVERY).values(
                state="pending", attempts=0, next_attempt_at=utcnow(), claim=None
            )
        )


def start_receiver(port: int) -> subprocess.Popen[bytes]:
    """bench.receiver under uvicorn, one process."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.receiver:app",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=PROJECT_ROOT,
    )
    for _ in range(100):
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
            return process
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("the receiver did not start")


def received(port: int) -> int:
    """How many POSTs the receiver has counted."""
    return int(httpx.get(f"http://127.0.0.1:{port}/").text)


async def bare_posts(url: str, bodies: list[bytes], concurrency: int) -> None:
    """POST every body, `concurrency` at a time, as the worker's client would."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    gate = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(limits=limits, trust_env=False) as client:

        async def one(body: bytes) -> None:
            async with gate:
                response = await client.post(
                    url, content=body, headers={"content-type": "application/json"}
                )
                response.raise_for_status()

        await asyncio.gather(*(one(b) for b in bodies))


async def run_until_delivered(worker: DeliveryWorker, deliveries: int) -> None:
    """The worker's own loop (its lane for the subscription), stopped once all are delivered."""
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    while worker.totals.get("delivered", 0) < deliveries:
        await asyncio.sleep(0.01)
    stop.set()
    await running


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--firms", type=int, default=600)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database", default=None, help="an empty, migrated database URL")
    args = parser.parse_args()
    settings = Settings(push_allow_internal_targets=True)
    port = free_port()
    receiver = start_receiver(port)
    url = f"http://127.0.0.1:{port}/hooks"
    try:
        with tempfile.TemporaryDirectory() as folder:
            database = args.database or f"sqlite:///{Path(folder) / 'bench.db'}"
            if args.database is None:
                upgrade_database(database)
            engine = make_engine(database)
            deliveries = prepare(engine, args.firms, url)
            with engine.connect() as connection:
                bodies = [
                    orjson.dumps(d) for d in connection.execute(select(EVENT.c.document)).scalars()
                ]
            print(
                f"{args.firms} firms stored: {deliveries} events, each to one subscription "
                f"({settings.push_batch_size} per claim, "
                f"{min(settings.push_concurrency, settings.push_concurrency_per_target)} at once)"
            )
            # to one subscription the worker has at most this many POSTs in flight; so has httpx
            in_flight = min(settings.push_concurrency, settings.push_concurrency_per_target)
            rates: dict[str, list[float]] = {"worker": [], "bare POSTs": []}
            for round_ in range(args.rounds):
                reset(engine)
                before = received(port)
                worker = DeliveryWorker(engine, settings, name="bench")
                started = time.perf_counter()
                asyncio.run(run_until_delivered(worker, deliveries))
                elapsed = time.perf_counter() - started
                assert worker.totals == {"delivered": deliveries}, worker.totals
                assert received(port) - before == deliveries
                rates["worker"].append(deliveries / elapsed)
                before = received(port)
                started = time.perf_counter()
                asyncio.run(bare_posts(url, bodies, in_flight))
                bare = time.perf_counter() - started
                assert received(port) - before == len(bodies)
                rates["bare POSTs"].append(len(bodies) / bare)
                print(
                    f"round {round_ + 1}: worker {deliveries / elapsed:7.0f} events/s "
                    f"({elapsed:.2f} s); bare POSTs {len(bodies) / bare:7.0f} req/s"
                )
            engine.dispose()
    finally:
        receiver.terminate()
        receiver.wait(timeout=10)
    worker_rate = statistics.median(rates["worker"])
    bare_rate = statistics.median(rates["bare POSTs"])
    backend = make_engine(database).dialect.name if args.database else "sqlite"
    print(
        f"median: one worker on {backend} {worker_rate:.0f} events/s, bare POSTs "
        f"{bare_rate:.0f} req/s; ratio {worker_rate / bare_rate:.2f}; "
        f"target >= 300 events/s: {'PASS' if worker_rate >= 300 else 'FAIL'}"
    )


if __name__ == "__main__":
    main()
