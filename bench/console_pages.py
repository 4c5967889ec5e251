"""Every console page rendered on the server with 100,000 stored firms (SQLite), beside /healthz.

Run: .venv/bin/python -m bench.console_pages [--count N] [--runs N] [--reuse PATH]
Stores `count` synthetic firms in a SQLite database of its own (the bank query's generator,
bench/bank_query.py, written with executemany: the typed columns, the profile and one version
each, their times spread over the plan's years from 2024-03 so that the progress page's quarters
have history to count; about 1% deleted), then times in-process (the ASGI application through
httpx, no network) GET of /console/, every page of service.console.pages.NAV, one measure's page
and the progress CSV, alternating with GET /healthz as the baseline, and prints the median of
`runs` calls of each against the issue's bound (100 ms) and as a ratio to /healthz.
The admin pages are asked for with a signed session holding every scope. A page that answers 404
is not merged yet: it is skipped, and the output says so. The progress page's first render (its
past quarters counted, then remembered) is timed on its own, and so is today's count, which a
render adds once after any store or deletion.
"""

import argparse
import asyncio
import itertools
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
from itsdangerous import URLSafeTimedSerializer
from pydantic import SecretStr

from bench.bank_query import COPY_COLUMNS, FACT_NAMES, columns_of, document_of, synthetic_firm
from service.api.clients import Scope
from service.console.pages import NAV
from service.console.session import SESSION_COOKIE, session_key
from service.core.clock import today
from service.core.database import make_engine
from service.core.migrate import upgrade_database
from service.core.settings import PROJECT_ROOT, Settings
from service.main import create_app
from service.policy.catalogue import Catalogue, load_catalogue
from service.registry.progress import plan_progress

BOUND_MS = 100
HISTORY_START = datetime(2024, 3, 1, tzinfo=UTC)
SETTINGS = Settings(
    environment="test",
    jwt_secret=SecretStr("bench-secret-not-for-production-0001"),
    push_worker_in_process=False,
    log_json=False,
)


