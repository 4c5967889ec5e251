"""Which subscriptions an event goes to, and the lock that makes event ids commit in order.

Below the outbox and the capacity check, which both build on it. On PostgreSQL, ids are drawn
from a sequence when an event row is inserted and concurrent transactions could commit them out
of order; writers of events take a transaction-scoped advisory lock just before inserting
(service/push/outbox.py says why the feed needs it). SQLite has one writer at a time already.
"""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select, text

from service.core.tables import SUBSCRIPTION

EVENT_ORDER_LOCK = 7_274_101  # pg_advisory_xact_lock key: event ids commit in id order


@dataclass(frozen=True, slots=True)
class SubscriptionFilter:
    """An active subscription's filters: counties and kinds (None: every one)."""

    id: str
    counties: frozenset[str] | None
    kinds: frozenset[str] | None

    def passes(self, county: str, kind: str) -> bool:
        """Whether an event of this county and kind goes to the subscription."""
        return (self.counties is None or county in self.counties) and (
            self.kinds is None or kind in self.kinds
        )


def active_subscriptions(connection: Connection) -> list[SubscriptionFilter]:
    """Every active subscription with its filters."""
    rows = connection.execute(
        select(SUBSCRIPTION.c.id, SUBSCRIPTION.c.counties, SUBSCRIPTION.c.kinds).where(
            SUBSCRIPTION.c.state == "active"
        )
    ).all()
    return [subscription_filter(r) for r in rows]


def subscription_filter(row: Any) -> SubscriptionFilter:
    """The filters of a subscription row (its id, counties and kinds)."""
    return SubscriptionFilter(
        row.id,
        None if row.counties is None else frozenset(row.counties),
        None if row.kinds is None else frozenset(row.kinds),
    )


def lock_event_order(connection: Connection) -> None:
    """On PostgreSQL, take the lock that makes event ids commit in order (see module doc)."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": EVENT_ORDER_LOCK})
