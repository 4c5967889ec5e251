"""The push worker: delivers events and keeps stored matches current.

One worker runs inside the service (the run command's) and any number run as
`policy-match worker`. Each does two things at once:
- delivery (service/push/deliver.py), woken early when its own process wrote events
  (service/push/wake.py);
- upkeep, every `catalogue_check_seconds`: follow the catalogue in force (a newer publication
  is loaded from the policies folder), queue a re-match when stored matches are older than
  the catalogue or than today, and execute queued runs (service/registry/rematch.py).
"""

import asyncio
import logging
from collections.abc import Callable
from datetime import date
from typing import Protocol

from anyio.to_thread import run_sync
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from service.core.clock import today
from service.core.database import run_read, run_write
from service.core.errors import Unavailable
from service.core.settings import Settings
from service.matching.cases import load_checked_catalogue
from service.policy.catalogue import Catalogue, CatalogueError
from service.push.capacity import recount_all
from service.push.deliver import DeliveryWorker
from service.push.retention import claim_daily_prune, prune
from service.push.wake import pause
from service.registry.publication import publish, published_version
from service.registry.rematch import (
    any_stale,
    claim_run,
    execute_run,
    finish_run,
    queue_rematch,
    release_run,
)

log = logging.getLogger("policy_match.worker")


class CatalogueHolder(Protocol):
    """Where a process keeps the catalogue it serves (the app's state, or the worker's)."""

    catalogue: Catalogue


class Worker:
    """Delivery and upkeep for one process; `run(stop)` until stopped."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        holder: CatalogueHolder,
        *,
        name: str | None = None,
        clock: Callable[[], date] = today,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.holder = holder
        self.clock = clock
        self.delivery = DeliveryWorker(engine, settings, name=name)
        self.name = self.delivery.name
        self.upkeep_now = asyncio.Event()
        self._checked: tuple[str, date] | None = None

    def wake(self, *, upkeep: bool = False) -> None:
        """Deliver now (events were written); with `upkeep`, also look for a run now."""
        self.delivery.wake.set()
        if upkeep:
            self.upkeep_now.set()

    async def follow_publication(self) -> None:
        """Serve the newest published catalogue, loading it from the policies folder if new."""
        version = await run_read(self.engine, published_version)
        if version is None or version == self.holder.catalogue.version:
            return
        try:
            loaded = await run_sync(load_checked_catalogue, self.settings.policies_dir)
        except CatalogueError as e:
            log.error(
                "%s: catalogue %s is in force but ours does not load: %s", self.name, version, e
            )
            return
        if loaded.version != version:
            log.error(
                "%s: catalogue %s is in force, but %s holds %s; keeping %s",
                self.name,
                version,
                self.settings.policies_dir,
                loaded.version,
                self.holder.catalogue.version,
            )
            return
        log.info("%s: now serving catalogue %s", self.name, version)
        self.holder.catalogue = loaded

    async def queue_if_stale(self) -> None:
        """Queue a re-match when stored matches are older than the catalogue or today."""
        catalogue, day = self.holder.catalogue, self.clock()
        if self._checked == (catalogue.version, day):
            return
        if await run_read(self.engine, published_version) != catalogue.version:
            return  # not in force (yet): follow_publication decides
        if await run_read(self.engine, lambda c: any_stale(c, catalogue.version, day)):
            await run_write(
                self.engine,
                lambda c: queue_rematch(
                    c,
                    reason="scheduled",
                    version=catalogue.version,
                    day=day,
                    requested_by=self.name,
                ),
            )
        self._checked = (catalogue.version, day)

    async def run_queued(self) -> bool:
        """Claim and execute one queued re-match run; False if there was none to take."""
        claim = await run_write(self.engine, lambda c: claim_run(c, worker=self.name))
        if claim is None:
            return False
        catalogue = self.holder.catalogue
        if await run_read(self.engine, published_version) != claim.catalogue_version:
            # a newer catalogue was published since: its own run brings every firm up to it
            await run_write(self.engine, lambda c: finish_run(c, claim.run_id, superseded=True))
            return True
        if claim.catalogue_version != catalogue.version:
            # in force, but this worker does not serve it (yet): leave the run to another
            log.warning(
                "%s: run %s is for catalogue %s, which this worker does not serve",
                self.name,
                claim.run_id,
                claim.catalogue_version,
            )
            await run_write(self.engine, lambda c: release_run(c, claim.run_id))
            return False
        log.info("%s: re-matching for catalogue %s on %s", self.name, catalogue.version, claim.day)
        await execute_run(
            self.engine, catalogue, claim, batch_size=self.settings.rematch_batch_size
        )
        self.delivery.wake.set()
        return True

    async def keep_capacity(self) -> None:
        """Correct the subscriptions' pending counts; once a day (one worker), prune the feed."""
        cap = self.settings.push_max_pending_per_subscription
        await recount_all(self.engine, cap)
        if await run_write(self.engine, claim_daily_prune):
            report = await prune(self.engine, retention_days=self.settings.push_retention_days)
            await recount_all(self.engine, cap)
            log.info(
                "%s: pruned %d push events, %d deliveries, %d attempts older than %s",
                self.name,
                report.events,
                report.deliveries,
                report.attempts,
                report.before.isoformat(),
            )

    async def upkeep(self) -> None:
        """One round of upkeep: follow the catalogue, queue and execute re-matches; capacity."""
        await self.follow_publication()
        await self.queue_if_stale()
        while await self.run_queued():
            pass
        await self.keep_capacity()

    async def keep_up(self, stop: asyncio.Event) -> None:
        """Upkeep every `catalogue_check_seconds` (or when woken) until stopped."""
        while not stop.is_set():
            try:
                await self.upkeep()
            except (SQLAlchemyError, OSError):  # the database went away a moment
                log.exception("%s: upkeep failed; trying again", self.name)
            await pause(stop, self.upkeep_now, self.settings.catalogue_check_seconds)

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver and keep up until `stop` is set."""
        await asyncio.gather(self.delivery.run(stop), self.keep_up(stop))


async def announce_catalogue(engine: Engine, catalogue: Catalogue) -> None:
    """Put the catalogue a process started with in force (a no-op if it is); log, never raise."""
    try:
        if await run_write(engine, lambda c: publish(c, catalogue, by="service start")):
            log.info("catalogue %s put in force", catalogue.version)
    except (SQLAlchemyError, Unavailable) as e:
        log.warning(
            "catalogue %s not recorded as in force (is the database migrated?): %s",
            catalogue.version,
            e.__class__.__name__,
        )