def _moment(value: datetime) -> str:
    """A time as SQLAlchemy keeps it in SQLite (UTC, no zone)."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _rows(catalogue: Catalogue, count: int, seed: int) -> Iterator[tuple[tuple[Any, ...], ...]]:
    """Per firm: its enterprise row (COPY_COLUMNS), then its version rows."""
    rng = random.Random(seed)
    counties = tuple(catalogue.vocabularies.codes("counties"))
    span = (datetime.now(UTC) - HISTORY_START).total_seconds()
    for n in range(count):
        values = synthetic_firm(rng, n, counties, catalogue.vocabularies)
        columns = columns_of(values)
        written = HISTORY_START + timedelta(seconds=rng.random() * span)
        deleted = written + (datetime.now(UTC) - written) * rng.random()
        gone = rng.random() < 0.01
        document = orjson.dumps(document_of(values)).decode()
        firm = (
            values["uscc"],
            values["name"],
            document,
            2 if gone else 1,
            "[]",
            catalogue.version,
            written.date().isoformat(),
            True,
            _moment(written),
            _moment(deleted if gone else written),
            "bench",
            _moment(deleted) if gone else None,
            *(columns[name] for name in FACT_NAMES),
        )
        first = (values["uscc"], 1, "created", document, "bench", _moment(written))
        versions = [first]
        if gone:
            versions.append((values["uscc"], 2, "deleted", "null", "bench", _moment(deleted)))
        yield firm, *versions


def store_firms(path: Path, catalogue: Catalogue, count: int) -> None:
    """A migrated SQLite database at `path` holding `count` synthetic firms and their history."""
    url = f"sqlite:///{path}"
    upgrade_database(url)
    started = time.perf_counter()
    firm_sql = (
        f"INSERT INTO enterprise ({', '.join(COPY_COLUMNS)}) "
        f"VALUES ({', '.join('?' for _ in COPY_COLUMNS)})"
    )
    version_sql = (
        "INSERT INTO enterprise_version (uscc, version, action, profile, changed_by, changed_at) "
        "VALUES (?, ?, ?, ?, ?, ?)"
    )
    with sqlite3.connect(path) as connection:
        rows = _rows(catalogue, count, seed=2024)
        while batch := list(itertools.islice(rows, 10_000)):
            connection.executemany(firm_sql, [firm for firm, *_ in batch])
            connection.executemany(version_sql, [v for _, *versions in batch for v in versions])
        connection.execute("ANALYZE")
    print(f"stored {count:,} firms in {time.perf_counter() - started:.0f} s ({path})")


def session_cookie(settings: Settings) -> str:
    """A signed console session holding every scope, as the sign-in page would set it."""
    serializer = URLSafeTimedSerializer(session_key(settings), salt="console-session")
    data = {
        "sub": "bench",
        "scopes": sorted(s.value for s in Scope),
        "exp": time.time() + 3600,
        "csrf": "bench-csrf",
        "bank_id": None,
    }
    return serializer.dumps(data)


async def measure(url: str, catalogue: Catalogue, runs: int) -> dict[str, Any]:
    """The pages' medians (ms), which were skipped (404), and the progress page's first render."""
    app = create_app(SETTINGS.model_copy(update={"database_url": url}))
    measure_id = catalogue.measures[0].measure_id
    pages = ["/console/", *(item.path for item in NAV), f"/console/measures/{measure_id}"]
    # every firm here is synthetic: counting them too is the worst case
    pages += ["/console/progress?include_synthetic=true", "/console/progress.csv"]
    cookies = {SESSION_COOKIE: session_cookie(SETTINGS)}
    figures: dict[str, list[float]] = {}
    skipped: list[str] = []
    statuses: dict[str, int] = {}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://bench", cookies=cookies
        ) as client:

            async def timed(path: str) -> tuple[float, int]:
                start = time.perf_counter()
                answer = await client.get(path, headers={"Accept-Language": "zh-Hans"})
                await answer.aread()
                return (time.perf_counter() - start) * 1000, answer.status_code

            first_progress, _ = await timed("/console/progress?include_synthetic=true")
            for path in pages:
                _, status = await timed(path)  # warm: templates compiled, queries planned
                statuses[path] = status
                if status == 404:
                    skipped.append(path)
            measured = ["/healthz", *(p for p in pages if p not in skipped)]
            figures = {path: [] for path in measured}
            for _ in range(runs):
                for path in measured:
                    elapsed, status = await timed(path)
                    statuses[path] = status
                    figures[path].append(elapsed)
    medians = {path: statistics.median(times) for path, times in figures.items()}
    # what a render costs on top after any store or deletion: today's count again
    engine = make_engine(url)
    recount = []
    with engine.connect() as connection:
        for _ in range(3):
            start = time.perf_counter()
            plan_progress(connection, catalogue, today(), county=None, include_synthetic=True)
            recount.append((time.perf_counter() - start) * 1000)
    engine.dispose()
    return {
        "recount": statistics.median(recount),
        "medians": medians,
        "skipped": skipped,
        "statuses": statuses,
        "first_progress": first_progress,
    }


def main() -> None:
    """Store the firms (or reuse a database), time the pages, print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--reuse", type=Path, help="a database a previous run stored (kept)")
    args = parser.parse_args()
    catalogue = load_catalogue(PROJECT_ROOT / "policies")
    folder = tempfile.mkdtemp(prefix="policy-match-console-bench-")
    path = args.reuse or Path(folder) / "console.db"
    if not args.reuse:
        store_firms(path, catalogue, args.count)
    result = asyncio.run(measure(f"sqlite:///{path}", catalogue, args.runs))
    medians, statuses = result["medians"], result["statuses"]
    base = medians["/healthz"]
    print(f"{args.count:,} stored firms on SQLite, median of {args.runs} in-process GETs each")
    print(f"{'page':48s} {'status':>6s} {'median':>10s} {'× healthz':>10s}  bound {BOUND_MS} ms")
    for path, median in medians.items():
        verdict = "" if path == "/healthz" else ("PASS" if median <= BOUND_MS else "FAIL")
        print(f"{path:48s} {statuses[path]:6d} {median:8.1f} ms {median / base:10.1f}  {verdict}")
    for path in result["skipped"]:
        print(f"{path:48s}    404  skipped: not merged yet")
    print(
        f"today's count again (plan_progress, all synthetic firms), what a render adds after a "
        f"firm is stored or deleted: {result['recount']:.0f} ms"
    )
    print(
        f"/console/progress, first render (past quarters counted, then remembered): "
        f"{result['first_progress']:.0f} ms"
    )


if __name__ == "__main__":
    main()
