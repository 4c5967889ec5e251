"""Over HTTP, one uvicorn worker: POST /v1/match throughput against a trivial GET, side by side.

Run: .venv/bin/python -m bench.http_match [--seconds 10] [--rounds 3] [--connections 32]
Needs `wrk` (Debian: apt-get install wrk). Starts its own server on a free loopback port,
alternates GET /healthz and POST /v1/match (the full example profile, with a bearer token) for
each round, and prints requests per second, latency and the ratio of the two.
"""

import json
import tempfile
from pathlib import Path

import httpx

from bench.common import bench_token, free_port, load_arguments, report, side_by_side, start_server
from service.examples import FULL_PROFILE
from service.migrate import upgrade_database


def main() -> None:
    """Measure and print."""
    args = load_arguments(connections=32)
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
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        upgrade_database(url)  # /readyz, which start_server waits for, wants it migrated
        server = start_server(port, database_url=url)
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
            results = side_by_side(
                args,
                {
                    "GET /healthz": (f"{base}/healthz", None),
                    "POST /v1/match": (f"{base}/v1/match", script),
                },
            )
        finally:
            server.terminate()
            server.wait(timeout=10)
    best = report(results)
    ratio = best["POST /v1/match"] / best["GET /healthz"]
    print(
        f"median rounds: match {best['POST /v1/match']:.0f} req/s, trivial GET "
        f"{best['GET /healthz']:.0f} req/s; ratio {ratio:.2f} (target >= 0.50: "
        f"{'PASS' if ratio >= 0.5 else 'FAIL'})"
    )


if __name__ == "__main__":
    main()
