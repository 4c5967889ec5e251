"""Delivering push events: claim due deliveries, POST them signed, settle what came back.

At least once, and no more than needed:
- A worker claims a batch in one statement: the due deliveries' `next_attempt_at` moves a lease
  ahead and they get the claim's token. On PostgreSQL the rows are chosen `FOR UPDATE SKIP
  LOCKED`, so concurrent workers take different deliveries; on SQLite the statement is the
  claim (one writer at a time).
- A worker killed mid-attempt leaves its deliveries claimed until the lease runs out; then any
  worker claims them again. A result is settled only by the holder of the current claim, and
  an attempt that could not end within the lease (a slow receiver ahead of it) is not started
  but released. Each attempt has one deadline, PUSH_TIMEOUT_SECONDS, well inside the lease. A
  worker stopping (SIGTERM) cancels the POSTs in flight and releases them with the rest.
- One lane per subscription: a slow or failing receiver holds up only its own deliveries.
- Every attempt is recorded. A 2xx acknowledges; a 410 ends the subscription; anything else
  (another status, a timeout, a refused or failed connection) is retried after an exponential
  backoff with jitter, until the last attempt leaves the delivery dead.

Each POST is signed as Standard Webhooks does, with the `standardwebhooks` library.
"""

import asyncio
import logging
import random
import time
import uuid
from collections.abc import Coroutine, Iterable, Mapping
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
from sqlalchemy import Connection, Engine, bindparam, insert, select, update
from standardwebhooks import Webhook

from service.api.metrics import PUSH_ATTEMPTS
from service.core.clock import utc_text
from service.core.database import run_read, run_write
from service.core.settings import Settings
from service.core.tables import PushAttempt, utcnow
from service.push.attempt_errors import EXPLANATIONS, category_of, describe_failure
from service.push.outbox import DELIVERY, EVENT, SUBSCRIPTION, active_subscription_ids, as_sent
from service.push.pausing import note_resolution
from service.push.subscriptions import end_subscription, split_target, unseal
from service.push.transport import delivery_client

log = logging.getLogger("policy_match.delivery")

ATTEMPT = PushAttempt.__table__  # type: ignore[attr-defined]
USER_AGENT = "policy-match-push/1.0"
MAX_ANSWER_BYTES = 4096  # of a receiver's answer: the rest is never read


@dataclass(frozen=True, slots=True)
class Claimed:
    """A delivery this worker holds: what to POST, where, and with which secret."""

    delivery_id: int
    claim: str
    attempt: int
    subscription_id: str
    url: str
    secret: str  # as stored: sealed when PUSH_SECRET_KEYS is set
    event_id: str
    body: bytes


@dataclass(frozen=True, slots=True)
class Attempted:
    """What one POST of a claimed delivery came to."""

    delivery: Claimed
    started_at: datetime
    duration_ms: int
    status_code: int | None
    error: str | None
    category: str | None = None  # why it failed (service/attempt_errors.py); None if answered
    answer: bytes = b""  # the first MAX_ANSWER_BYTES of the answer's body, never stored

    @property
    def subscription_id(self) -> str:
        """The subscription the delivery is for."""
        return self.delivery.subscription_id

    @property
    def acknowledged(self) -> bool:
        """A 2xx answer: the receiver has the event."""
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def gone(self) -> bool:
        """A 410 answer: the receiver wants no more events on this subscription."""
        return self.status_code == 410


def retry_delay(attempt: int, settings: Settings, rng: random.Random) -> float:
    """Seconds before the next attempt after failed attempt number `attempt` (1-based).

    Exponential (base × 2^(attempt-1), capped), with "equal jitter": half of it fixed, half
    random, so that receivers coming back up are not hit by every retry at the same moment.
    """
    ceiling = min(
        settings.push_backoff_cap_seconds,
        settings.push_backoff_base_seconds * 2 ** min(attempt - 1, 30),
    )
    return float(ceiling / 2 + rng.uniform(0, ceiling / 2))


