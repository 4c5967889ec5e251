"""The deliveries an operator has to look at: those given up (dead) and those still pending
after a failed attempt (failing), each with the event it carries and where it was going.

Read for the console's push page: a page's ids come from the delivery index alone, so a page
costs about the same however long the outbox grows; the failing ones are counted up to a cap.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, Connection, and_, func, select

from service.core.tables import DELIVERY, EVENT, SUBSCRIPTION, as_utc

Trouble = Literal["dead", "failing"]


@dataclass(frozen=True, slots=True)
class TroubledDelivery:
    """A dead or failing delivery, the event it carries and its subscription."""

    delivery_id: int
    state: str
    attempts: int
    next_attempt_at: datetime | None
    last_status: int | None
    last_error: str | None
    event_id: str
    event_type: str
    occurred_at: datetime
    uscc: str
    county: str
    measure_id: str
    subscription_id: str
    subscription_state: str
    subscription_description: str | None


def _trouble(trouble: Trouble) -> ColumnElement[bool]:
    if trouble == "dead":
        return DELIVERY.c.state == "dead"
    return and_(DELIVERY.c.state == "pending", DELIVERY.c.attempts > 0)


COUNT_CAP = 100  # counted up to this, then "more than": a count visits the rows it counts


def count_failing(connection: Connection) -> int:
    """How many deliveries are pending after a failed attempt, counted up to COUNT_CAP + 1."""
    # latest due first: a retry is due later than what waits for its first attempt
    some = (
        select(DELIVERY.c.id)
        .where(_trouble("failing"))
        .order_by(DELIVERY.c.next_attempt_at.desc())
        .limit(COUNT_CAP + 1)
        .subquery()
    )
    return int(connection.execute(select(func.count()).select_from(some)).scalar_one())


def troubled_deliveries(
    connection: Connection, trouble: Trouble, *, limit: int, before: int | None = None
) -> list[TroubledDelivery]:
    """Dead deliveries newest first (those with an id below `before`), or failing ones latest
    due first (a retry is due after those not yet tried, so the index finds them first).

    The page's ids are picked from the index alone, and only they are joined to their events.
    """
    page = select(DELIVERY.c.id).where(_trouble(trouble))
    if trouble == "dead":
        page = page.order_by(DELIVERY.c.id.desc())
        if before is not None:
            page = page.where(DELIVERY.c.id < before)
    else:
        page = page.order_by(DELIVERY.c.next_attempt_at.desc())
    ids = list(connection.execute(page.limit(limit)).scalars())
    if not ids:
        return []
    query = (
        select(
            DELIVERY.c.id,
            DELIVERY.c.state,
            DELIVERY.c.attempts,
            DELIVERY.c.next_attempt_at,
            DELIVERY.c.last_status,
            DELIVERY.c.last_error,
            EVENT.c.event_id,
            EVENT.c.type,
            EVENT.c.occurred_at,
            EVENT.c.uscc,
            EVENT.c.county,
            EVENT.c.measure_id,
            SUBSCRIPTION.c.id.label("subscription_id"),
            SUBSCRIPTION.c.state.label("subscription_state"),
            SUBSCRIPTION.c.description,
        )
        .join(EVENT, EVENT.c.id == DELIVERY.c.event_id)
        .join(SUBSCRIPTION, SUBSCRIPTION.c.id == DELIVERY.c.subscription_id)
        .where(DELIVERY.c.id.in_(ids))
    )
    rows = {int(row.id): row for row in connection.execute(query).all()}
    return [_troubled(rows[i]) for i in ids if i in rows]


def _troubled(row: Any) -> TroubledDelivery:
    return TroubledDelivery(
        delivery_id=int(row.id),
        state=row.state,
        attempts=int(row.attempts),
        next_attempt_at=as_utc(row.next_attempt_at) if row.state == "pending" else None,
        last_status=row.last_status,
        last_error=row.last_error,
        event_id=row.event_id,
        event_type=row.type,
        occurred_at=as_utc(row.occurred_at),
        uscc=row.uscc,
        county=row.county,
        measure_id=row.measure_id,
        subscription_id=row.subscription_id,
        subscription_state=row.subscription_state,
        subscription_description=row.description,
    )
