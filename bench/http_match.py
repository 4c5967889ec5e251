"""Over HTTP, one uvicorn worker: POST /v1/match throughput against a trivial GET, side by side.

Run: .venv/bin/python -m bench.http_match [--seconds 10] [--rounds 3] [--connections 32]
The issue's load test (64 connections, 60 s each, one round):
     .venv/bin/python -m bench.http_match --connections 64 --seconds 60 --rounds 1
Needs `wrk` (Debian: apt-get install wrk). Starts its own server (one uvicorn worker) on a free
loopback port, and in each round runs wrk (one thread, --latency) on GET /healthz and then on
POST /v1/match (the full example profile, with a bearer token), after a 2 s warm-up. Prints each
run's requests per second, p50 and p99 latency (wrk's "Latency Distribution") and its errors
(non-2xx/3xx answers and socket errors: connect, read, write, timeout), then the median rounds
and the ratio match/GET. The target (ratio >= 0.5) passes only with zero errors.

The server runs with POLICY_MATCH_RATE_LIMIT_MATCH and POLICY_MATCH_RATE_LIMIT_BANK_QUERY set to
"100000000/minute" (bench.common.UNLIMITED_RATES): the per-caller rate limiter is in the path of
every POST /v1/match, as in production, but never refuses the benchmark's one caller.
"""

import json
import tempfile
from pathlib import Path

import httpx

from bench.common import (
    UNLIMITED_RATES,
    bench_token,
    free_port,
    load_arguments,
    report,
    side_by_side,
    start_server,
    stop_server,
)
from service.core.migrate import upgrade_database
from service.policy.examples import FULL_PROFILE


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
        server = start_server(port, database_url=url, **UNLIMITED_RATES)
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
            logged, lines = stop_server(server)
    best = report(results)
    answered = sum(run["requests"] for runs in results.values() for run in runs)
    print(
        f"the service logged {logged / 1e6:.0f} MB in {lines:,} JSON lines for the "
        f"{answered:,.0f} measured requests and the warm-ups (an access line each, and a "
        "decision line per match)"
    )
    match_rps, get_rps = best["POST /v1/match"], best["GET /healthz"]
    ratio = match_rps / get_rps
    errors = {name: sum(run["errors"] for run in runs) for name, runs in results.items()}
    clean = not any(errors.values())
    print(
        f"median of {args.rounds} round(s), {args.connections} connections, {args.seconds} s "
        f"each: match {match_rps:.0f} req/s ({errors['POST /v1/match']:.0f} errors), trivial GET "
        f"{get_rps:.0f} req/s ({errors['GET /healthz']:.0f} errors); ratio {ratio:.2f} "
        f"(target >= 0.50 with zero errors: {'PASS' if ratio >= 0.5 and clean else 'FAIL'})"
    )


if __name__ == "__main__":
    main()
