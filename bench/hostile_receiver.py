"""The service with its push worker against three hostile receivers at once (issue 11).

Run: .venv/bin/python -m bench.hostile_receiver [--seconds 30]
Two services run as deployed, side by side (`policy-match serve`, in-process worker on,
SQLite), with internal targets allowed so that they reach receivers on loopback. The first has
three subscriptions:
- `huge` answers every POST 200 with a body of 1 GiB (tests/hostile.py);
- `drip` answers one byte of its status line every 0.5 s;
- `rebind`: `rebind.example` resolves to a public address the first time and to a loopback
  receiver after. The server's own resolver cannot be patched from outside, so this one is
  delivered by a worker in this process (internal targets refused, socket.getaddrinfo
  patched), as the brief allows; the loopback receiver must get nothing.
The second service (the reference) has no subscription. A firm is stored in both every second
(each writes events for all three receivers in the first), retries come due within a second.
GET /healthz is timed on both in turn every 20 ms and each one's VmRSS read every 0.5 s, so the
machine's load weighs on both alike.
"""

import argparse
import asyncio
import socket
import statistics
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx

from bench.common import bench_token, free_port, start_server, stop_server
from service.core.database import make_engine
from service.core.migrate import upgrade_database
from service.core.settings import Settings
from service.push.deliver import DeliveryWorker
from service.push.subscriptions import _resolved
from tests.factories import firm
from tests.hostile import hostile_receiver
from tests.receiver import start_receiver

FAST_RETRIES = {
    "push_backoff_base_seconds": "0.2",
    "push_backoff_cap_seconds": "1",
    "push_timeout_seconds": "5",
    "push_lease_seconds": "30",
    "push_poll_seconds": "0.2",
    "push_max_attempts": "50",
    "push_allow_internal_targets": "true",
    "rate_limit_match": "100000000/minute",
}


Run = dict[str, float]


