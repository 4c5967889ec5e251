"""A real HTTP receiver of push deliveries on loopback, verifying every signature it gets.

Each POST is answered by `behaviour(n, event_id)` (n: how many times this event arrived, from
1): a status code, or ("sleep", seconds, status) to answer late. Everything received is kept.
"""

import socketserver
import threading
import time
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson
from standardwebhooks import Webhook, WebhookVerificationError

Behaviour = Callable[[int, str], int | tuple[str, float, int]]


@dataclass
class Received:
    """One POST as it arrived."""

    event_id: str
    headers: dict[str, str]
    body: bytes
    verified: bool
    status: int

    @property
    def event(self) -> Any:
        """The JSON event."""
        return orjson.loads(self.body)


@dataclass
class Receiver:
    """The receiver's address, what it received, and how it answers."""

    url: str
    secrets: list[str] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    behaviour: Behaviour = lambda n, event_id: 204
    lock: threading.Lock = field(default_factory=threading.Lock)
    in_flight: int = 0
    most_in_flight: int = 0

    def verify(self, body: bytes, headers: dict[str, str]) -> bool:
        """Whether the signature verifies with one of the subscriptions' secrets."""
        for secret in self.secrets:
            try:
                Webhook(secret).verify(body, headers)
                return True
            except WebhookVerificationError:
                continue
        return False

    def acknowledged(self) -> list[Received]:
        """The POSTs answered 2xx."""
        with self.lock:
            return [r for r in self.received if 200 <= r.status < 300]

    def event_ids(self) -> list[str]:
        """The event ids acknowledged, one entry per acknowledgement."""
        return [r.event_id for r in self.acknowledged()]

    def wait_for(self, count: int, timeout: float = 20.0) -> bool:
        """Wait until `count` distinct events were acknowledged."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(set(self.event_ids())) >= count:
                return True
            time.sleep(0.05)
        return False


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            headers = {k.lower(): v for k, v in self.headers.items()}
            event_id = headers.get("webhook-id", "")
            with receiver.lock:
                seen = sum(r.event_id == event_id for r in receiver.received) + 1
                receiver.in_flight += 1
                receiver.most_in_flight = max(receiver.most_in_flight, receiver.in_flight)
            answer = receiver.behaviour(seen, event_id)
            if isinstance(answer, tuple):
                _, seconds, status = answer
                time.sleep(seconds)
            else:
                status = answer
            with receiver.lock:
                receiver.in_flight -= 1
            verified = receiver.verify(body, headers)
            with receiver.lock:
                receiver.received.append(Received(event_id, headers, body, verified, status))
            try:
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()
            except OSError:
                pass  # the worker gave up waiting

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


class _Server(ThreadingHTTPServer):
    request_queue_size = 256  # the worker opens up to push_concurrency connections at once
    daemon_threads = True


@contextmanager
def serving(server: socketserver.BaseServer) -> Iterator[str]:
    """Serve on a thread while the block runs (the server is bound to a loopback port); the
    URL deliveries go to."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks"  # type: ignore[index]
    finally:
        server.shutdown()
        server.server_close()


def start_receiver() -> Generator[Receiver, None, None]:
    """A receiver on a free loopback port until the generator is closed."""
    receiver = Receiver(url="")
    with serving(_Server(("127.0.0.1", 0), _handler(receiver))) as receiver.url:
        yield receiver
