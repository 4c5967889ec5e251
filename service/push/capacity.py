"""Push capacity: how many subscriptions a caller may hold, and how much a subscription may owe.

One import of 40,000 firms once became 30 million pending deliveries for 104 subscriptions,
most to hosts that did not resolve. Two caps bound that:

- A caller (token `sub`) holds at most PUSH_MAX_SUBSCRIPTIONS_PER_CALLER subscriptions that
  have not ended; one more is refused 409.
- A subscription has at most `max_pending` (PUSH_MAX_PENDING_PER_SUBSCRIPTION) deliveries
  pending. When it is full, events are not queued for it: the subscription counts them
  (`events_not_queued`) and keeps the feed positions of the latest run of them, so the
  subscriber reads them from the feed (GET /v1/push-events?after=catch_up_cursor).

The check must cost nothing on the store and re-match paths, so nothing is counted there:
each subscription row carries `pending_deliveries`, an upper bound that writers of deliveries
add to (in the transaction that writes them, under the event-order lock) and that a
worker's upkeep corrects from the deliveries themselves (`recount_all`, a few
subscriptions to a transaction). Between two
recounts the bound may be high (deliveries sent since), never low, so the cap always holds.
"""

from collections.abc import Sequence
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, func, or_, select, text, update

from service.core.clock import utc_text
from service.core.cursors import CursorKeys, cursor_owner
from service.core.database import run_read, run_write
from service.core.errors import TooManySubscriptions
from service.core.i18n import message
from service.core.tables import DELIVERY, SUBSCRIPTION
from service.push.routing import lock_event_order, subscription_filter

CALLER_LOCK = 7_274_102  # pg_advisory_xact_lock(key, hashtext(caller)): one caller's quota


def check_caller_quota(connection: Connection, caller: str, limit: int) -> None:
    """TooManySubscriptions if `caller` already holds `limit` subscriptions not ended."""
    if connection.dialect.name == "postgresql":  # two concurrent POSTs must not both pass
        connection.execute(
            text("SELECT pg_advisory_xact_lock(:key, hashtext(:caller))"),
            {"key": CALLER_LOCK, "caller": caller},
        )
    held = connection.execute(
        select(func.count())
        .select_from(SUBSCRIPTION)
        .where(SUBSCRIPTION.c.created_by == caller, SUBSCRIPTION.c.state != "ended")
    ).scalar_one()
    if held >= limit:
        raise TooManySubscriptions(
            message(
                "{caller} holds {held} subscriptions, the most a caller may "
                "(POLICY_MATCH_PUSH_MAX_SUBSCRIPTIONS_PER_CALLER = {limit}); delete one it no "
                "longer needs (ended subscriptions do not count)",
                caller=caller,
                held=held,
                limit=limit,
            )
        )


def set_max_pending(connection: Connection, subscription_id: str, max_pending: int) -> None:
    """Give a subscription its cap of pending deliveries (the setting, when it is made)."""
    connection.execute(
        update(SUBSCRIPTION)
        .where(SUBSCRIPTION.c.id == subscription_id)
        .values(max_pending=max_pending)
    )


_COUNTED = (
    update(SUBSCRIPTION)
    .where(SUBSCRIPTION.c.id == bindparam("key"))
    .values(
        pending_deliveries=SUBSCRIPTION.c.pending_deliveries + bindparam("queued"),
        events_not_queued=SUBSCRIPTION.c.events_not_queued + bindparam("dropped"),
        not_queued_first=bindparam("first"),
        not_queued_last=bindparam("last"),
        not_queued_since=bindparam("since"),
        queued_since_not_queued=bindparam("flag"),
    )
)


def fan_out(connection: Connection, events: Sequence[tuple[int, str, str]], now: datetime) -> int:
    """Write a delivery of each event (position, county, kind) to every active subscription
    its filters pass, up to each subscription's cap; count what is not queued. Answers the
    number of deliveries written. Call under the event-order lock (record_match_changes)."""
    rows = connection.execute(
        select(
            SUBSCRIPTION.c.id,
            SUBSCRIPTION.c.counties,
            SUBSCRIPTION.c.kinds,
            SUBSCRIPTION.c.pending_deliveries,
            SUBSCRIPTION.c.max_pending,
            SUBSCRIPTION.c.not_queued_first,
            SUBSCRIPTION.c.not_queued_last,
            SUBSCRIPTION.c.not_queued_since,
            SUBSCRIPTION.c.queued_since_not_queued,
        ).where(SUBSCRIPTION.c.state == "active")
    ).all()
    deliveries: list[dict[str, Any]] = []
    counted: list[dict[str, Any]] = []
    for sub in rows:
        passes = subscription_filter(sub).passes
        room = max(0, sub.max_pending - sub.pending_deliveries)
        queued = dropped = 0
        first = last = None
        for position, county, kind in events:
            if not passes(county, kind):
                continue
            if queued < room:
                queued += 1
                deliveries.append(
                    {
                        "event_id": position,
                        "subscription_id": sub.id,
                        "state": "pending",
                        "attempts": 0,
                        "next_attempt_at": now,
                        "created_at": now,
                    }
                )
            else:
                dropped += 1
                first = first or position
                last = position
        if queued or dropped:
            counted.append(_count(sub, queued, dropped, first, last, now))
    if deliveries:
        connection.execute(DELIVERY.insert(), deliveries)
    if counted:
        connection.execute(_COUNTED, counted)
    return len(deliveries)


