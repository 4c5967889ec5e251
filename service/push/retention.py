"""Retention: push events, their deliveries and attempts older than PUSH_RETENTION_DAYS go.

Pruning removes a prefix of the feed: events in feed order, up to the first one still inside
the window, in batches of one short transaction each (attempts, then deliveries, then events),
never one giant delete. The row `push_retention` keeps the position pruned through (the
watermark): a feed cursor before it is answered 410 Gone, because events after the cursor
are no longer there to be read. `policy-match prune` runs it; so does a worker once a day (the
first worker to move `pruned_at` a day on does it; the others leave it).

A delivery claimed under a lease that has not run out (an attempt may be in flight) stops the
prefix before its event, so that no attempt is recorded against a deleted delivery.
"""

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, select, update

from service.core.database import run_write
from service.core.tables import ATTEMPT, DELIVERY, EVENT, RETENTION, as_utc, utcnow

PRUNE_BATCH_EVENTS = 500
PRUNE_EVERY = timedelta(days=1)


def pruned_through(connection: Connection) -> int:
    """The feed position pruned through: events at or before it are gone (0: none)."""
    value = connection.execute(select(RETENTION.c.pruned_through).where(RETENTION.c.id == 1))
    return int(value.scalar() or 0)


def retention_state(connection: Connection) -> dict[str, Any]:
    """The watermark row as stored (zeros before the first prune)."""
    row = connection.execute(select(RETENTION).where(RETENTION.c.id == 1)).first()
    if row is None:
        return {"pruned_through": 0, "pruned_before": None, "pruned_at": None, "events_pruned": 0}
    return dict(row._mapping)


@dataclass(frozen=True, slots=True)
class Pruned:
    """What one batch removed, and the position the feed is now pruned through."""

    events: int
    deliveries: int
    attempts: int
    through: int


def prune_batch(
    connection: Connection, *, before: datetime, limit: int = PRUNE_BATCH_EVENTS
) -> Pruned:
    """Remove up to `limit` of the oldest events that occurred before `before`, with their
    deliveries and attempts, and move the watermark; in this (short) transaction."""
    start = pruned_through(connection)
    rows = connection.execute(
        select(EVENT.c.id, EVENT.c.occurred_at)
        .where(EVENT.c.id > start)
        .order_by(EVENT.c.id)
        .limit(limit)
    ).all()
    last = start
    for row in rows:
        if as_utc(row.occurred_at) >= before:
            break
        last = int(row.id)
    if last > start:
        in_flight = connection.execute(
            select(func.min(DELIVERY.c.event_id)).where(
                DELIVERY.c.event_id > start,
                DELIVERY.c.event_id <= last,
                DELIVERY.c.claim.is_not(None),
                DELIVERY.c.next_attempt_at > utcnow(),
            )
        ).scalar()
        if in_flight is not None:
            last = int(in_flight) - 1
    if last <= start:
        return Pruned(0, 0, 0, start)
    span = (DELIVERY.c.event_id > start) & (DELIVERY.c.event_id <= last)
    attempts = connection.execute(
        delete(ATTEMPT).where(ATTEMPT.c.delivery_id.in_(select(DELIVERY.c.id).where(span)))
    ).rowcount
    deliveries = connection.execute(delete(DELIVERY).where(span)).rowcount
    events = connection.execute(
        delete(EVENT).where(EVENT.c.id > start, EVENT.c.id <= last)
    ).rowcount
    connection.execute(
        update(RETENTION)
        .where(RETENTION.c.id == 1)
        .values(
            pruned_through=last,
            pruned_before=before,
            events_pruned=RETENTION.c.events_pruned + events,
        )
    )
    return Pruned(events, deliveries, attempts, last)


def claim_daily_prune(connection: Connection, *, now: datetime | None = None) -> bool:
    """Whether this caller should prune now: true for the first to ask a day after the last
    prune (it moves `pruned_at`, so the others see it done)."""
    now = now or utcnow()
    return bool(
        connection.execute(
            update(RETENTION)
            .where(
                RETENTION.c.id == 1,
                (RETENTION.c.pruned_at.is_(None)) | (RETENTION.c.pruned_at < now - PRUNE_EVERY),
            )
            .values(pruned_at=now)
        ).rowcount
    )


@dataclass(slots=True)
class PruneReport:
    """What a whole prune removed."""

    before: datetime
    events: int = 0
    deliveries: int = 0
    attempts: int = 0
    batches: int = 0
    through: int = 0


async def prune(
    engine: Engine, *, retention_days: int, batch_events: int = PRUNE_BATCH_EVENTS
) -> PruneReport:
    """Prune everything older than `retention_days`, batch by batch; what was removed."""
    now = utcnow()
    report = PruneReport(before=now - timedelta(days=retention_days))

    def stamp(connection: Connection) -> None:
        connection.execute(update(RETENTION).where(RETENTION.c.id == 1).values(pruned_at=now))

    while True:
        done = await run_write(
            engine, lambda c: prune_batch(c, before=report.before, limit=batch_events)
        )
        report.through = done.through
        if not done.events:
            break
        report.events += done.events
        report.deliveries += done.deliveries
        report.attempts += done.attempts
        report.batches += 1
        await asyncio.sleep(0)  # let the loop serve between batches
    await run_write(engine, stamp)
    return report
