"""`policy-match worker` and `policy-match publish`: push delivery and catalogue upkeep."""

import argparse
import asyncio
import logging
import signal
from pathlib import Path
from types import SimpleNamespace

from sqlalchemy import Connection
from tqdm import tqdm

from service.api.deps import today
from service.cli import print_problems
from service.core.database import make_engine, run_read, run_write
from service.core.logs import configure_logging
from service.core.settings import get_settings
from service.matching.cases import load_checked_catalogue
from service.policy.catalogue import Catalogue, CatalogueError
from service.registry.rematch import (
    any_stale,
    claim_run,
    count_stale,
    execute_run,
    publish,
    published_version,
    queue_rematch,
    run_record,
)
from service.worker import Worker


def _catalogue(policies_dir: Path) -> Catalogue | None:
    try:
        return load_checked_catalogue(policies_dir)
    except CatalogueError as e:
        print_problems(policies_dir, e)
        return None


def worker_command(args: argparse.Namespace) -> int:
    """Run a push worker until SIGINT or SIGTERM (with --drain: until nothing is due)."""
    settings = get_settings()
    if settings.log_json:
        configure_logging(settings.log_level)
    else:
        logging.basicConfig(level=settings.log_level, format="%(asctime)s %(name)s %(message)s")
    catalogue = _catalogue(settings.policies_dir)
    if catalogue is None:
        return 1
    engine = make_engine(
        settings.database_url, statement_timeout_ms=settings.database_statement_timeout_ms
    )
    worker = Worker(engine, settings, SimpleNamespace(catalogue=catalogue), name=args.name)

    def first_publication(connection: Connection) -> None:
        if published_version(connection) is None:  # no service has started on this database
            publish(connection, catalogue, by=worker.name)

    async def work() -> None:
        await run_write(engine, first_publication)
        if args.drain:
            await worker.upkeep()
            attempts = await worker.delivery.drain()
            print(f"{worker.name}: {attempts} deliveries claimed: {worker.delivery.totals}")
            return
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        print(f"{worker.name}: delivering push events and keeping matches current", flush=True)
        await worker.run(stop)

    try:
        asyncio.run(work())
    finally:
        engine.dispose()
    return 0


def publish_command(args: argparse.Namespace) -> int:
    """Put the policies folder in force and re-match the stored firms, with a progress bar."""
    settings = get_settings()
    catalogue = _catalogue(args.policies or settings.policies_dir)
    if catalogue is None:
        return 1
    engine = make_engine(settings.database_url)
    day = today()

    def put_in_force(connection: Connection) -> tuple[str | None, int | None]:
        previous = published_version(connection)
        publish(connection, catalogue, by=args.by)
        if not any_stale(connection, catalogue.version, day):
            return previous, None
        return previous, queue_rematch(
            connection,
            reason="catalogue_published",
            version=catalogue.version,
            day=day,
            requested_by=args.by,
        )

    async def work() -> int:
        previous, run_id = await run_write(engine, put_in_force)
        print(f"catalogue {catalogue.version} in force (was {previous or 'none'})")
        if run_id is None:
            print("every stored firm's matches are current")
            return 0
        claim = await run_write(engine, lambda c: claim_run(c, worker=args.by, run_id=run_id))
        if claim is None:
            print(f"re-match run {run_id} is with a worker: GET /v1/catalogue/rematches/{run_id}")
            return 0
        total = await run_read(engine, lambda c: count_stale(c, catalogue.version, day))
        with tqdm(total=total, unit="firm", disable=args.no_progress) as bar:
            await execute_run(
                engine,
                catalogue,
                claim,
                batch_size=settings.rematch_batch_size,
                progress=bar.update,
            )
        run = await run_read(engine, lambda c: run_record(c, run_id))
        assert run is not None
        print(
            f"re-matched {run['firms_done']} firms: {run['firms_changed']} changed, "
            f"{run['events']} push events"
        )
        for label, counts in (("gained", run["gained"]), ("lost", run["lost"])):
            for measure_id, firms in counts.items():
                print(f"  {label:6} {measure_id}: {firms} firm(s)")
        return 0

    try:
        return asyncio.run(work())
    finally:
        engine.dispose()
