"""The soak's push receiver: slow, sometimes dripping, sometimes failing; a bare ASGI app.

Run by bench.soak under uvicorn in a process of its own. Each POST is read whole, then, by its
number n (from 1):
- every SOAK_DRIP_EVERY-th is answered 200 with a body of SOAK_DRIP_SECONDS bytes sent one a
  second (a receiver that drips: the attempt is held until the service gives up or it ends);
- every SOAK_FAIL_EVERY-th (of the others) is answered 503 after the delay (retried later);
- the rest are answered 204 after SOAK_DELAY_SECONDS.
GET answers what it has seen so far as JSON (posts, acknowledged, dripped, failed, distinct
events, given up: a drip the service stopped reading).
"""

import asyncio
import os
from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from bench.receiver import request_read

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

DELAY = float(os.environ.get("SOAK_DELAY_SECONDS", "2"))
DRIP_EVERY = int(os.environ.get("SOAK_DRIP_EVERY", "25"))
DRIP_SECONDS = int(os.environ.get("SOAK_DRIP_SECONDS", "20"))
FAIL_EVERY = int(os.environ.get("SOAK_FAIL_EVERY", "40"))

seen: dict[str, int] = {"posts": 0, "acknowledged": 0, "dripped": 0, "failed": 0, "given_up": 0}
events: set[str] = set()


async def _answer(send: Send, status: int, body: bytes = b"") -> None:
    headers = [(b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _drip(send: Send, receive: Receive) -> None:
    """200 with a body sent one byte a second; stops when the service hangs up."""
    headers = [(b"content-length", str(DRIP_SECONDS).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    gone = asyncio.ensure_future(receive())  # http.disconnect once the service hangs up
    try:
        for sent in range(1, DRIP_SECONDS + 1):
            await asyncio.wait([gone], timeout=1.0)
            if gone.done():
                seen["given_up"] += 1
                return
            await send(
                {"type": "http.response.body", "body": b".", "more_body": sent < DRIP_SECONDS}
            )
        seen["acknowledged"] += 1
    finally:
        gone.cancel()


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """Answer a POST slowly (see the module's text); GET: the counts as JSON."""
    if not await request_read(scope, receive, send):
        return
    if scope["method"] != "POST":
        await _answer(send, 200, orjson.dumps({**seen, "events": len(events)}))
        return
    seen["posts"] += 1
    number = seen["posts"]
    headers = dict(scope["headers"])
    events.add(headers.get(b"webhook-id", b"").decode())
    if number % DRIP_EVERY == 0:
        seen["dripped"] += 1
        await _drip(send, receive)
        return
    await asyncio.sleep(DELAY)
    if number % FAIL_EVERY == 0:
        seen["failed"] += 1
        await _answer(send, 503)
        return
    seen["acknowledged"] += 1
    await _answer(send, 204)