def rss_mib(pid: int) -> float:
    """The process's resident memory now, MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def observe(servers: dict[str, tuple[str, int]], seconds: float, feed: Any) -> dict[str, Run]:
    """GET /healthz on each server in turn every 20 ms and read each one's VmRSS every 0.5 s,
    for `seconds`, calling `feed()` each second; per server: latency percentiles (ms) and RSS
    at start and at peak (MiB)."""
    latencies: dict[str, list[float]] = {name: [] for name in servers}
    start = {name: rss_mib(pid) for name, (_, pid) in servers.items()}
    peak = dict(start)
    next_rss = next_feed = time.monotonic()
    end = time.monotonic() + seconds
    with httpx.Client(timeout=10) as client:
        while (now := time.monotonic()) < end:
            for name, (base, _) in servers.items():
                clock = time.perf_counter()
                assert client.get(f"{base}/healthz").status_code == 200
                latencies[name].append((time.perf_counter() - clock) * 1000)
            if now >= next_rss:
                for name, (_, pid) in servers.items():
                    peak[name] = max(peak[name], rss_mib(pid))
                next_rss = now + 0.5
            if now >= next_feed:
                feed()
                next_feed = now + 1.0
            time.sleep(0.02)
    runs = {}
    for name, times in latencies.items():
        times.sort()
        runs[name] = {
            "requests": len(times),
            "p50": statistics.median(times),
            "p99": times[max(0, int(len(times) * 0.99) - 1)],
            "max": times[-1],
            "rss_start": start[name],
            "rss_peak": peak[name],
        }
    return runs


def patch_resolver(loopback_port: int) -> list[str]:
    """`rebind.example`: a public address the first time, the loopback receiver after."""
    real = socket.getaddrinfo
    answers: list[str] = []

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in ("rebind.example", b"rebind.example"):
            return real(host, *args, **kwargs)
        address = "198.51.100.7" if not answers else "127.0.0.1"
        answers.append(address)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, loopback_port))]

    socket.getaddrinfo = getaddrinfo
    return answers


def rebinding_worker(
    database_url: str, subscription_id: str, stop: threading.Event
) -> dict[str, int]:
    """Deliver the rebinding subscription's deliveries, internal targets refused, until stopped;
    the attempts made."""
    settings = Settings(
        database_url=database_url,
        push_allow_internal_targets=False,
        push_timeout_seconds=1.0,
        push_backoff_base_seconds=0.2,
        push_backoff_cap_seconds=1.0,
        push_max_attempts=50,
    )
    worker = DeliveryWorker(make_engine(database_url), settings, name="bench-rebinding")

    async def loop() -> None:
        async with worker.client() as client:
            while not stop.is_set():
                await worker.deliver_batch(client, subscription_id)
                _resolved.clear()  # ask the resolver each time: the rebinding's chance
                await asyncio.sleep(0.1)

    asyncio.run(loop())
    return worker.totals


def main() -> None:
    """Two servers side by side, one fed to hostile receivers, one with no subscription."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=30)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="policy-match-hostile-"))
    urls = {name: f"sqlite:///{folder / name}.sqlite" for name in ("hostile", "quiet")}
    servers: dict[str, tuple[str, int]] = {}
    processes = []
    for name, url in urls.items():
        upgrade_database(url)
        port = free_port()
        processes.append(start_server(port, database_url=url, **FAST_RETRIES))
        servers[name] = (f"http://127.0.0.1:{port}", processes[-1].pid)
    base = servers["hostile"][0]
    headers = {"Authorization": f"Bearer {bench_token('push', 'enterprises:write')}"}
    stored = 0

    def store() -> None:
        nonlocal stored
        body = firm(tier="none", trademarks=0)
        for server_base, _ in servers.values():
            answer = httpx.put(
                f"{server_base}/v1/enterprises/{body['uscc']}", json=body, headers=headers
            )
            assert answer.status_code in (200, 201), answer.text
        stored += 1

    with ExitStack() as stack:
        try:
            huge = stack.enter_context(hostile_receiver("huge"))
            drip = stack.enter_context(hostile_receiver("drip", interval=0.5))
            loopback = next(receivers := start_receiver())
            stack.callback(receivers.close)
            loopback_port = int(loopback.url.split(":")[2].split("/")[0])
            answers = patch_resolver(loopback_port)
            ids = {}
            for name, target in (
                ("huge", huge.url),
                ("drip", drip.url),
                ("rebind", f"http://rebind.example:{loopback_port}/hooks"),
            ):
                made = httpx.post(f"{base}/v1/subscriptions", json={"url": target}, headers=headers)
                assert made.status_code == 201, made.text
                ids[name] = made.json()["id"]
            stop = threading.Event()
            totals: dict[str, int] = {}
            thread = threading.Thread(
                target=lambda: totals.update(rebinding_worker(urls["hostile"], ids["rebind"], stop))
            )
            thread.start()
            runs = observe(servers, args.seconds, store)
            stop.set()
            thread.join()
        finally:
            for process in processes:
                stop_server(process)
    print(f"{args.seconds:g} s; firms stored: {stored} (one a second, in both servers)")
    for name, run in runs.items():
        print(
            f"{name:8s} /healthz n={run['requests']:.0f} p50 {run['p50']:.1f} ms "
            f"p99 {run['p99']:.1f} ms max {run['max']:.1f} ms; VmRSS {run['rss_start']:.1f} -> "
            f"peak {run['rss_peak']:.1f} MiB (+{run['rss_peak'] - run['rss_start']:.1f})"
        )
    print(f"p99 ratio hostile/quiet: {runs['hostile']['p99'] / runs['quiet']['p99']:.2f}")
    print(
        f"huge: {len(huge.event_ids)} POSTs, {huge.bytes_sent / 2**20:.1f} MiB sent in all "
        f"(1,024 MiB offered each)"
    )
    print(f"drip: {len(drip.event_ids)} POSTs, same delivery twice at once: {drip.overlaps}")
    print(
        f"rebind: resolver answers {answers[:1]} then {len(answers) - 1} x 127.0.0.1; "
        f"bench worker outcomes {totals}; POSTs reaching loopback: {len(loopback.received)}"
    )


if __name__ == "__main__":
    main()
