"""Hostile push receivers on loopback, as an attacker would run them (tests and bench).

- `huge`: answers 200 with a body of 1 GiB, written as fast as the worker reads it.
- `drip`: answers one byte of its status line every `interval` seconds, for ever.

Each records the POSTs it got (by `webhook-id`), the bytes it managed to send, and whether the
same event was ever being POSTed on two connections at once (`overlaps`).
"""

import select
import socket
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from tests.receiver import serving

GIB = 1 << 30
CHUNK = b"\0" * 65_536


@dataclass
class Hostile:
    """A hostile receiver's address and what it saw."""

    url: str
    mode: str
    interval: float = 0.5
    event_ids: list[str] = field(default_factory=list)
    in_flight: dict[str, int] = field(default_factory=dict)
    overlaps: int = 0
    bytes_sent: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def arrived(self, event_id: str) -> None:
        """A POST of this event began."""
        with self.lock:
            self.event_ids.append(event_id)
            self.in_flight[event_id] = self.in_flight.get(event_id, 0) + 1
            if self.in_flight[event_id] > 1:
                self.overlaps += 1

    def left(self, event_id: str, sent: int) -> None:
        """A POST of this event ended (the worker closed the connection)."""
        with self.lock:
            self.in_flight[event_id] -= 1
            self.bytes_sent += sent


def read_request(connection: socket.socket) -> str:
    """Read one request (head and Content-Length body); its webhook-id."""
    data = b""
    while b"\r\n\r\n" not in data:
        more = connection.recv(65_536)
        if not more:
            return ""
        data += more
    head, _, body = data.partition(b"\r\n\r\n")
    headers = {}
    for line in head.decode("latin-1").split("\r\n")[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    missing = int(headers.get("content-length", "0")) - len(body)
    while missing > 0:
        more = connection.recv(min(missing, 65_536))
        if not more:
            break
        missing -= len(more)
    return headers.get("webhook-id", "")


def _answer(hostile: Hostile, connection: socket.socket) -> int:
    sent = 0
    try:
        if hostile.mode == "huge":
            connection.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n" % GIB)
            while sent < GIB:
                connection.sendall(CHUNK)
                sent += len(CHUNK)
        else:
            for byte in b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n" * 1000:
                connection.sendall(bytes([byte]))
                sent += 1
                readable, _, _ = select.select([connection], [], [], hostile.interval)
                if readable and not connection.recv(1):
                    break  # the worker hung up: the POST is over the moment it does
    except OSError:
        pass  # the worker closed the connection: what we wanted to see
    return sent


@contextmanager
def hostile_receiver(mode: str, interval: float = 0.5) -> Iterator[Hostile]:
    """A hostile receiver (`huge` or `drip`) on a free loopback port while the block runs."""
    hostile = Hostile(url="", mode=mode, interval=interval)

    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            event_id = read_request(self.request)
            if not event_id:
                return
            hostile.arrived(event_id)
            hostile.left(event_id, _answer(hostile, self.request))

    class Server(socketserver.ThreadingTCPServer):
        daemon_threads = True
        allow_reuse_address = True

    with serving(Server(("127.0.0.1", 0), Handler)) as hostile.url:
        yield hostile
