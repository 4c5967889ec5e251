"""Serving over HTTP: uvicorn with httptools, the request head capped, proxies trusted by setting.

httptools (llhttp) gathers a header's name and value internally before it calls back, and sets
no limit of its own: a client could send one header of hundreds of megabytes. HeadLimitedHttp
counts the bytes fed to the parser while a request head is incomplete and answers 431 (and
closes) once they pass `max_head_bytes`. h11 caps heads too (16 KiB), but its pure-Python parser
is slower (bench.head_parsing); httptools with this count keeps the speed and the cap.
"""

import contextlib
import gc
import logging
import socket
import sys
from pathlib import Path
from typing import Any

import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from service.api.problems import problem
from service.core.i18n import message

LOG_CONFIG = Path(__file__).with_name("log_config.json")  # uvicorn's logging, as JSON lines
log = logging.getLogger("policy_match.server")


class HeadLimitedHttp(HttpToolsProtocol):
    """uvicorn's httptools protocol, answering 431 to a request head over `max_head_bytes`."""

    max_head_bytes = 65_536

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_head = True  # the bytes arriving belong to a request head
        self._head_bytes = 0

    def data_received(self, data: bytes) -> None:
        """Feed the parser, counting the bytes of an incomplete head; 431 past the cap."""
        if not self._in_head or self._head_bytes + len(data) <= self.max_head_bytes:
            if self._in_head:
                self._head_bytes += len(data)
            super().data_received(data)
            return
        room = self.max_head_bytes - self._head_bytes
        self._head_bytes = self.max_head_bytes
        if room > 0:
            super().data_received(data[:room])
        if self.transport.is_closing():
            return
        if self._in_head:  # the cap reached and the head still not complete
            self.refuse_head()
            return
        self.data_received(data[room:])  # the body (and what follows) as usual

    def on_headers_complete(self) -> None:
        """The head is whole: what follows is a body, not counted here."""
        self._in_head = False
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        """The request is whole: the next bytes begin another head."""
        self._in_head, self._head_bytes = True, 0
        super().on_message_complete()

    def refuse_head(self) -> None:
        """Answer 431 problem+json and close the connection."""
        client = self.client[0] if self.client else None
        fields = {"limit_bytes": self.max_head_bytes, "client": client}
        log.warning("request head too large", extra={"fields": fields})
        answer = problem(
            431,
            message("Request header fields too large"),
            message(
                "the request line and headers may be at most {limit} bytes together",
                limit=self.max_head_bytes,
            ),
            "request-header-fields-too-large",
            headers={"connection": "close"},
        )
        headers = [*self.server_state.default_headers, *answer.raw_headers]
        head = [STATUS_LINE[431], *(name + b": " + value + b"\r\n" for name, value in headers)]
        self.transport.write(b"".join(head) + b"\r\n" + answer.body)
        self.transport.close()


def head_limited(max_head_bytes: int) -> type[HeadLimitedHttp]:
    """The protocol class with its cap set (uvicorn makes one per connection)."""
    return type("HeadLimitedHttp", (HeadLimitedHttp,), {"max_head_bytes": max_head_bytes})


def trusted_proxies(setting: str) -> list[str]:
    """The addresses or networks whose X-Forwarded-For / -Proto are believed."""
    return [part.strip() for part in setting.split(",") if part.strip()]


class FrozenStartServer(uvicorn.Server):
    """uvicorn's server, which, once the application has started, moves everything made so far
    (the application, the catalogue, the OpenAPI document, the modules) out of the garbage
    collector's sight: they live as long as the process, and each full collection walked them
    (about 200,000 objects) while a batch's matches were being made (bench.batch_http)."""

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        """Start as uvicorn does, then freeze what the start made."""
        await super().startup(sockets)
        gc.collect()
        gc.freeze()


def serve(app: str, host: str, port: int, *, max_head_bytes: int, proxies: str) -> None:
    """Run uvicorn in this process (signals reach it) with the head cap and trusted proxies."""
    trusted = trusted_proxies(proxies)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        http=head_limited(max_head_bytes),
        # our access line (with the request id) replaces uvicorn's; its own lines as JSON
        access_log=False,
        log_config=str(LOG_CONFIG),
        proxy_headers=bool(trusted),
        forwarded_allow_ips=trusted or None,
    )
    server = FrozenStartServer(config)
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    if not server.started:  # as uvicorn.run ends when the application failed to start
        sys.exit(STARTUP_FAILURE)
