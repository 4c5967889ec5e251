"""Soak: minutes of mixed load on the service as deployed on PostgreSQL; does memory level off?

Run: .venv/bin/python -m bench.soak [--minutes 30] [--rate 40] [--output FILE]
Makes a fresh PostgreSQL database (postgres@127.0.0.1:5432, dropped at the end unless
--keep-database), stores --firms synthetic firms, and starts as compose.yaml deploys it:
`policy-match serve` in production mode with its in-process worker off, one
`policy-match worker`, and a slow receiver (bench/soak_receiver.py: answers after 2 s, drips
one POST in 25 for 20 s, fails one in 40) subscribed to the loan and credit measures' events.
Then for --minutes it starts --rate operations a second (bench/soak_load.py: match, batch,
store, bank pages, push feed, /healthz) and every --sample-seconds records the resident memory
of the service and the worker (each with any process it forked), their open files and CPU,
the database's connections, the deliveries by state and what the receiver got.

The verdict (bench/soak_verdict.py): in the last 10 minutes (the last third of a shorter run)
each process's memory has a least-squares slope of at most --max-slope MiB/min and no sample
--max-rise MiB above the window's first; no request failed (any 5xx, unexpected 4xx,
connection error or timeout); no error line or traceback in either log; the receiver
acknowledged deliveries in the window. Samples and verdict go to --output (by default
docs/benchmarks/soak-<UTC time>.json); a summary is printed. Exit status 1 if it failed. The
processes' logs are read for errors and then removed (--keep-logs keeps them).
"""

import argparse
import asyncio
import os
import platform
import shutil
import signal
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson

from bench import soak_database
from bench.common import bench_token, free_port
from bench.soak_load import WEIGHTS, Load
from bench.soak_processes import Processes, log_errors, usage
from bench.soak_report import print_sample, print_summary
from bench.soak_verdict import Limits, judge
from service.core.settings import PROJECT_ROOT
from service.matching.cases import load_checked_catalogue
from service.registry.demo import synthetic_profiles

# what the subscription asks for: the kinds the stores' changes (a loan, land) move, so that
# events come at about half of what the slow receiver takes (8 at once, 2 s each)
KINDS = ["loan_interest_subsidy", "credit_product", "land_green_channel", "land_supply"]


def arguments() -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add = parser.add_argument
    add("--minutes", type=float, default=30.0, help="how long the load runs")
    add("--rate", type=float, default=40.0, help="operations started a second")
    add("--concurrency", type=int, default=16, help="operations in flight at most")
    add("--firms", type=int, default=2000, help="firms stored before the load")
    add("--sample-seconds", type=float, default=10.0)
    add("--delay", type=float, default=2.0, help="the receiver's answer delay, s")
    add("--drip-every", type=int, default=25, help="one POST in this many drips")
    add("--drip-seconds", type=int, default=20, help="how long a drip lasts")
    add("--fail-every", type=int, default=40, help="one POST in this many answers 503")
    add("--window-minutes", type=float, default=10.0, help="the judged window (at most)")
    add("--max-slope", type=float, default=Limits.max_slope, help="MiB a minute")
    add("--max-rise", type=float, default=Limits.max_rise, help="MiB over the window's first")
    add("--environment", default="production", choices=["production", "test"])
    add("--database-name", default="policy_match_soak")
    add("--keep-database", action="store_true")
    add("--keep-logs", action="store_true", help="keep the processes' logs (path printed)")
    add("--output", type=Path, default=None)
    return parser.parse_args()


def subscribe(base: str, receiver: str) -> str:
    """Subscribe the receiver to the events of KINDS; the subscription's id."""
    answer = httpx.post(
        f"{base}/v1/subscriptions",
        json={"url": f"{receiver}/hook", "kinds": KINDS, "description": "soak receiver"},
        headers={"Authorization": f"Bearer {bench_token('push')}"},
        trust_env=False,
    )
    if answer.status_code != 201:
        raise SystemExit(f"subscribing failed: {answer.status_code} {answer.text}")
    subscription: str = answer.json()["id"]
    return subscription


async def sample(
    load: Load, processes: Processes, subscription: str, receiver: str, args: argparse.Namespace
) -> dict[str, Any]:
    """One sample: memory of the service and the worker, the interval's load, push, database."""
    pids = {name: processes.started[name].pid for name in ("server", "worker")}
    took: dict[str, Any] = {"processes": {name: usage(pid) for name, pid in pids.items()}}
    took["load"] = load.take_interval()
    push: dict[str, Any] = {}
    answer = await load.request(
        "subscription",
        "GET",
        f"/v1/subscriptions/{subscription}",
        (200,),
        headers=load.token("push"),
    )
    if answer is not None:
        push["state"] = answer.json().get("state")
        push["deliveries"] = answer.json().get("deliveries")
    try:
        assert load.client is not None
        got = await load.client.get(receiver, timeout=5)
        push.update(got.json())
    except httpx.HTTPError as e:
        push["receiver_error"] = str(e)
    took["push"] = push
    took["database_connections"] = await asyncio.to_thread(
        soak_database.connections, args.database_name
    )
    return took


async def soak(
    load: Load, processes: Processes, subscription: str, receiver: str, args: argparse.Namespace
) -> tuple[list[dict[str, Any]], float, str]:
    """Run the load, sampling as it goes; the samples, the load's seconds, and how it ended."""
    limits = httpx.Limits(max_connections=args.concurrency + 2)
    async with httpx.AsyncClient(
        base_url=load.base, timeout=30, limits=limits, trust_env=False
    ) as load.client:
        return await _soak(load, processes, subscription, receiver, args)


