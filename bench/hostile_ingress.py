"""What a hostile caller can make the server hold: huge chunked bodies and a huge header.

Run: .venv/bin/python -m bench.hostile_ingress [--mib 64] [--header-mib 16]
Starts the service as deployed (bench.common.start_server: `policy-match serve`, one process)
on a fresh SQLite file, then for every POST and PUT of its OpenAPI document sends a body of
`--mib` MiB, chunked (no Content-Length), first with no token and then with a token holding
every scope, over a raw socket as fast as the server takes it. For each it prints the answer's
status, how much the client managed to send before the server stopped reading and closed, and
the server process's resident memory (VmRSS) and peak (VmHWM, from /proc/PID/status) against
where it started. Last, a request with one header of `--header-mib` MiB.
Passes when every body is refused unread (413, or an earlier answer that did not want the body:
a 401 without a token), the connection closed before the client could send it all, the peak stays
within 48 MiB of the start, and the header is refused with 431.
"""

import argparse
import socket
import sys
import tempfile
from dataclasses import dataclass

import httpx

from bench.common import bench_token, free_port, start_server, stop_server
from bench.memory import memory_kib
from service.api.clients import Scope
from service.core.migrate import upgrade_database
from service.policy.examples import EXAMPLE_USCC

MIB = 1 << 20
CHUNK = b"{" * 65_536
PEAK_MARGIN_MIB = 48


@dataclass(frozen=True)
class Refusal:
    """How the server met one hostile request."""

    method: str
    path: str
    status: int
    sent: int  # bytes of body (or header) the client got onto the connection
    closed: bool  # the server closed the connection after answering


def _answer(connection: socket.socket) -> tuple[int, bool]:
    """The status of the answer and whether the server then closed the connection."""
    data, closed = b"", True
    connection.settimeout(10)
    try:
        while chunk := connection.recv(65_536):
            data += chunk
    except TimeoutError:
        closed = False  # answered (or not) and kept open: it would read on
    except OSError:
        pass  # reset after the answer: closed
    status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/1.1 ") else 0
    return status, closed


def _sent_until_refused(connection: socket.socket, total: int, piece: bytes, frame: bool) -> int:
    sent = 0
    try:
        while sent < total:
            connection.sendall(b"%x\r\n" % len(piece) + piece + b"\r\n" if frame else piece)
            sent += len(piece)
        if frame:
            connection.sendall(b"0\r\n\r\n")
        else:
            connection.sendall(b"\r\n\r\n")
    except OSError:
        pass  # the server answered and closed while we were still sending
    return sent


def chunked_body(
    port: int, method: str, path: str, total: int, token: str | None = None
) -> Refusal:
    """Send `total` bytes as a chunked JSON body; what the server answered and when it stopped."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        head = f"{method} {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
        head += "Transfer-Encoding: chunked\r\n"
        if token:
            head += f"Authorization: Bearer {token}\r\n"
        connection.sendall(head.encode() + b"\r\n")
        sent = _sent_until_refused(connection, total, CHUNK, frame=True)
        status, closed = _answer(connection)
    return Refusal(method, path, status, sent, closed)


def huge_header(port: int, total: int) -> Refusal:
    """GET /healthz with one header of `total` bytes."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: bench\r\nX-Padding: ")
        sent = _sent_until_refused(connection, total, b"a" * 65_536, frame=False)
        status, closed = _answer(connection)
    return Refusal("GET", "/healthz", status, sent, closed)


def refused_unread(refusal: Refusal, total: int) -> bool:
    """The server answered (413, or earlier without wanting the body), closed the connection,
    and did not take the whole body."""
    return refusal.closed and refusal.sent < total and 200 <= refusal.status < 500


def writes(port: int) -> list[tuple[str, str]]:
    """Every POST and PUT of the served OpenAPI document, its path parameters filled in."""
    document = httpx.get(f"http://127.0.0.1:{port}/openapi.json").json()
    found = []
    for path, operations in document["paths"].items():
        filled = path.replace("{uscc}", EXAMPLE_USCC)
        while "{" in filled:
            start = filled.index("{")
            filled = filled[:start] + "x1" + filled[filled.index("}", start) + 1 :]
        found += [(m.upper(), filled) for m in operations if m in ("post", "put")]
    return found


def every_scope_token() -> str:
    """A platform's token holding every scope: each route gets as far as reading its body."""
    return bench_token(*(scope.value for scope in Scope))


def measure(port: int, pid: int, total: int, header_total: int) -> tuple[list[Refusal], int, int]:
    """Every write with `total` bytes, without and with a token, then the header; the refusals,
    the RSS at the start and the peak (KiB)."""
    start = memory_kib(pid)["VmRSS"]
    refusals = []
    token = every_scope_token()
    for with_token in (False, True):
        for method, path in writes(port):
            refusals.append(chunked_body(port, method, path, total, token if with_token else None))
    refusals.append(huge_header(port, header_total))
    return refusals, start, memory_kib(pid)["VmHWM"]


def main() -> int:
    """Run the figures; exit 1 if a bound does not hold."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--mib", type=int, default=64)
    parser.add_argument("--header-mib", type=int, default=16)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.db"
        upgrade_database(url)
        port = free_port()
        server = start_server(port, database_url=url, push_worker_in_process="false")
        try:
            httpx.get(f"http://127.0.0.1:{port}/readyz")
            refusals, start, peak = measure(port, server.pid, args.mib * MIB, args.header_mib * MIB)
        finally:
            stop_server(server)
    print(f"{'method':6s} {'path':44s} {'token':5s} {'status':>6s} {'sent MiB':>9s} closed")
    tokens = ["no"] * (len(refusals) // 2) + ["yes"] * (len(refusals) // 2) + ["no"]
    for r, token in zip(refusals, tokens, strict=True):
        print(f"{r.method:6s} {r.path:44s} {token:5s} {r.status:6d} {r.sent / MIB:9.2f} {r.closed}")
    growth = (peak - start) / 1024
    print(f"server RSS at start {start / 1024:.1f} MiB, peak {peak / 1024:.1f} MiB: +{growth:.1f}")
    bodies_ok = all(refused_unread(r, args.mib * MIB) for r in refusals[:-1])
    header_ok = refusals[-1].status == 431
    ok = bodies_ok and header_ok and growth <= PEAK_MARGIN_MIB
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
