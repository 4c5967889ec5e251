"""Over HTTP on SQLite, one uvicorn worker: PUT /v1/enterprises/{uscc} with its re-match.

Run: .venv/bin/python -m bench.store_http [--seconds 10] [--rounds 3] [--connections 16]
With `--subscriptions N`, N push subscriptions (to a host that does not resolve, each with room
for every delivery, so the store writes a delivery per event and subscription and counts them;
no worker runs) are made first: the store path with the outbox's fan-out and its capacity
bookkeeping.
Needs `wrk`. Migrates a fresh SQLite file, starts the service on it, and has wrk PUT synthetic
profiles: every firm in turn, then each again with a change, and so on, so that each PUT stores
a new version (after the first pass, an update) and recomputes the firm's matches. A trivial
GET /healthz runs in the same rounds for scale. Afterwards it checks that every acknowledged
write is in the history: nothing lost.
"""

import json
import tempfile
from pathlib import Path

from sqlalchemy import func, select

from bench.common import (
    bench_token,
    free_port,
    load_arguments,
    report,
    side_by_side,
    start_server,
    stop_server,
)
from service.core.database import make_engine, write_transaction
from service.core.migrate import upgrade_database
from service.core.settings import Settings
from service.core.tables import DELIVERY, ENTERPRISE, VERSION
from service.push.capacity import set_max_pending
from service.push.subscriptions import create_subscription
from service.registry.demo import synthetic_profiles

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


def subscribe(url: str, count: int, room: int = 10_000_000) -> None:
    """`count` subscriptions to every event, each with room for `room` pending deliveries."""
    engine = make_engine(url)
    with write_transaction(engine) as connection:
        for n in range(count):
            made, _ = create_subscription(
                connection,
                Settings(),
                url=f"https://hook-{n}.platform.invalid/h",
                counties=None,
                kinds=None,
                description="bench",
                created_by="bench",
            )
            set_max_pending(connection, made.id, room)
    engine.dispose()


def main() -> None:
    """Measure and print."""
    args = load_arguments(connections=16, subscriptions=0)
    token = bench_token("enterprises:write", "enterprises:read")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        upgrade_database(url)
        subscribe(url, args.subscriptions)
        script = Path(folder) / "put.lua"
        script.write_text(lua_script(token), encoding="utf-8")
        server = start_server(port, database_url=url, push_worker_in_process="false")
        try:
            results = side_by_side(
                args, {"GET /healthz": (f"{base}/healthz", None), "PUT enterprise": (base, script)}
            )
        finally:
            stop_server(server)
        engine = make_engine(url)
        with engine.connect() as connection:
            versions = connection.execute(select(func.count()).select_from(VERSION)).scalar_one()
            deliveries = connection.execute(select(func.count()).select_from(DELIVERY)).scalar_one()
            firms = connection.execute(select(func.count()).select_from(ENTERPRISE)).scalar_one()
        engine.dispose()
    best = report(results)
    puts = sum(r["rps"] * args.seconds for r in results["PUT enterprise"])
    errors = sum(r["errors"] for r in results["PUT enterprise"])
    print(
        f"{firms} firms stored; history holds {versions} versions for about {puts:.0f} PUTs "
        f"answered ({errors:.0f} errors; a PUT repeating the stored profile adds no version); "
        f"{args.subscriptions} subscriptions, {deliveries} deliveries written"
    )
    rate = best["PUT enterprise"]
    print(
        f"median rounds: store + re-match {rate:.0f} PUT/s, trivial GET "
        f"{best['GET /healthz']:.0f} req/s; ratio {rate / best['GET /healthz']:.2f}; "
        f"target >= 500 PUT/s: {'PASS' if rate >= 500 and errors == 0 else 'FAIL'}"
    )


if __name__ == "__main__":
    main()