async def _soak(
    load: Load, processes: Processes, subscription: str, receiver: str, args: argparse.Namespace
) -> tuple[list[dict[str, Any]], float, str]:
    stop = asyncio.Event()
    ended = "completed"
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    started = loop.time()
    samples = [{"t": 0.0, **await sample(load, processes, subscription, receiver, args)}]
    print_sample(samples[-1])
    running = asyncio.create_task(load.run(args.rate, args.concurrency, stop))
    seconds = args.minutes * 60
    n = 0
    while not stop.is_set():
        n += 1
        due = min(n * args.sample_seconds, seconds)
        try:
            await asyncio.wait_for(stop.wait(), max(0.0, started + due - loop.time()))
            ended = "interrupted"
            break
        except TimeoutError:
            pass
        took: dict[str, Any] = {"t": round(loop.time() - started, 1)}
        took.update(await sample(load, processes, subscription, receiver, args))
        samples.append(took)
        print_sample(took)
        if any(usage is None for usage in took["processes"].values()):
            ended = "a process ended"
            break
        if due >= seconds:
            break
    duration = loop.time() - started
    stop.set()
    await running
    return samples, duration, ended


def revision() -> str:
    """The checked-out commit, marked when the tree has changes."""
    git = ["git", "-C", str(PROJECT_ROOT)]
    head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run(
        [*git, "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True
    )
    return head.stdout.strip() + ("+changes" if dirty.stdout.strip() else "")


def main() -> None:
    """Prepare, start, soak, stop, judge, write and print."""
    args = arguments()
    begun = datetime.now(UTC)
    catalogue = load_checked_catalogue(PROJECT_ROOT / "policies")
    measures = [m.measure_id for m in catalogue.measures if m.spec.finance]
    # enough new firms for the stores that add one (about 1 store in 20)
    stores = args.rate * args.minutes * 60 * WEIGHTS["store"] / sum(WEIGHTS.values())
    profiles = synthetic_profiles(args.firms + int(stores * 0.08) + 10, seed=2026)
    firms, new_firms = profiles[: args.firms], profiles[args.firms :]
    load_before = os.getloadavg()
    url = soak_database.create(args.database_name, catalogue, firms)
    port, receiver_port = free_port(), free_port()
    base, receiver = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{receiver_port}"
    behaviour = {
        "SOAK_DELAY_SECONDS": str(args.delay),
        "SOAK_DRIP_EVERY": str(args.drip_every),
        "SOAK_DRIP_SECONDS": str(args.drip_seconds),
        "SOAK_FAIL_EVERY": str(args.fail_every),
    }
    processes = Processes(url, args.environment, behaviour)
    statuses: dict[str, int | None] = {}
    try:
        processes.start_all(port, receiver_port)
        load = Load(base, firms, new_firms, measures)
        subscription = subscribe(base, receiver)
        print(f"soaking for {args.minutes:g} min at {args.rate:g} operations/s; Ctrl-C ends early")
        samples, duration, ended = asyncio.run(soak(load, processes, subscription, receiver, args))
    finally:
        statuses = processes.stop()
        stored = soak_database.contents(url) if processes.started else {}
        if not args.keep_database:
            soak_database.drop(args.database_name)
    logs: dict[str, Any] = {}
    for name in ("server", "worker"):
        counts, lines, first = log_errors(processes.log(name))
        stderr_counts, _, stderr_first = log_errors(processes.log(name, "stderr"))
        logs[name] = {
            "lines": lines,
            "errors": counts,
            "stderr": stderr_counts,
            "first_errors": first + stderr_first,
        }
    if args.keep_logs:
        print(f"the processes' logs are kept in {processes.folder}")
    else:
        shutil.rmtree(processes.folder)
    log_totals = {
        f"{name} {level}": n
        for name, entry in logs.items()
        for part in ("errors", "stderr")
        for level, n in entry[part].items()
    }
    window = min(args.window_minutes * 60, duration / 3)
    limits_used = Limits(
        window_seconds=args.window_minutes * 60, max_slope=args.max_slope, max_rise=args.max_rise
    )
    verdict = judge(samples, duration, load.error_total, log_totals, limits_used)
    if ended != "completed":
        verdict["passed"] = False
    record = {
        "benchmark": "soak",
        "started": begun.isoformat(timespec="seconds"),
        "revision": revision(),
        "machine": {
            "cores": os.cpu_count(),
            "load_average_before": load_before,
            "python": platform.python_version(),
        },
        "arguments": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "ended": ended,
        "duration_s": round(duration, 1),
        "exit_statuses": statuses,
        "operations_behind": load.behind,
        "requests": load.totals(),
        "errors": {"count": load.error_total, "first": load.errors},
        "logs": logs,
        "stored": stored,
        "verdict": verdict,
        "samples": samples,
    }
    stamp = begun.strftime("%Y-%m-%dT%H%MZ")
    output = args.output or PROJECT_ROOT / "docs" / "benchmarks" / f"soak-{stamp}.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(orjson.dumps(record, option=orjson.OPT_INDENT_2) + b"\n")
    print_summary(record, window, output)
    raise SystemExit(0 if verdict["passed"] else 1)


if __name__ == "__main__":
    main()
