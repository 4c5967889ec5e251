"""Over HTTP on SQLite, one uvicorn worker: PUT /v1/enterprises/{uscc} with its re-match.

Run: .venv/bin/python -m bench.store_http [--seconds 10] [--rounds 3] [--connections 16]
Needs `wrk`. Migrates a fresh SQLite file, starts the service on it, and has wrk PUT synthetic
profiles: every firm in turn, then each again with a change, and so on, so that each PUT stores
a new version (after the first pass, an update) and recomputes the firm's matches. A trivial
GET /healthz runs in the same rounds for scale. Afterwards it checks that every acknowledged
write is in the history: nothing lost.
"""

import argparse
import json
import shutil
import tempfile
from pathlib import Path

from sqlalchemy import func, select

from bench.common import bench_token, free_port, start_server, wrk
from service.db import make_engine
from service.demo import synthetic_profiles
from service.migrate import upgrade_database
from service.registry import ENTERPRISE, VERSION

FIRMS = 3000
VARIANTS = 4  # each firm is PUT with this many different employee counts, in turn


def lua_script(token: str) -> str:
    """A wrk script cycling through PUTs of FIRMS firms × VARIANTS changes."""
    paths, bodies = [], []
    profiles = synthetic_profiles(FIRMS, seed=99)
    for variant in range(VARIANTS):
        for profile in profiles:
            body = profile.model_dump(mode="json", exclude_unset=True)
            body["employees"] = (body.get("employees") or 0) + variant
            paths.append(f'"/v1/enterprises/{profile.uscc}"')
            bodies.append("[==[" + json.dumps(body, ensure_ascii=False) + "]==]")
    return (
        'wrk.method = "PUT"\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
        f'wrk.headers["Authorization"] = "Bearer {token}"\n'
        f"local paths = {{{','.join(paths)}}}\n"
        f"local bodies = {{{','.join(bodies)}}}\n"
        "local i = 0\n"
        "request = function()\n"
        "  i = i % #paths + 1\n"
        '  return wrk.format("PUT", paths[i], nil, bodies[i])\n'
        "end\n"
    )


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk")
    token = bench_token("enterprises:write", "enterprises:read")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        upgrade_database(url)
        script = Path(folder) / "put.lua"
        script.write_text(lua_script(token), encoding="utf-8")
        server = start_server(port, database_url=url)
        results: dict[str, list[dict[str, float]]] = {"GET /healthz": [], "PUT enterprise": []}
        try:
            wrk(f"{base}/healthz", 2, args.connections, None)  # warm-up
            for _ in range(args.rounds):
                results["GET /healthz"].append(
                    wrk(f"{base}/healthz", args.seconds, args.connections, None)
                )
                results["PUT enterprise"].append(
                    wrk(base, args.seconds, args.connections, script)
                )
        finally:
            server.terminate()
            server.wait(timeout=10)
        engine = make_engine(url)
        with engine.connect() as connection:
            versions = connection.execute(select(func.count()).select_from(VERSION)).scalar_one()
            firms = connection.execute(select(func.count()).select_from(ENTERPRISE)).scalar_one()
        engine.dispose()
    print(f"{'endpoint':18s} {'req/s':>9s} {'p50 ms':>8s} {'p99 ms':>8s} {'errors':>7s}")
    best = {}
    for name, runs in results.items():
        for run in runs:
            print(
                f"{name:18s} {run['rps']:9.0f} {run['p50']:8.2f} {run['p99']:8.2f} "
                f"{run['errors']:7.0f}"
            )
        best[name] = sorted(r["rps"] for r in runs)[len(runs) // 2]
    puts = sum(r["rps"] * args.seconds for r in results["PUT enterprise"])
    errors = sum(r["errors"] for r in results["PUT enterprise"])
    print(
        f"{firms} firms stored; history holds {versions} versions for about {puts:.0f} PUTs "
        f"answered ({errors:.0f} errors; a PUT repeating the stored profile adds no version)"
    )
    rate = best["PUT enterprise"]
    print(
        f"median rounds: store + re-match {rate:.0f} PUT/s, trivial GET "
        f"{best['GET /healthz']:.0f} req/s; ratio {rate / best['GET /healthz']:.2f}; "
        f"target >= 500 PUT/s: {'PASS' if rate >= 500 and errors == 0 else 'FAIL'}"
    )


if __name__ == "__main__":
    main()
