"""Redelivery: an event queued again, now, with a fresh budget of attempts.

POST /v1/push-events/{id}/redeliver: to one subscription, which must be active, or to every
active subscription the event passes. A delivery that exists (delivered, dead, pending) is
reset; a subscription made after the event gets one. The subscriptions' pending counts
(service/push/capacity.py) are brought up to date in the same transaction.
"""

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, insert, select, update

from service.core.errors import Conflict
from service.core.tables import DELIVERY, utcnow
from service.push.capacity import count_queued
from service.push.routing import active_subscriptions
from service.push.subscriptions import get_subscription


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


def queue_redelivery(
    connection: Connection, event: Mapping[str, Any], *, subscription_id: str | None = None
) -> list[str]:
    """Queue a stored event (service/push/feed.py's `event_row`) again to this subscription, or
    to every active one it passes; the subscriptions it went to. Conflict if the one named is
    not active."""
    if subscription_id is not None:
        found = get_subscription(connection, subscription_id)
        if found.state != "active":
            why = found.ended_reason or found.paused_reason
            raise Conflict(f"subscription {subscription_id} is {found.state}: {why}")
        targets = [found.id]
    else:
        targets = [
            s.id
            for s in active_subscriptions(connection)
            if s.passes(event["county"], event["kind"])
        ]
    redeliver(connection, event, subscription_ids=targets)
    count_queued(connection, targets)
    return targets
