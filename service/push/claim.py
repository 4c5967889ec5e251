"""Claiming due deliveries under a lease, and giving back the ones not attempted.

A worker claims a batch in one statement: the due deliveries' `next_attempt_at` moves a lease
ahead and they get the claim's token. On PostgreSQL the rows are chosen `FOR UPDATE SKIP
LOCKED`, so concurrent workers take different deliveries; on SQLite the statement is the claim
(one writer at a time).

A worker killed mid-attempt leaves its deliveries claimed until the lease runs out; then any
worker claims them again. Only the holder of the current claim may release a delivery or settle
its result (service/push/settle.py), so a worker whose lease ran out changes nothing.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import orjson
from sqlalchemy import Connection, bindparam, select, update

from service.core.tables import DELIVERY, EVENT, SUBSCRIPTION, utcnow
from service.push.outbox import as_sent


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
