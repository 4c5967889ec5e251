"""A pure ASGI guard that refuses a declared body over the limit before it is read."""

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

from service.errors import PROBLEM_BASE, PROBLEM_JSON


class BodySizeLimit:
    """Answer 413 problem+json to a request whose Content-Length exceeds `max_bytes`."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on unless its declared body is too large."""
        if scope["type"] == "http":
            for name, value in scope["headers"]:
                if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                    body = orjson.dumps(
                        {
                            "type": PROBLEM_BASE + "payload-too-large",
                            "title": "Payload too large",
                            "status": 413,
                            "detail": f"the body may be at most {self.max_bytes} bytes",
                        }
                    )
                    await send(
                        {
                            "type": "http.response.start",
                            "status": 413,
                            "headers": [
                                (b"content-type", PROBLEM_JSON.encode()),
                                (b"content-length", str(len(body)).encode()),
                            ],
                        }
                    )
                    await send({"type": "http.response.body", "body": body})
                    return
        await self.app(scope, receive, send)
