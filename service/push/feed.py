"""The event feed and what it answers: pages of events, and one event with its deliveries.

GET /v1/push-events pages through every event in feed order (the event's row id, which
service/push/outbox.py makes commit in order), resumable with `next_cursor`; a cursor from
before the pruned prefix (service/push/retention.py) is 410 Gone. GET /v1/push-events/{id}
shows an event as sent with each delivery and every attempt made. The answers' JSON is
assembled here, and only here.
"""

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, select

from service.core.clock import utc_text
from service.core.cursors import CursorKeys
from service.core.errors import Gone
from service.core.i18n import message
from service.core.tables import ATTEMPT, DELIVERY, EVENT
from service.push.attempt_errors import EXPLANATIONS, category_of
from service.push.outbox import as_sent
from service.push.retention import pruned_through


def event_feed(
    connection: Connection,
    *,
    after: int,
    limit: int,
    county: str | None = None,
    kind: str | None = None,
    uscc: str | None = None,
) -> list[tuple[int, dict[str, Any]]]:
    """Events after feed position `after`, oldest first: (position, event as sent)."""
    query = select(EVENT.c.id, EVENT.c.document).where(EVENT.c.id > after)
    for column, value in (("county", county), ("kind", kind), ("uscc", uscc)):
        if value is not None:
            query = query.where(EVENT.c[column] == value)
    rows = connection.execute(query.order_by(EVENT.c.id).limit(limit)).all()
    return [(int(r.id), as_sent(int(r.id), r.document)) for r in rows]


def feed_position(keys: CursorKeys, after: str | None, caller: str) -> int | None:
    """The feed position a page's `after` cursor stands for (None: no cursor, from the start).

    Verified before the database is asked, so a tampered cursor is answered as such."""
    if after is None:
        return None
    return keys.feed_position(after, caller)


def feed_page(
    connection: Connection,
    *,
    after: int | None,
    limit: int,
    retention_days: int,
    keys: CursorKeys,
    caller: str,
    county: str | None = None,
    kind: str | None = None,
    uscc: str | None = None,
) -> dict[str, Any]:
    """One page of the feed after position `after` (None: from the first event kept) and the
    cursor to ask for the next, for `caller` (a cursor_owner); Gone if events after `after`
    have been pruned."""
    if after is not None and after < (pruned := pruned_through(connection)):
        raise Gone(
            message(
                "after: the events after this cursor up to sequence {pruned} have been pruned "
                "(kept {days} days); start again without `after`, from the oldest event kept",
                pruned=pruned,
                days=retention_days,
            )
        )
    position = after or 0
    page = event_feed(connection, after=position, limit=limit, county=county, kind=kind, uscc=uscc)
    last = page[-1][0] if page else position
    return {
        "items": [document for _, document in page],
        "next_cursor": keys.feed_cursor(last, caller),
    }


def event_row(connection: Connection, event_id: str) -> Mapping[str, Any] | None:
    """The stored event with this public id, or None."""
    row = connection.execute(select(EVENT).where(EVENT.c.event_id == event_id)).first()
    return None if row is None else dict(row._mapping)


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


def event_detail(connection: Connection, event: Mapping[str, Any]) -> dict[str, Any]:
    """A stored event (from `event_row`) as sent, with its deliveries and every attempt."""
    return {
        "event": as_sent(event["id"], event["document"]),
        "deliveries": event_deliveries(connection, event["id"]),
    }
