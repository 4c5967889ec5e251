"""GET /console/push: the outbox for the platform's operators (scope `push`): how many
deliveries wait, which failed and which were given up; POST /console/push/redeliver queues a
dead delivery's event again, exactly as POST /v1/push-events/{id}/redeliver does."""

import time
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Connection

from service.api.deps import EngineDep
from service.console.language import console_language
from service.console.operators import platform_scope
from service.console.pages import SECURITY_HEADERS, render
from service.console.session import ConsoleSession, check_csrf
from service.core.clock import utc_text
from service.core.database import run_read, run_write
from service.core.errors import Conflict
from service.core.i18n import Message, Text, message
from service.policy.catalogue import Catalogue
from service.push.failing import COUNT_CAP, count_failing, troubled_deliveries
from service.push.feed import event_row
from service.push.gauges import Reading, read_gauges
from service.push.redelivery import queue_redelivery
from service.push.wake import wake_worker

router = APIRouter()

PAGE_SIZE = 50
EVENT_TYPES = {
    "measure.matched": message("newly matched"),
    "measure.unmatched": message("no longer matched"),
}
Operator = Annotated[ConsoleSession, Depends(platform_scope("push"))]
Before = Annotated[int | None, Query(ge=1, le=2**62)]


def _last_reading(request: Request) -> tuple[Reading | None, float | None]:
    """The gauges /metrics reads in the background, and their age in seconds, when recent: a
    count over the whole outbox is too slow for a page (0.2 s at 300,000 deliveries)."""
    collector = getattr(request.app.state, "outbox_collector", None)
    if collector is None or collector.reading is None or collector.read_at is None:
        return None, None
    age = time.monotonic() - collector.read_at
    return (collector.reading, age) if age < 4 * collector.interval else (None, None)


def _outbox(
    connection: Connection, reading: Reading | None, dead_before: int | None
) -> dict[str, Any]:
    reading = reading or read_gauges(connection)
    return {
        "depth": reading.deliveries.get("pending", 0),
        "dead_count": reading.deliveries.get("dead", 0),
        "oldest_due": None if reading.oldest_due is None else utc_text(reading.oldest_due),
        "subscriptions": reading.subscriptions,
        "failing_count": count_failing(connection),
        "dead": troubled_deliveries(connection, "dead", limit=PAGE_SIZE, before=dead_before),
        "failing": troubled_deliveries(connection, "failing", limit=PAGE_SIZE),
    }


async def _page(
    request: Request,
    engine: Any,
    *,
    dead_before: int | None = None,
    notice: Message | None = None,
    problem: Text | None = None,
    status: int = 200,
) -> HTMLResponse:
    reading, age = _last_reading(request)
    outbox = await run_read(engine, lambda c: _outbox(c, reading, dead_before))
    language = console_language(request)
    catalogue: Catalogue = request.app.state.catalogue
    context = {
        **outbox,
        "page_size": PAGE_SIZE,
        "count_cap": COUNT_CAP,
        "gauges_age": None if age is None else round(age),
        "notice": notice,
        "problem": problem,
        "event_types": EVENT_TYPES,
        "titles": {m.measure_id: m.spec.title.get(language) for m in catalogue.measures},
    }
    return render(request, "push.html", context, status=status)


@router.get("/console/push")
async def push_page(
    request: Request,
    session: Operator,
    engine: EngineDep,
    dead_before: Before = None,
    redelivered: Annotated[str | None, Query(max_length=40)] = None,
) -> HTMLResponse:
    """The outbox's depth, its failing and dead deliveries, and redelivery."""
    notice = None
    if redelivered is not None:
        notice = message("Event {event_id} is queued again.", event_id=redelivered)
    return await _page(request, engine, dead_before=dead_before, notice=notice)


@router.post("/console/push/redeliver", dependencies=[Depends(check_csrf)])
async def redeliver(
    request: Request,
    session: Operator,
    engine: EngineDep,
    event_id: Annotated[str, Form(min_length=1, max_length=40)],
    subscription_id: Annotated[str | None, Form(max_length=40)] = None,
) -> Response:
    """Queue an event again, now, to its subscription (the API's redelivery)."""
    event = await run_read(engine, lambda c: event_row(c, event_id))
    if event is None:
        problem = message("no push event {id}", id=event_id)
        return await _page(request, engine, problem=problem, status=404)
    try:
        await run_write(
            engine, lambda c: queue_redelivery(c, event, subscription_id=subscription_id or None)
        )
    except Conflict as refused:
        return await _page(request, engine, problem=refused.detail, status=409)
    wake_worker(request.app.state)
    response = RedirectResponse(
        f"/console/push?redelivered={quote(event_id, safe='')}", status_code=303
    )
    response.headers.update(SECURITY_HEADERS)
    return response