def _count(
    sub: Any, queued: int, dropped: int, first: int | None, last: int | None, now: datetime
) -> dict[str, Any]:
    """The update of one subscription's counts: a run of events not queued begins when none
    was before, or when an event was queued since the last one not queued."""
    values = {
        "key": sub.id,
        "queued": queued,
        "dropped": dropped,
        "first": sub.not_queued_first,
        "last": sub.not_queued_last,
        "since": sub.not_queued_since,
        "flag": sub.queued_since_not_queued or (queued > 0 and sub.not_queued_last is not None),
    }
    if dropped:
        if sub.not_queued_last is None or sub.queued_since_not_queued or queued:
            values |= {"first": first, "since": now}
        values |= {"last": last, "flag": False}
    return values


def count_queued(connection: Connection, subscription_ids: Sequence[str]) -> None:
    """Add one to the pending count of each of these subscriptions (an event redelivered to
    them), so that the count stays an upper bound."""
    if subscription_ids:
        connection.execute(
            update(SUBSCRIPTION)
            .where(SUBSCRIPTION.c.id.in_(list(subscription_ids)))
            .values(pending_deliveries=SUBSCRIPTION.c.pending_deliveries + 1)
        )


RECOUNT_CHUNK = 20  # subscriptions recounted per transaction: the event-order lock is short


def needing_recount(connection: Connection, max_pending: int) -> list[str]:
    """The subscriptions whose count may be high (not 0: 0 is exact, counts being an upper
    bound) or whose cap differs from the setting."""
    query = select(SUBSCRIPTION.c.id).where(
        or_(SUBSCRIPTION.c.pending_deliveries != 0, SUBSCRIPTION.c.max_pending != max_pending)
    )
    return list(connection.execute(query.order_by(SUBSCRIPTION.c.id)).scalars())


def recount_pending(
    connection: Connection, max_pending: int, subscription_ids: Sequence[str] | None = None
) -> int:
    """Set the pending count of these subscriptions (default: every one needing it) to what
    their deliveries hold now (sent, dead and cancelled ones drop out), and their cap to the
    setting; the number of rows corrected.

    Under the event-order lock, so that no writer of deliveries is between its read of the
    counts and its commit. Each count is one index range of a subscription's pending
    deliveries (at most its cap); `recount_all` keeps each transaction to a few of them.
    """
    lock_event_order(connection)
    ids = needing_recount(connection, max_pending) if subscription_ids is None else subscription_ids
    if not ids:
        return 0
    pending = (
        select(func.count())
        .select_from(DELIVERY)
        .where(DELIVERY.c.subscription_id == SUBSCRIPTION.c.id, DELIVERY.c.state == "pending")
        .scalar_subquery()
    )
    return int(
        connection.execute(
            update(SUBSCRIPTION)
            .where(SUBSCRIPTION.c.id.in_(list(ids)))
            .values(pending_deliveries=pending, max_pending=max_pending)
        ).rowcount
    )


async def recount_all(engine: Engine, max_pending: int) -> int:
    """Recount every subscription that needs it, RECOUNT_CHUNK to a transaction."""
    ids = await run_read(engine, lambda c: needing_recount(c, max_pending))
    corrected = 0
    for start in range(0, len(ids), RECOUNT_CHUNK):
        chunk = ids[start : start + RECOUNT_CHUNK]
        corrected += await run_write(
            engine, partial(recount_pending, max_pending=max_pending, subscription_ids=chunk)
        )
    return corrected


def capacity_json(row: Any, keys: CursorKeys) -> dict[str, Any]:
    """What a subscription shows of its capacity: its cap, how many events were not queued,
    and where to read the latest run of them in the feed."""
    latest = None
    if row.not_queued_first is not None:
        latest = {
            "since": utc_text(row.not_queued_since),
            "first_sequence": row.not_queued_first,
            "last_sequence": row.not_queued_last,
            "catch_up_cursor": keys.feed_cursor(
                row.not_queued_first - 1, cursor_owner(row.created_by)
            ),
        }
    return {
        "max_pending": row.max_pending,
        "events_not_queued": row.events_not_queued,
        "not_queued": latest,
    }


def capacities(
    connection: Connection, ids: Sequence[str], keys: CursorKeys
) -> dict[str, dict[str, Any]]:
    """The capacity of each of these subscriptions, by id."""
    if not ids:
        return {}
    rows = connection.execute(
        select(
            SUBSCRIPTION.c.id,
            SUBSCRIPTION.c.max_pending,
            SUBSCRIPTION.c.events_not_queued,
            SUBSCRIPTION.c.not_queued_first,
            SUBSCRIPTION.c.not_queued_last,
            SUBSCRIPTION.c.not_queued_since,
            SUBSCRIPTION.c.created_by,
        ).where(SUBSCRIPTION.c.id.in_(list(ids)))
    ).all()
    return {row.id: capacity_json(row, keys) for row in rows}