def claim_due(
    connection: Connection,
    *,
    limit: int,
    lease_seconds: float,
    now: datetime | None = None,
    subscription_id: str | None = None,
) -> list[Claimed]:
    """Claim up to `limit` due deliveries (of one subscription, if given; see module doc) and
    load what each needs."""
    now = now or utcnow()
    token = uuid.uuid4().hex
    due = (
        select(DELIVERY.c.id)
        .where(DELIVERY.c.state == "pending", DELIVERY.c.next_attempt_at <= now)
        .order_by(DELIVERY.c.next_attempt_at, DELIVERY.c.id)
        .limit(limit)
    )
    if subscription_id is not None:
        due = due.where(DELIVERY.c.subscription_id == subscription_id)
    if connection.dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    claimed = (
        connection.execute(
            update(DELIVERY)
            .where(DELIVERY.c.id.in_(due.scalar_subquery()))
            .values(claim=token, next_attempt_at=now + timedelta(seconds=lease_seconds))
            .returning(DELIVERY.c.id)
        )
        .scalars()
        .all()
    )
    if not claimed:
        return []
    rows = connection.execute(
        select(
            DELIVERY.c.id,
            DELIVERY.c.attempts,
            DELIVERY.c.subscription_id,
            SUBSCRIPTION.c.url,
            SUBSCRIPTION.c.secret,
            EVENT.c.id.label("position"),
            EVENT.c.event_id,
            EVENT.c.document,
        )
        .join(SUBSCRIPTION, SUBSCRIPTION.c.id == DELIVERY.c.subscription_id)
        .join(EVENT, EVENT.c.id == DELIVERY.c.event_id)
        .where(DELIVERY.c.id.in_(claimed))
        .order_by(DELIVERY.c.id)
    ).all()
    return [
        Claimed(
            delivery_id=r.id,
            claim=token,
            attempt=r.attempts + 1,
            subscription_id=r.subscription_id,
            url=r.url,
            secret=r.secret,
            event_id=r.event_id,
            body=orjson.dumps(as_sent(r.position, r.document)),
        )
        for r in rows
    ]


_signers: dict[str, Webhook] = {}


def sign(delivery: Claimed, moment: datetime, settings: Settings) -> dict[str, str]:
    """The Standard Webhooks headers of a delivery sent at `moment`."""
    signer = _signers.get(delivery.secret)
    if signer is None:
        signer = _signers[delivery.secret] = Webhook(unseal(delivery.secret, settings))
    return {
        "webhook-id": delivery.event_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": signer.sign(delivery.event_id, moment, delivery.body.decode()),
    }


async def attempt(client: httpx.AsyncClient, delivery: Claimed, settings: Settings) -> Attempted:
    """POST one delivery, signed, within one deadline; what came back (never raises for the
    receiver's faults).

    PUSH_TIMEOUT_SECONDS bounds the whole attempt: resolving, connecting, sending and reading,
    so a receiver dripping its answer a byte at a time cannot hold it past the claim's lease.
    At most MAX_ANSWER_BYTES of the answer are read, then the connection is closed. A failure
    is recorded as a category with a fixed text (service/attempt_errors.py); the raw error,
    which may name internal addresses and ports, goes to the server's log only.
    """
    started, clock = datetime.now(UTC), time.perf_counter()
    status: int | None = None
    answer = b""
    failure: BaseException | None = None
    try:
        async with asyncio.timeout(settings.push_timeout_seconds):
            split_target(delivery.url)
            headers = {
                **sign(delivery, started, settings),
                "content-type": "application/json",
                "user-agent": USER_AGENT,
            }
            async with client.stream(
                "POST", delivery.url, content=delivery.body, headers=headers
            ) as response:
                status = response.status_code
                answer = await read_at_most(response, MAX_ANSWER_BYTES)
    except (TimeoutError, httpx.HTTPError, ValueError) as e:  # ValueError: TargetRefused too
        if status is None:  # once the status arrived it is the answer, read whole or not
            failure = e
    duration = round((time.perf_counter() - clock) * 1000)
    category, error = describe_failure(failure, status, settings)
    if failure is not None and category != "secret":
        log.info(
            "delivery %d to %s failed (%s): %r",
            delivery.delivery_id,
            delivery.subscription_id,
            category,
            failure,
        )
    return Attempted(delivery, started, duration, status, error, category, answer)


async def read_at_most(response: httpx.Response, limit: int) -> bytes:
    """Up to `limit` bytes of an answer's body, as sent (not decompressed); the rest unread."""
    kept = bytearray()
    async for chunk in response.aiter_raw():
        kept += chunk[: limit - len(kept)]
        if len(kept) >= limit:
            break
    return bytes(kept)


_RELEASE = (
    update(DELIVERY)
    .where(DELIVERY.c.id == bindparam("key"), DELIVERY.c.claim == bindparam("held"))
    .values(claim=None, next_attempt_at=bindparam("due"))
)


def release(connection: Connection, deliveries: list[Claimed]) -> None:
    """Give claimed deliveries back unsent, due now (only where the claim is still ours)."""
    if deliveries:
        now = utcnow()
        connection.execute(
            _RELEASE, [{"key": d.delivery_id, "held": d.claim, "due": now} for d in deliveries]
        )


