"""Over HTTP, one uvicorn worker: POST /v1/match throughput against a trivial GET, side by side.

Run: .venv/bin/python -m bench.http_match [--seconds 10] [--rounds 3] [--connections 32]
Needs `wrk` (Debian: apt-get install wrk). Starts its own server on a free loopback port,
alternates GET /healthz and POST /v1/match (the full example profile, with a bearer token) for
each round, and prints requests per second, latency and the ratio of the two.
"""

import argparse
import json
import shutil
import tempfile
from pathlib import Path

import httpx

from bench.common import bench_token, free_port, start_server, wrk
from service.examples import FULL_PROFILE


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk")
    token = bench_token("match")
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
