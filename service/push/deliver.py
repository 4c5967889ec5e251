"""The delivery loop: claim due deliveries, POST them concurrently, settle them; over and over.

At least once, and no more than needed:
- One lane per active subscription: a slow or failing receiver holds up only its own
  deliveries. Lanes are (re)started on each wake-up (service/push/wake.py) or poll.
- Each batch is claimed under a lease (service/push/claim.py), attempted signed within
  PUSH_TIMEOUT_SECONDS each (service/push/sign.py), and settled (service/push/settle.py).
- An attempt that could not end within the lease (a slow receiver ahead of it) is not started
  but released. A worker stopping (SIGTERM) cancels the POSTs in flight and releases them with
  the rest.
"""

import asyncio
import logging
import random
import uuid
from collections.abc import Coroutine
from contextlib import suppress
from typing import Any

import httpx
from sqlalchemy import Connection, Engine

from service.core.database import run_read, run_write
from service.core.settings import Settings
from service.push.claim import Claimed, claim_due, release
from service.push.metrics import PUSH_ATTEMPTS
from service.push.outbox import active_subscription_ids
from service.push.settle import settle
from service.push.sign import Attempted, attempt
from service.push.transport import delivery_client
from service.push.wake import pause

log = logging.getLogger("policy_match.delivery")


class DeliveryWorker:
    """Claims due deliveries, POSTs them concurrently, settles them; over and over."""

    def __init__(self, engine: Engine, settings: Settings, *, name: str | None = None) -> None:
        self.engine = engine
        self.settings = settings
        self.name = name or f"worker-{uuid.uuid4().hex[:8]}"
        self.rng = random.Random()
        self.wake = asyncio.Event()
        self.gate = asyncio.Semaphore(settings.push_concurrency)  # POSTs in flight, all lanes
        self.totals: dict[str, int] = {}

    def client(self) -> httpx.AsyncClient:
        """The HTTP client deliveries go out on (service/push/transport.py)."""
        return delivery_client(self.settings)

    async def deliver_batch(
        self,
        client: httpx.AsyncClient,
        subscription_id: str | None = None,
        stop: asyncio.Event | None = None,
    ) -> int:
        """Claim one batch (of one subscription's deliveries, if given), deliver it, settle it;
        the number of deliveries claimed.

        An attempt that could not end before the claim's lease does (a slow receiver ahead of
        it), or that would start after `stop` is set, is not made; one in flight when `stop` is
        set is cancelled. Either way the delivery is released, due now, for the next claim (a
        cancelled POST may have arrived: delivery is at least once), so that no two workers
        ever POST it at once and a stopping worker does not wait on a receiver.
        """
        settings = self.settings
        loop = asyncio.get_running_loop()
        last_start = loop.time() + settings.push_lease_seconds - settings.push_timeout_seconds
        claimed = await run_write(
            self.engine,
            lambda connection: claim_due(
                connection,
                limit=settings.push_batch_size,
                lease_seconds=settings.push_lease_seconds,
                subscription_id=subscription_id,
            ),
        )
        if not claimed:
            return 0
        per_target = {
            d.subscription_id: asyncio.Semaphore(settings.push_concurrency_per_target)
            for d in claimed
        }

        async def one(delivery: Claimed) -> Attempted | None:
            async with per_target[delivery.subscription_id], self.gate:
                if loop.time() > last_start or (stop is not None and stop.is_set()):
                    return None
                return await unless_stopped(attempt(client, delivery, settings), stop)

        attempted = await asyncio.gather(*(one(d) for d in claimed))
        results = [r for r in attempted if r is not None]
        unstarted = [d for d, r in zip(claimed, attempted, strict=True) if r is None]

        def record(connection: Connection) -> dict[str, int]:
            release(connection, unstarted)
            return settle(connection, results, settings=settings, worker=self.name, rng=self.rng)

        outcomes = await run_write(self.engine, record)
        for outcome, count in outcomes.items():
            self.totals[outcome] = self.totals.get(outcome, 0) + count
            PUSH_ATTEMPTS.labels(outcome).inc(count)
        if outcomes.keys() - {"delivered"} or unstarted:
            log.info("%s: %s; %d released unsent", self.name, outcomes, len(unstarted))
        return len(claimed)

    async def drain(self) -> int:
        """Deliver until nothing is due now; the number of deliveries claimed."""
        total = 0
        async with self.client() as client:
            while n := await self.deliver_batch(client):
                total += n
        return total

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set: one lane per active subscription, so that a slow or
        failing receiver holds up only its own deliveries. Lanes are (re)started on each
        wake-up (events were written here) or poll, and drain what is due for theirs."""
        lanes: dict[str, asyncio.Task[None]] = {}
        async with self.client() as client:
            while not stop.is_set():
                try:
                    subscriptions = await run_read(self.engine, active_subscription_ids)
                except Exception:  # the database went away a moment: log, wait, go on
                    log.exception("%s: cannot list subscriptions", self.name)
                    subscriptions = []
                for subscription_id in subscriptions:
                    lane = lanes.get(subscription_id)
                    if lane is None or lane.done():
                        lanes[subscription_id] = asyncio.create_task(
                            self._lane(client, subscription_id, stop)
                        )
                await pause(stop, self.wake, self.settings.push_poll_seconds)
            await asyncio.gather(*lanes.values())  # each cancels its POSTs, releases its batch

    async def _lane(
        self, client: httpx.AsyncClient, subscription_id: str, stop: asyncio.Event
    ) -> None:
        try:
            while not stop.is_set() and await self.deliver_batch(client, subscription_id, stop):
                pass
        except Exception:  # logged; the next wake-up or poll starts the lane again
            log.exception("%s: delivery to %s failed", self.name, subscription_id)


async def unless_stopped(
    work: Coroutine[Any, Any, Attempted], stop: asyncio.Event | None
) -> Attempted | None:
    """The attempt's result, or None if `stop` was set first (the attempt is then cancelled)."""
    if stop is None:
        return await work
    task = asyncio.ensure_future(work)
    stopped = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait((task, stopped), return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopped.cancel()
    if task.done():
        return task.result()
    task.cancel()
    with suppress(asyncio.CancelledError):
        await task
    return None
