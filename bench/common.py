"""What the HTTP benchmarks share: a server on a free loopback port, wrk, and a token."""

import argparse
import math
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from pydantic import SecretStr

from service.api.auth import issue_token
from service.api.server import LOG_CONFIG
from service.core.settings import Settings

SECRET = "bench-secret-not-for-production-0001"
# start_server settings that keep the per-caller rate limits (POST /v1/match, the bank query) in
# the request path but set so high that a benchmark's one caller is never refused
UNLIMITED_RATES = {
    "rate_limit_match": "100000000/minute",
    "rate_limit_bank_query": "100000000/minute",
    "rate_limit_plan_progress": "100000000/minute",
}


_logs: dict[int, Path] = {}


def stop_server(server: subprocess.Popen[bytes]) -> tuple[int, int]:
    """Stop a server started by start_server; the bytes and lines it logged (file removed)."""
    server.terminate()
    server.wait(timeout=30)
    log = _logs.pop(server.pid)
    data = log.read_bytes()
    log.unlink()
    return len(data), data.count(b"\n")


def server_log(server: subprocess.Popen[bytes]) -> Path:
    """The file a server started by start_server logs to (until stop_server removes it)."""
    return _logs[server.pid]


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def bench_token(*scopes: str, bank_id: str | None = None) -> str:
    """A bearer token the benchmark server accepts (a bank's when bank_id is given)."""
    settings = Settings(environment="test", jwt_secret=SecretStr(SECRET))
    token, _ = issue_token(subject="bench", scopes=scopes, bank_id=bank_id, settings=settings)
    return token


def start_server(
    port: int, *, uvicorn_http: str | None = None, **env_settings: str
) -> subprocess.Popen[bytes]:
    """The service as deployed (`policy-match serve`: one uvicorn worker, JSON logs at INFO:
    an access line and a decision line per match), its log written to a file as a log
    collector would read it (stop_server says how much). POLICY_MATCH_* settings as keywords.
    `uvicorn_http` ("httptools" or "h11") runs uvicorn's own command with that protocol
    instead, logging the same way, for comparison (without serve's cap on request heads).
    """
    env = {**os.environ, "POLICY_MATCH_JWT_SECRET": SECRET, "POLICY_MATCH_ENVIRONMENT": "test"}
    env.update({f"POLICY_MATCH_{k.upper()}": v for k, v in env_settings.items()})
    address = ["--host", "127.0.0.1", "--port", str(port)]
    command = [sys.executable, "-m", "service.cli", "serve", *address, "--no-migrate"]
    if uvicorn_http:
        command = [sys.executable, "-m", "uvicorn", "service.main:app", *address]
        command += ["--http", uvicorn_http, "--no-access-log", "--log-config", str(LOG_CONFIG)]
    with tempfile.NamedTemporaryFile(
        prefix="policy-match-bench-", suffix=".log", delete=False
    ) as log:
        server = subprocess.Popen(
            command,
            env=env,
            stdout=log,
            stderr=subprocess.DEVNULL,  # the catalogue check's one-line report
        )
    _logs[server.pid] = Path(log.name)
    for _ in range(100):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("the server did not become ready")


# wrk prints times with these units (its format_time): microseconds up to hours
_MILLISECONDS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
_PERCENTILE = re.compile(r"^\s*(\d+(?:\.\d+)?)%\s+([\d.]+)(us|ms|s|m|h)\s*$", re.MULTILINE)
_SOCKET_ERRORS = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")


def parse_wrk(out: str) -> dict[str, float]:
    """wrk's report (run with --latency) as numbers.

    Keys: rps; requests; p50, p75, p90 and p99 in ms (from the "Latency Distribution" block,
    NaN if wrk printed none); errors, the sum of non2xx (responses wrk counts as errors: status
    400 and above) and the socket errors connect, read, write and timeout, each also given.
    """
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if rps is None:
        raise ValueError(f"not a wrk report:\n{out}")
    run: dict[str, float] = {"rps": float(rps.group(1))}
    requests = re.search(r"(\d+) requests in ", out)
    run["requests"] = float(requests.group(1)) if requests else 0.0
    _, marker, block = out.partition("Latency Distribution")
    percentiles: dict[str, float] = {}
    if marker:
        for line in block.splitlines()[1:]:
            found = _PERCENTILE.match(line)
            if found is None:
                break  # the block ends where its "NN%  time" lines do
            point, value, unit = found.groups()
            percentiles[point] = float(value) * _MILLISECONDS[unit]
    for point in ("50", "75", "90", "99"):
        run[f"p{point}"] = percentiles.get(point, math.nan)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    run["non2xx"] = float(non2xx.group(1)) if non2xx else 0.0
    socket_errors = _SOCKET_ERRORS.search(out)
    counts = [int(n) for n in socket_errors.groups()] if socket_errors else [0, 0, 0, 0]
    for name, count in zip(("connect", "read", "write", "timeout"), counts, strict=True):
        run[name] = float(count)
    run["errors"] = run["non2xx"] + sum(counts)
    return run


def wrk(url: str, seconds: int, connections: int, script: Path | None) -> dict[str, float]:
    """Run wrk once (one thread, --latency); parse_wrk's numbers: req/s, p50/p99 ms, errors."""
    # a request unanswered after 10 s (a platform client's patience) counts as a timeout error
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "--latency"]
    command.append(url)
    if script:
        command += ["-s", str(script)]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return parse_wrk(out)


Run = dict[str, float]


def load_arguments(connections: int, **more: int) -> argparse.Namespace:
    """--seconds, --rounds and --connections (and --NAME for each of `more`, whole numbers
    with those defaults), and wrk installed."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=connections)
    for name, default in more.items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=int, default=default)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk")
    return args


def side_by_side(
    args: argparse.Namespace, loads: dict[str, tuple[str, Path | None]]
) -> dict[str, list[Run]]:
    """wrk on each (url, script) in turn, round after round, after a warm-up on the first."""
    first_url, first_script = next(iter(loads.values()))
    wrk(first_url, 2, args.connections, first_script)
    results: dict[str, list[Run]] = {name: [] for name in loads}
    for _ in range(args.rounds):
        for name, (url, script) in loads.items():
            results[name].append(wrk(url, args.seconds, args.connections, script))
    return results


def report(results: dict[str, list[Run]]) -> dict[str, float]:
    """Print every round (req/s, p50, p99, errors and their kinds); each load's median req/s."""
    print(
        f"{'endpoint':18s} {'req/s':>9s} {'p50 ms':>8s} {'p99 ms':>8s} {'errors':>7s}  "
        "(non-2xx; socket connect/read/write/timeout)"
    )
    median = {}
    for name, runs in results.items():
        for run in runs:
            print(
                f"{name:18s} {run['rps']:9.0f} {run['p50']:8.2f} {run['p99']:8.2f} "
                f"{run['errors']:7.0f}  ({run['non2xx']:.0f}; {run['connect']:.0f}/"
                f"{run['read']:.0f}/{run['write']:.0f}/{run['timeout']:.0f})"
            )
        median[name] = sorted(r["rps"] for r in runs)[len(runs) // 2]
    return median