def settle(
    connection: Connection,
    results: Iterable[Attempted],
    *,
    settings: Settings,
    worker: str,
    rng: random.Random,
) -> dict[str, int]:
    """Record every attempt and move each delivery on, and note whose hosts resolved (pausing
    those unresolved for too long: service/pausing.py); the number of each outcome."""
    results = list(results)
    outcomes: dict[str, int] = {}
    now = utcnow()
    attempts = []
    for result in results:
        d = result.delivery
        values: dict[str, Any] = {
            "attempts": d.attempt,
            "claim": None,
            "last_status": result.status_code,
            "last_error": result.error,
        }
        if result.acknowledged:
            outcome = "delivered"
            values |= {"state": "delivered", "delivered_at": now}
        elif result.gone:
            outcome = "gone"
            values |= {"state": "cancelled"}
        elif d.attempt >= settings.push_max_attempts:
            outcome = "dead"
            values |= {"state": "dead"}
        else:
            outcome = "retry"
            delay = retry_delay(d.attempt, settings, rng)
            values |= {"next_attempt_at": now + timedelta(seconds=delay)}
        held = connection.execute(
            update(DELIVERY)
            .where(DELIVERY.c.id == d.delivery_id, DELIVERY.c.claim == d.claim)
            .values(**values)
        ).rowcount
        if not held:
            outcome = "stale"  # the lease ran out and another worker holds it now
        elif result.gone:
            end_subscription(
                connection, d.subscription_id, f"the receiver answered 410 Gone to {d.event_id}"
            )
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
        attempts.append(
            {
                "delivery_id": d.delivery_id,
                "attempt": d.attempt,
                "worker": worker,
                "started_at": result.started_at,
                "duration_ms": result.duration_ms,
                "status_code": result.status_code,
                "error": result.error,
                "outcome": outcome,
            }
        )
    if attempts:
        connection.execute(insert(ATTEMPT), attempts)
    for paused in note_resolution(connection, results, settings, now):
        log.warning("%s: subscription %s paused: its host has not resolved", worker, paused)
    return outcomes


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
        """The HTTP client deliveries go out on (service/push_transport.py)."""
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


async def pause(stop: asyncio.Event, wake: asyncio.Event, seconds: float) -> None:
    """Wait `seconds`, or less if `stop` or `wake` is set; `wake` is cleared for the next time."""
    waits = [asyncio.ensure_future(e.wait()) for e in (stop, wake)]
    await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    for w in waits:
        w.cancel()
    wake.clear()


# --- what the API shows and redoes ------------------------------------------------------------


def event_deliveries(connection: Connection, event_pk: int) -> list[dict[str, Any]]:
    """An event's deliveries, each with every attempt made, oldest first."""
    deliveries = connection.execute(
        select(DELIVERY).where(DELIVERY.c.event_id == event_pk).order_by(DELIVERY.c.id)
    ).all()
    attempts: dict[int, list[dict[str, Any]]] = {}
    if deliveries:
        rows = connection.execute(
            select(ATTEMPT)
            .where(ATTEMPT.c.delivery_id.in_([d.id for d in deliveries]))
            .order_by(ATTEMPT.c.id)
        ).all()
        for a in rows:
            attempts.setdefault(a.delivery_id, []).append(
                {
                    "attempt": a.attempt,
                    "worker": a.worker,
                    "started_at": utc_text(a.started_at),
                    "duration_ms": a.duration_ms,
                    "status_code": a.status_code,
                    "error": a.error,
                    "category": (category := category_of(a.error)),
                    "explanation": None if category is None else EXPLANATIONS[category],
                    "outcome": a.outcome,
                }
            )
    return [
        {
            "subscription_id": d.subscription_id,
            "state": d.state,
            "attempts": d.attempts,
            "next_attempt_at": utc_text(d.next_attempt_at) if d.state == "pending" else None,
            "delivered_at": None if d.delivered_at is None else utc_text(d.delivered_at),
            "last_status": d.last_status,
            "last_error": d.last_error,
            "attempt_log": attempts.get(d.id, []),
        }
        for d in deliveries
    ]


def redeliver(
    connection: Connection,
    event: Mapping[str, Any],
    *,
    subscription_ids: list[str],
) -> int:
    """Deliver an event again, now, to these subscriptions, with a fresh budget of attempts.

    A delivery that exists (delivered, dead, pending) is reset; a subscription made after the
    event gets one. Answers how many deliveries are now pending.
    """
    now = utcnow()
    existing = set(
        connection.execute(
            select(DELIVERY.c.subscription_id).where(
                DELIVERY.c.event_id == event["id"],
                DELIVERY.c.subscription_id.in_(subscription_ids),
            )
        ).scalars()
    )
    if existing:
        connection.execute(
            update(DELIVERY)
            .where(
                DELIVERY.c.event_id == event["id"],
                DELIVERY.c.subscription_id.in_(existing),
            )
            .values(state="pending", attempts=0, next_attempt_at=now, claim=None, delivered_at=None)
        )
    fresh = [s for s in subscription_ids if s not in existing]
    if fresh:
        connection.execute(
            insert(DELIVERY),
            [
                {
                    "event_id": event["id"],
                    "subscription_id": s,
                    "state": "pending",
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                }
                for s in fresh
            ],
        )
    return len(subscription_ids)
