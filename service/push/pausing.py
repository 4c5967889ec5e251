"""Subscriptions whose host does not resolve: noted, then paused, until the subscriber resumes.

Each settled batch tells whether a subscription's host resolved. The first failure is noted
(`unresolved_since`); any later attempt that resolved clears it. Once its host has failed to
resolve for PUSH_UNRESOLVED_PAUSE_SECONDS (a day), the subscription is **paused**: it is fed no
new deliveries (the outbox feeds only active subscriptions), its pending deliveries are
cancelled, and it keeps `catch_up_after`, the feed position just before the first event it was
not delivered. The subscriber resumes it (POST /v1/subscriptions/{id}/resume, which checks the
target again) and reads what it missed from GET /v1/push-events?after=<catch_up_cursor>.
"""

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import Connection, func, select, update

from service.core.clock import utc_text
from service.core.settings import Settings
from service.core.tables import DELIVERY, EVENT, SUBSCRIPTION

# attempts whose host resolved (a timeout may have been the resolver's: it proves nothing)
RESOLVED = frozenset({None, "status", "connect", "tls", "protocol", "refused_target"})


class Outcome(Protocol):
    """What note_resolution reads of an attempt (service/push/sign.py's Attempted)."""

    @property
    def subscription_id(self) -> str:
        """The subscription attempted."""
        ...

    @property
    def category(self) -> str | None:
        """The failure's category, None if answered."""
        ...


def note_resolution(
    connection: Connection, outcomes: Iterable[Outcome], settings: Settings, now: datetime
) -> list[str]:
    """Note which subscriptions' hosts resolved in these attempts and which did not; pause the
    ones unresolved for PUSH_UNRESOLVED_PAUSE_SECONDS. The ids paused."""
    resolved: set[str] = set()
    unresolved: set[str] = set()
    for outcome in outcomes:
        if outcome.category == "dns":
            unresolved.add(outcome.subscription_id)
        elif outcome.category in RESOLVED:
            resolved.add(outcome.subscription_id)
    unresolved -= resolved
    if resolved:
        connection.execute(
            update(SUBSCRIPTION)
            .where(SUBSCRIPTION.c.id.in_(resolved), SUBSCRIPTION.c.unresolved_since.is_not(None))
            .values(unresolved_since=None)
        )
    if not unresolved:
        return []
    connection.execute(
        update(SUBSCRIPTION)
        .where(SUBSCRIPTION.c.id.in_(unresolved), SUBSCRIPTION.c.unresolved_since.is_(None))
        .values(unresolved_since=now)
    )
    since = now - timedelta(seconds=settings.push_unresolved_pause_seconds)
    due = connection.execute(
        select(SUBSCRIPTION.c.id, SUBSCRIPTION.c.unresolved_since).where(
            SUBSCRIPTION.c.id.in_(unresolved),
            SUBSCRIPTION.c.state == "active",
            SUBSCRIPTION.c.unresolved_since <= since,
        )
    ).all()
    return [row.id for row in due if pause(connection, row.id, row.unresolved_since, now)]


def pause(connection: Connection, subscription_id: str, since: datetime, now: datetime) -> bool:
    """Pause an active subscription whose host has not resolved since `since`: cancel what it
    had pending and keep where to catch up from; False if it was not active."""
    pending = DELIVERY.c.subscription_id == subscription_id, DELIVERY.c.state == "pending"
    first, count = connection.execute(
        select(func.min(DELIVERY.c.event_id), func.count()).where(*pending)
    ).one()
    last = connection.execute(select(func.max(EVENT.c.id))).scalar() or 0
    reason = (
        f"its host has not resolved since {utc_text(since)}: paused, {count} pending "
        "deliveries cancelled; read them from the feed after catch_up_cursor, then resume"
    )
    paused = connection.execute(
        update(SUBSCRIPTION)
        .where(SUBSCRIPTION.c.id == subscription_id, SUBSCRIPTION.c.state == "active")
        .values(
            state="paused",
            paused_at=now,
            paused_reason=reason[:300],
            catch_up_after=(first - 1) if first is not None else int(last),
        )
    ).rowcount
    if paused:
        connection.execute(update(DELIVERY).where(*pending).values(state="cancelled", claim=None))
    return bool(paused)


def resume(connection: Connection, subscription_id: str) -> bool:
    """Make a paused subscription active again (fed from now on); False if it was not paused.
    `catch_up_after` stays, for the subscriber to catch up from."""
    return bool(
        connection.execute(
            update(SUBSCRIPTION)
            .where(SUBSCRIPTION.c.id == subscription_id, SUBSCRIPTION.c.state == "paused")
            .values(state="active", paused_at=None, paused_reason=None, unresolved_since=None)
        ).rowcount
    )
