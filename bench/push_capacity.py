"""What the pending cap costs where deliveries are written, side by side in one process.

Run: .venv/bin/python -m bench.push_capacity [--subscriptions 4] [--batches 40] [--database URL]
A fresh SQLite file (or the empty, migrated database given), S subscriptions to every event.
Each batch is one transaction like a re-match batch's: 500 firms' events inserted, then their
deliveries written by one of two fan-outs, alternating batch by batch on the same database:
- `fan_out` (service/push/capacity.py), with room for every delivery: reads the filters and
  counts, writes the deliveries, adds to each subscription's count;
- the fan-out as it was before the cap (below, verbatim): reads the filters, writes the
  deliveries.
Both write the same rows. Then the same with every subscription full (the cap at 0: nothing
written, each event counted), and the recount a worker's upkeep makes.
"""

import argparse
import statistics
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from bench.store_http import subscribe
from service.core.database import make_engine, write_transaction
from service.core.migrate import upgrade_database
from service.core.tables import DELIVERY, EVENT, SUBSCRIPTION, utcnow
from service.push.capacity import fan_out, recount_pending
from service.push.routing import active_subscriptions, lock_event_order

FIRMS_PER_BATCH = 500
EVENTS_PER_FIRM = 3
COUNTIES = ("440703", "440704", "440705", "440781", "440783", "440784", "440785")


def before_the_cap(
    connection: Connection, events: list[tuple[int, str, str]], now: datetime
) -> int:
    """The fan-out of record_match_changes before the cap (commit 31bd134)."""
    subscriptions = active_subscriptions(connection)
    deliveries = [
        {
            "event_id": position,
            "subscription_id": s.id,
            "state": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for position, county, kind in events
        for s in subscriptions
        if s.passes(county, kind)
    ]
    if deliveries:
        connection.execute(insert(DELIVERY), deliveries)
    return len(deliveries)


def batch(connection: Connection, serial: int, writer: Any) -> tuple[float, float]:
    """One batch: insert its events, then fan out; (seconds of the fan-out, of the whole)."""
    started = time.perf_counter()
    now = utcnow()
    rows = []
    for firm in range(FIRMS_PER_BATCH):
        for n in range(EVENTS_PER_FIRM):
            event_id = f"evt_bench_{serial}_{firm}_{n}"
            rows.append(
                {
                    "event_id": event_id,
                    "type": "measure.matched",
                    "occurred_at": now,
                    "uscc": f"{serial:09d}{firm:09d}"[-18:],
                    "county": COUNTIES[firm % len(COUNTIES)],
                    "measure_id": f"measure-{n}",
                    "kind": "loan_interest_subsidy",
                    "cause": "rematch",
                    "document": {"event_id": event_id},
                }
            )
    lock_event_order(connection)
    positions = connection.execute(
        insert(EVENT).returning(EVENT.c.id, sort_by_parameter_order=True), rows
    ).scalars()
    events = [(p, r["county"], r["kind"]) for p, r in zip(positions, rows, strict=True)]
    fanning = time.perf_counter()
    writer(connection, events, now)
    done = time.perf_counter()
    return done - fanning, done - started


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscriptions", type=int, default=4)
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--database", default=None, help="an empty, migrated database URL")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database or f"sqlite:///{Path(folder) / 'bench.db'}"
        if args.database is None:
            upgrade_database(url)
        subscribe(url, args.subscriptions, room=1_000_000_000)
        engine = make_engine(url)
        times: dict[str, list[tuple[float, float]]] = {"capped": [], "before": []}
        for serial in range(args.batches):
            name = "capped" if serial % 2 else "before"
            writer = fan_out if name == "capped" else before_the_cap
            with write_transaction(engine) as connection:
                times[name].append(batch(connection, serial, writer))
        with write_transaction(engine) as connection:
            connection.execute(update(SUBSCRIPTION).values(max_pending=0))
        full = []
        for serial in range(args.batches, args.batches + args.batches // 2):
            with write_transaction(engine) as connection:
                full.append(batch(connection, serial, fan_out))
        with engine.connect() as connection:
            pending = connection.execute(select(func.count()).select_from(DELIVERY)).scalar_one()
        started = time.perf_counter()
        with write_transaction(engine) as connection:
            recount_pending(connection, 1_000_000_000)
        recount = time.perf_counter() - started
        engine.dispose()
    events = FIRMS_PER_BATCH * EVENTS_PER_FIRM
    medians = {
        name: (statistics.median(f for f, _ in runs), statistics.median(w for _, w in runs))
        for name, runs in (*times.items(), ("full", full))
    }
    for name, label in (
        ("before", "fan-out before the cap"),
        ("capped", "fan-out with the cap  "),
        ("full", "every subscription full"),
    ):
        fan, whole = medians[name]
        print(
            f"{label}: fan-out {fan * 1000:.1f} ms, whole batch {whole * 1000:.1f} ms "
            f"({events:,} events x {args.subscriptions} subscriptions), median of "
            f"{len(times.get(name, full))} batches"
        )
    (capped, capped_whole), (before, before_whole) = medians["capped"], medians["before"]
    print(
        f"{engine.dialect.name}: the cap's bookkeeping: fan-out ratio {capped / before:.2f}, "
        f"whole batch ratio {capped_whole / before_whole:.2f}; full subscriptions: fan-out "
        f"{medians['full'][0] * 1000:.1f} ms; recount of {pending:,} deliveries "
        f"{recount * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
