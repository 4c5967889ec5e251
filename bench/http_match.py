"""Over HTTP, one uvicorn worker: POST /v1/match throughput against a trivial GET, side by side.

Run: .venv/bin/python bench/http_match.py [--seconds 10] [--rounds 3] [--connections 32]
Needs `wrk` (Debian: apt-get install wrk). Starts its own server on a free loopback port,
alternates GET /healthz and POST /v1/match (the full example profile, with a bearer token) for
each round, and prints requests per second, latency and the ratio of the two.
"""

import argparse
import json
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

from service.auth import issue_token
from service.config import Settings
from service.examples import FULL_PROFILE

SECRET = "bench-secret-not-for-production-0001"


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start_server(port: int) -> subprocess.Popen[bytes]:
    """uvicorn with one worker, serving the service."""
    env = {**os.environ, "POLICY_MATCH_JWT_SECRET": SECRET, "POLICY_MATCH_ENVIRONMENT": "test"}
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


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk")
    settings = Settings(environment="test", jwt_secret=SecretStr(SECRET))
    token, _ = issue_token(subject="bench", scopes=["match"], bank_id=None, settings=settings)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "post.lua"
        script.write_text(
            'wrk.method = "POST"\n'
            f"wrk.body = [==[{json.dumps(FULL_PROFILE, ensure_ascii=False)}]==]\n"
            'wrk.headers["Content-Type"] = "application/json"\n'
            f'wrk.headers["Authorization"] = "Bearer {token}"\n',
            encoding="utf-8",
        )
        server = start_server(port)
        try:
            check = httpx.post(
                f"{base}/v1/match", json=FULL_PROFILE, headers={"Authorization": f"Bearer {token}"}
            )
            assert check.status_code == 200, check.text
            print(
                f"POST /v1/match answer: {len(check.content)} bytes, "
                f"{len(check.json()['matched'])} matched, "
                f"{len(check.json()['near_misses'])} near misses"
            )
            results: dict[str, list[dict[str, float]]] = {"GET /healthz": [], "POST /v1/match": []}
            wrk(f"{base}/healthz", 2, args.connections, None)  # warm-up
            for _ in range(args.rounds):
                results["GET /healthz"].append(
                    wrk(f"{base}/healthz", args.seconds, args.connections, None)
                )
                results["POST /v1/match"].append(
                    wrk(f"{base}/v1/match", args.seconds, args.connections, script)
                )
        finally:
            server.terminate()
            server.wait(timeout=10)
    print(f"{'endpoint':18s} {'req/s':>9s} {'p50 ms':>8s} {'p99 ms':>8s} {'errors':>7s}")
    best = {}
    for name, runs in results.items():
        for run in runs:
            print(
                f"{name:18s} {run['rps']:9.0f} {run['p50']:8.2f} {run['p99']:8.2f} "
                f"{run['errors']:7.0f}"
            )
        best[name] = sorted(r["rps"] for r in runs)[len(runs) // 2]
    ratio = best["POST /v1/match"] / best["GET /healthz"]
    print(
        f"median rounds: match {best['POST /v1/match']:.0f} req/s, trivial GET "
        f"{best['GET /healthz']:.0f} req/s; ratio {ratio:.2f} (target >= 0.50: "
        f"{'PASS' if ratio >= 0.5 else 'FAIL'})"
    )


if __name__ == "__main__":
    main()
