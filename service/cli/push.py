"""`policy-match worker` and `prune`: push delivery with catalogue upkeep, and the feed pruned."""

import argparse
import asyncio

from service.cli.output import USAGE, Commands, checked, database_refused, say
from service.core.database import make_engine
from service.core.i18n import Language, message
from service.core.settings import get_settings
from service.push.capacity import recount_all
from service.push.retention import PRUNE_BATCH_EVENTS, PruneReport, prune


def add_worker(commands: Commands, language: Language) -> None:
    """Declare `policy-match worker`."""
    command = commands.add_parser(
        "worker",
        help=message("deliver push events and keep stored matches current").translate(language),
    )
    command.add_argument(
        "--name",
        default=None,
        help=message(
            "recorded with each delivery attempt (default: worker-<8 random hex digits>)"
        ).translate(language),
    )
    command.add_argument(
        "--drain",
        action="store_true",
        help=message("deliver what is due now, then exit").translate(language),
    )
    command.set_defaults(run=worker_command)


def add_prune(commands: Commands, language: Language) -> None:
    """Declare `policy-match prune` and its options."""
    command = commands.add_parser(
        "prune",
        help=message(
            "remove push events, deliveries and attempts older than the retention"
        ).translate(language),
    )
    command.add_argument(
        "--days",
        type=int,
        default=None,
        help=message(
            "keep this many days (default: POLICY_MATCH_PUSH_RETENTION_DAYS, 90)"
        ).translate(language),
    )
    command.add_argument(
        "--batch",
        type=int,
        default=PRUNE_BATCH_EVENTS,
        help=message("events a batch").translate(language),
    )
    command.set_defaults(run=prune_command)


def worker_command(args: argparse.Namespace) -> int:
    """Run a push worker until SIGINT or SIGTERM (with --drain: until nothing is due)."""
    import logging
    import signal
    from types import SimpleNamespace

    from sqlalchemy import Connection

    from service.core.database import run_write
    from service.core.logs import configure_logging
    from service.registry.publication import publish, published_version
    from service.worker import Worker

    language: Language = args.lang
    settings = get_settings()
    if settings.log_json:
        configure_logging(settings.log_level)
    else:
        logging.basicConfig(level=settings.log_level, format="%(asctime)s %(name)s %(message)s")
    catalogue = checked(settings.policies_dir, language)
    if catalogue is None:
        return 1
    refused = database_refused(settings.database_url, language)
    if refused is not None:
        return refused
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
            drained = message(
                "{worker}: {attempts} deliveries claimed: {totals}",
                worker=worker.name,
                attempts=attempts,
                totals=worker.delivery.totals,
            )
            say(drained, language)
            return
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        started = message(
            "{worker}: delivering push events and keeping matches current", worker=worker.name
        )
        say(started, language, flush=True)
        await worker.run(stop)

    try:
        asyncio.run(work())
    finally:
        engine.dispose()
    return 0


def report_text(report: PruneReport, days: int, language: Language) -> str:
    """What a prune removed, in one of our languages."""
    return message(
        "pruned {events} push events, {deliveries} deliveries and {attempts} attempts older "
        "than {before} (kept {days} days) in {batches} batches; the feed is pruned through "
        "sequence {through}",
        events=report.events,
        deliveries=report.deliveries,
        attempts=report.attempts,
        before=report.before.strftime("%Y-%m-%d %H:%M:%S UTC"),
        days=days,
        batches=report.batches,
        through=report.through,
    ).translate(language)


def prune_command(args: argparse.Namespace) -> int:
    """Prune in batches, correct the subscriptions' pending counts, say what went."""
    language: Language = args.lang
    settings = get_settings()
    days = settings.push_retention_days if args.days is None else args.days
    if days < 1 or args.batch < 1:
        say(message("--days and --batch must be at least 1"), language)
        return USAGE
    refused = database_refused(settings.database_url, language)
    if refused is not None:
        return refused
    engine = make_engine(settings.database_url)

    async def work() -> PruneReport:
        report = await prune(engine, retention_days=days, batch_events=args.batch)
        cap = settings.push_max_pending_per_subscription
        await recount_all(engine, cap)
        return report

    try:
        report = asyncio.run(work())
    finally:
        engine.dispose()
    say(report_text(report, days, language), language)
    return 0
