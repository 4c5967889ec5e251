"""`policy-match worker` and `prune`: push delivery with catalogue upkeep, and the feed pruned."""

import argparse
import asyncio

from service.cli.output import USAGE, Commands, checked, database_refused
from service.core.database import make_engine
from service.core.i18n import LANGUAGES, Language
from service.core.settings import get_settings
from service.push.capacity import recount_all
from service.push.retention import PRUNE_BATCH_EVENTS, PruneReport, prune

MESSAGES: dict[Language, str] = {
    "zh-Hans": (
        "已清理 {events} 个推送事件、{deliveries} 个投递和 {attempts} 次投递尝试"
        "（早于 {before}，保留 {days} 天），共 {batches} 批；事件流已清理至序号 {through}。"
    ),
    "zh-Hant": (
        "已清理 {events} 個推送事件、{deliveries} 個投遞和 {attempts} 次投遞嘗試"
        "（早於 {before}，保留 {days} 天），共 {batches} 批；事件流已清理至序號 {through}。"
    ),
    "en": (
        "pruned {events} push events, {deliveries} deliveries and {attempts} attempts older "
        "than {before} (kept {days} days) in {batches} batches; the feed is pruned through "
        "sequence {through}"
    ),
}


def add_worker(commands: Commands) -> None:
    """Declare `policy-match worker`."""
    command = commands.add_parser(
        "worker", help="deliver push events and keep stored matches current"
    )
    command.add_argument(
        "--name",
        default=None,
        help="recorded with each delivery attempt (default: worker-<8 random hex digits>)",
    )
    command.add_argument("--drain", action="store_true", help="deliver what is due now, then exit")
    command.set_defaults(run=worker_command)


def add_prune(commands: Commands) -> None:
    """Declare `policy-match prune` and its options."""
    command = commands.add_parser(
        "prune", help="remove push events, deliveries and attempts older than the retention"
    )
    command.add_argument(
        "--days",
        type=int,
        default=None,
        help="keep this many days (default: POLICY_MATCH_PUSH_RETENTION_DAYS, 90)",
    )
    command.add_argument("--batch", type=int, default=PRUNE_BATCH_EVENTS, help="events a batch")
    command.add_argument(
        "--language", choices=LANGUAGES, default="zh-Hans", help="the language of the report"
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

    settings = get_settings()
    if settings.log_json:
        configure_logging(settings.log_level)
    else:
        logging.basicConfig(level=settings.log_level, format="%(asctime)s %(name)s %(message)s")
    catalogue = checked(settings.policies_dir)
    if catalogue is None:
        return 1
    refused = database_refused(settings.database_url)
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


def report_text(report: PruneReport, days: int, language: Language) -> str:
    """What a prune removed, in one of our languages."""
    return MESSAGES[language].format(
        events=report.events,
        deliveries=report.deliveries,
        attempts=report.attempts,
        before=report.before.strftime("%Y-%m-%d %H:%M:%S UTC"),
        days=days,
        batches=report.batches,
        through=report.through,
    )


def prune_command(args: argparse.Namespace) -> int:
    """Prune in batches, correct the subscriptions' pending counts, say what went."""
    settings = get_settings()
    days = settings.push_retention_days if args.days is None else args.days
    if days < 1 or args.batch < 1:
        print("--days 与 --batch 须至少为 1 / --days and --batch must be at least 1")
        return USAGE
    refused = database_refused(settings.database_url)
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
    print(report_text(report, days, args.language))
    return 0
