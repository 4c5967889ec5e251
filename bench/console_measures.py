"""The console's measure pages on 100,000 stored firms, SQLite and PostgreSQL, side by side.

Run: .venv/bin/python -m bench.console_measures [--count N] [--reuse] [--runs N]
Loads the bank query's synthetic firms (bench/bank_query.py: about 1% deleted) into the
PostgreSQL database `policy_match_bench_measures` and into a SQLite file under build/ (with
--reuse, kept when they already hold --count firms), then measures in one run, alternating:
- the baseline: `SELECT count(*)` of the live firms, the least any count over the table costs;
- the count of one measure's matching firms made afresh (registry/measure_count.py), the cost
  of the first view of a measure after the registry changed;
- GET /console/measures/{id} over HTTP from the service as deployed, the count kept (the
  registry unchanged since the page was first shown): target at most 100 ms;
- GET /console/measures (every measure listed) and with two filters.
Each figure is given beside the baseline as a ratio.
"""

import argparse
import statistics
from collections.abc import Callable
from pathlib import Path

import httpx
from sqlalchemy import func, insert, select

from bench.bank_query import COPY_COLUMNS, DAY, _rows, prepare, time_ms
from bench.common import UNLIMITED_RATES, free_port, start_server, stop_server
from service.core.database import make_engine
from service.core.migrate import upgrade_database
from service.core.settings import PROJECT_ROOT
from service.core.tables import ENTERPRISE
from service.policy.catalogue import Catalogue, load_catalogue
from service.registry.measure_count import count_matching

DATABASE = "policy_match_bench_measures"
SQLITE_FILE = PROJECT_ROOT / "build" / "bench_console_measures.db"
MEASURE = "loan-interest-subsidy"
TARGET_MS = 100


def sqlite_database(catalogue: Catalogue, count: int, reuse: bool, path: Path) -> str:
    """A SQLite file holding the same `count` firms as the PostgreSQL one."""
    url = f"sqlite:///{path}"
    if reuse and path.exists():
        engine = make_engine(url)
        with engine.connect() as connection:
            stored = connection.execute(select(func.count()).select_from(ENTERPRISE)).scalar()
        engine.dispose()
        if stored == count:
            print(f"reusing {path}: {stored:,} firms")
            return url
    path.parent.mkdir(parents=True, exist_ok=True)
    for leftover in path.parent.glob(path.name + "*"):
        leftover.unlink()
    upgrade_database(url)
    engine = make_engine(url)
    with engine.begin() as connection:
        batch = []
        for row, _ in _rows(catalogue, count, seed=2024):
            batch.append(dict(zip(COPY_COLUMNS, row, strict=True)))
            if len(batch) == 5000:
                connection.execute(insert(ENTERPRISE), batch)
                batch = []
        if batch:
            connection.execute(insert(ENTERPRISE), batch)
    with engine.begin() as connection:
        connection.exec_driver_sql("ANALYZE")
    engine.dispose()
    print(f"loaded {count:,} firms into {path}")
    return url


def measure_backend(catalogue: Catalogue, name: str, url: str, runs: int) -> dict[str, float]:
    """The medians of one backend, in milliseconds."""
    engine = make_engine(url)
    measure = catalogue.by_id[MEASURE]

    def baseline() -> None:
        with engine.connect() as connection:
            query = select(func.count()).select_from(ENTERPRISE)
            connection.execute(query.where(ENTERPRISE.c.deleted_at.is_(None))).scalar()

    def fresh_count() -> None:
        with engine.connect() as connection:
            count_matching(connection, catalogue, measure, DAY)

    port = free_port()
    server = start_server(port, database_url=url, push_worker_in_process="false", **UNLIMITED_RATES)
    base = f"http://127.0.0.1:{port}/console/measures"
    steps: dict[str, Callable[[], object]] = {}
    try:
        with httpx.Client(timeout=30) as http:

            def page(path: str) -> Callable[[], None]:
                def get() -> None:
                    answer = http.get(base + path)
                    assert answer.status_code == 200, answer.text[:300]

                return get

            steps = {
                "count(*)": baseline,
                "fresh count": fresh_count,
                "measure page": page(f"/{MEASURE}"),
                "list": page(""),
                "list, 2 filters": page("?kind=loan_interest_subsidy&q=贷款"),
            }
            figures: dict[str, list[float]] = {label: [] for label in steps}
            for _ in range(runs):  # alternating, so that the machine's load falls on each alike
                for label, step in steps.items():
                    figures[label] += time_ms(step, 1)
    finally:
        stop_server(server)
        engine.dispose()
    medians = {label: statistics.median(times) for label, times in figures.items()}
    floor = medians["count(*)"]
    print(f"\n{name}: medians of {runs} runs (ratio to count(*) of the live firms)")
    for label, ms in medians.items():
        print(f"  {label:16} {ms:8.1f} ms   {ms / floor:5.2f}")
    verdict = "within" if medians["measure page"] <= TARGET_MS else "OVER"
    print(f"  measure page {verdict} the {TARGET_MS} ms target")
    return medians


def main() -> None:
    """Prepare both databases, measure each, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--reuse", action="store_true", help="keep loaded bench databases")
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    catalogue = load_catalogue(PROJECT_ROOT / "policies")
    urls = {
        "SQLite": sqlite_database(catalogue, args.count, args.reuse, SQLITE_FILE),
        "PostgreSQL": prepare(catalogue, args.count, args.reuse, DATABASE),
    }
    for name, url in urls.items():
        measure_backend(catalogue, name, url, args.runs)


if __name__ == "__main__":
    main()
