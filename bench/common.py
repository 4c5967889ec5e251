"""What the HTTP benchmarks share: a server on a free loopback port, wrk, and a token."""

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from pydantic import SecretStr

from service.auth import issue_token
from service.config import Settings

SECRET = "bench-secret-not-for-production-0001"


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def bench_token(*scopes: str) -> str:
    """A bearer token the benchmark server accepts."""
    settings = Settings(environment="test", jwt_secret=SecretStr(SECRET))
    token, _ = issue_token(subject="bench", scopes=scopes, bank_id=None, settings=settings)
    return token


def start_server(port: int, **env_settings: str) -> subprocess.Popen[bytes]:
    """uvicorn with one worker, serving the service (POLICY_MATCH_* settings as keywords)."""
    env = {**os.environ, "POLICY_MATCH_JWT_SECRET": SECRET, "POLICY_MATCH_ENVIRONMENT": "test"}
    env.update({f"POLICY_MATCH_{k.upper()}": v for k, v in env_settings.items()})
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "service.main:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env=env,
    )
    for _ in range(100):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("the server did not become ready")


def wrk(url: str, seconds: int, connections: int, script: Path | None) -> dict[str, float]:
    """Run wrk once; requests per second, p50 and p99 latency in ms, and errors."""
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    if script:
        command += ["-s", str(script)]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]

    def percentile(p: str) -> float:
        value, unit = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    failed = int(errors.group(1)) if errors else 0
    failed += sum(int(n) for n in socket_errors.groups()) if socket_errors else 0
    return {"rps": rps, "p50": percentile("50"), "p99": percentile("99"), "errors": failed}


Run = dict[str, float]


def load_arguments(connections: int) -> argparse.Namespace:
    """--seconds, --rounds and --connections, and wrk installed."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=connections)
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
    """Print every round; the median requests per second of each load."""
    print(f"{'endpoint':18s} {'req/s':>9s} {'p50 ms':>8s} {'p99 ms':>8s} {'errors':>7s}")
    median = {}
    for name, runs in results.items():
        for run in runs:
            print(
                f"{name:18s} {run['rps']:9.0f} {run['p50']:8.2f} {run['p99']:8.2f} "
                f"{run['errors']:7.0f}"
            )
        median[name] = sorted(r["rps"] for r in runs)[len(runs) // 2]
    return median
