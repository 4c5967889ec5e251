"""Re-matching every stored firm after a catalogue change, on SQLite (the issue's target: 100,000
firms in at most 60 s).

Run: .venv/bin/python -m bench.rematch [--firms 100000] [--batch 500] [--database URL]
Loads synthetic firms straight into a fresh SQLite file (or the empty, migrated database given)
with their matches, and one push subscription. Then two catalogue changes, each published and
re-matched by a run in batches, as the worker executes it (each batch one transaction: read,
match, write the new sets, the events and their deliveries):
1. a copy of the policies folder without `ladder-training-courses`: firms lose it;
2. the real folder again: they gain it back.
Beside each run, in the same process: reading every stored profile and matching it, with no
writes (the floor a run cannot go below).
"""

import argparse
import asyncio
import shutil
import tempfile
import time
from datetime import date
from pathlib import Path

from sqlalchemy import Engine, func, insert, select

from service.core.database import make_engine, write_transaction
from service.core.migrate import upgrade_database
from service.core.settings import PROJECT_ROOT, Settings
from service.core.tables import DELIVERY, ENTERPRISE, EVENT, SUBSCRIPTION, utcnow
from service.policy.catalogue import Catalogue, load_catalogue
from service.policy.profile import Profile
from service.push.capacity import set_max_pending
from service.push.subscriptions import create_subscription
from service.registry.demo import synthetic_profiles
from service.registry.publication import publish
from service.registry.rematch import claim_run, execute_run, queue_rematch
from service.registry.store import fact_columns, matched_ids, profile_document

DAY = date(2025, 6, 1)
DROPPED = "ladder-training-courses"  # no indicator or target names it: the copy still loads


def load(engine: Engine, catalogue: Catalogue, firms: int, max_pending: int) -> None:
    """Insert `firms` synthetic firms with their matches (no history: this is only set-up)."""
    now = utcnow()
    with write_transaction(engine) as connection:
        publish(connection, catalogue, by="bench")
        subscription, _ = create_subscription(
            connection,
            Settings(),
            url="https://platform.example.cn/hook",
            counties=None,
            kinds=None,
            description="bench",
            created_by="bench",
        )
        # room for every event (a delivery each, as before caps): the cap's bookkeeping is
        # measured, not fewer writes; --max-pending 10000 (the default setting) shows the cap
        set_max_pending(connection, subscription.id, max_pending)
        rows = []
        for profile in synthetic_profiles(firms, seed=2024):
            rows.append(
                {
                    **fact_columns(profile),
                    "uscc": profile.uscc,
                    "name": profile.name,
                    "profile": profile_document(profile),
                    "version": 1,
                    "matched": list(matched_ids(catalogue, profile, DAY)),
                    "matched_catalogue_version": catalogue.version,
                    "matched_on": DAY,
                    "synthetic": True,
                    "created_at": now,
                    "updated_at": now,
                    "updated_by": "bench",
                }
            )
            if len(rows) == 5000:
                connection.execute(insert(ENTERPRISE), rows)
                rows = []
        if rows:
            connection.execute(insert(ENTERPRISE), rows)


def floor(engine: Engine, catalogue: Catalogue) -> float:
    """Seconds to read every stored profile and match it, writing nothing."""
    started = time.perf_counter()
    with engine.connect() as connection:
        for (document,) in connection.execute(select(ENTERPRISE.c.profile)).yield_per(5000):
            matched_ids(catalogue, Profile.model_validate(document), DAY)
    return time.perf_counter() - started


def run(engine: Engine, catalogue: Catalogue, batch: int) -> tuple[float, int]:
    """Publish, queue and execute a re-match run; its seconds and the events it wrote."""
    with engine.connect() as connection:
        events_before = connection.execute(select(func.count()).select_from(EVENT)).scalar_one()
    started = time.perf_counter()
    with write_transaction(engine) as connection:
        publish(connection, catalogue, by="bench")
        run_id = queue_rematch(
            connection,
            reason="catalogue_published",
            version=catalogue.version,
            day=DAY,
            requested_by="bench",
        )
    with write_transaction(engine) as connection:
        claim = claim_run(connection, worker="bench", run_id=run_id)
    assert claim is not None
    asyncio.run(execute_run(engine, catalogue, claim, batch_size=batch))
    elapsed = time.perf_counter() - started
    with engine.connect() as connection:
        events = connection.execute(select(func.count()).select_from(EVENT)).scalar_one()
        deliveries = connection.execute(select(func.count()).select_from(DELIVERY)).scalar_one()
    with engine.connect() as connection:
        not_queued = connection.execute(select(func.sum(SUBSCRIPTION.c.events_not_queued))).scalar()
    assert deliveries + (not_queued or 0) == events  # one subscription: each event once
    return elapsed, int(events - events_before)


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--firms", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--database", default=None, help="an empty, migrated database URL")
    parser.add_argument(
        "--max-pending", type=int, default=10_000_000, help="the subscription's cap of pending"
    )
    args = parser.parse_args()
    real = load_catalogue(PROJECT_ROOT / "policies")
    with tempfile.TemporaryDirectory() as folder:
        edited_dir = Path(folder) / "policies"
        shutil.copytree(PROJECT_ROOT / "policies", edited_dir)
        (edited_dir / "measures" / f"{DROPPED}.yaml").unlink()
        edited = load_catalogue(edited_dir)
        database = args.database or f"sqlite:///{Path(folder) / 'bench.db'}"
        if args.database is None:
            upgrade_database(database)
        engine = make_engine(database)
        started = time.perf_counter()
        load(engine, real, args.firms, args.max_pending)
        print(f"loaded {args.firms} firms in {time.perf_counter() - started:.1f} s")
        worst = 0.0
        for label, catalogue in ((f"without {DROPPED}", edited), ("the real one again", real)):
            seconds, events = run(engine, catalogue, args.batch)
            bare = floor(engine, catalogue)
            worst = max(worst, seconds)
            print(
                f"catalogue {label}: re-match {seconds:.1f} s ({args.firms / seconds:,.0f} "
                f"firms/s, {events:,} events); read and match only {bare:.1f} s; "
                f"ratio {seconds / bare:.2f}"
            )
        print(
            f"{engine.dialect.name}: slowest re-match of {args.firms:,} firms {worst:.1f} s; "
            f"target <= 60 s: {'PASS' if worst <= 60 else 'FAIL'}"
        )
        engine.dispose()


if __name__ == "__main__":
    main()
