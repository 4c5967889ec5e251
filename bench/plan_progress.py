"""GET /v1/plan/progress on 1,000,000 stored firms (PostgreSQL), beside a plain count(*).

Run: .venv/bin/python -m bench.plan_progress [--count N] [--reuse] [--runs N] [--explain]
Loads (or with --reuse keeps) its own database `policy_match_bench_progress` with the bank
query's generator (bench/bank_query.py: COPY, about 1% deleted, every row synthetic), then
measures side by side in one run, alternating:
- the baseline: `SELECT count(*) FROM enterprise`, the least any count over the table costs;
- plan_progress(): the one GROUP BY county query that counts every target (in-process);
- GET /v1/plan/progress?include_synthetic=true over HTTP from the service as deployed
  (`policy-match serve`), the answer built and sent; and the same for one county.
Every row is synthetic, so include_synthetic=true counts them all (the worst case). The HTTP
answer must equal the in-process count. Target: the endpoint answers in at most 300 ms.
"""

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import date

import httpx
from sqlalchemy import func, select, text

from bench.bank_query import prepare
from bench.common import UNLIMITED_RATES, bench_token, free_port, start_server, stop_server
from service.core.database import make_engine
from service.core.settings import PROJECT_ROOT
from service.core.tables import ENTERPRISE
from service.policy.catalogue import load_catalogue
from service.registry.progress import plan_progress, progress_query

DATABASE = "policy_match_bench_progress"
DAY = date(2025, 6, 1)
TARGET_MS = 300


def timed(step: Callable[[], object]) -> float:
    """One call's wall time in milliseconds."""
    start = time.perf_counter()
    step()
    return (time.perf_counter() - start) * 1000


def main() -> None:
    """Prepare the database, measure the four side by side, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--reuse", action="store_true", help="keep a loaded bench database")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--explain", action="store_true", help="print the query plan")
    parser.add_argument("--database-name", default=DATABASE)
    args = parser.parse_args()
    catalogue = load_catalogue(PROJECT_ROOT / "policies")
    url = prepare(catalogue, args.count, args.reuse, args.database_name)
    engine = make_engine(url)
    if args.explain:
        query, _ = progress_query(catalogue.targets, DAY, county=None, include_synthetic=True)
        inline = query.compile(engine, compile_kwargs={"literal_binds": True})
        with engine.connect() as connection:
            plan = connection.execute(text(f"EXPLAIN (ANALYZE, BUFFERS) {inline}")).all()
        print("\n".join(line for (line,) in plan))

    def baseline() -> None:
        with engine.connect() as connection:
            connection.execute(select(func.count()).select_from(ENTERPRISE)).scalar()

    def in_process() -> None:
        with engine.connect() as connection:
            plan_progress(connection, catalogue, DAY, county=None, include_synthetic=True)

    port = free_port()
    server = start_server(port, database_url=url, push_worker_in_process="false", **UNLIMITED_RATES)
    headers = {"Authorization": f"Bearer {bench_token('stats:read')}"}
    base = f"http://127.0.0.1:{port}/v1/plan/progress?as_of={DAY}&include_synthetic=true"
    figures: dict[str, list[float]] = {"count(*)": [], "in-process": [], "HTTP": [], "county": []}
    try:
        with httpx.Client(timeout=30) as http:

            def over_http(url: str) -> Callable[[], None]:
                def call() -> None:
                    answer = http.get(url, headers=headers)
                    answer.raise_for_status()

                return call

            steps = {
                "count(*)": baseline,
                "in-process": in_process,
                "HTTP": over_http(base),
                "county": over_http(base + "&county=440781"),
            }
            for step in steps.values():  # warm the cache and the connections
                step()
            for _ in range(args.runs):
                for name, step in steps.items():
                    figures[name].append(timed(step))
            answer = http.get(base, headers=headers).json()
    finally:
        stop_server(server)
    with engine.connect() as connection:
        counted = plan_progress(connection, catalogue, DAY, county=None, include_synthetic=True)
    engine.dispose()
    for item in answer["items"]:
        if item["counted"]:
            assert item["total"]["count"] == counted.total(item["id"]).count, item["id"]

    medians = {name: statistics.median(times) for name, times in figures.items()}
    p95 = {name: statistics.quantiles(times, n=20)[-1] for name, times in figures.items()}
    for name in figures:
        print(f"{name:12s} median {medians[name]:8.1f} ms   p95 {p95[name]:8.1f} ms")
    ratio = medians["HTTP"] / medians["count(*)"]
    verdict = "PASS" if medians["HTTP"] <= TARGET_MS else "FAIL"
    print(
        f"| plan progress: `GET /v1/plan/progress?include_synthetic=true` over {args.count:,} "
        f"stored firms on PostgreSQL ({len([i for i in answer['items'] if i['counted']])} "
        f"targets counted by county), {args.runs} runs alternating with a plain "
        f"`SELECT count(*)` (target ≤ {TARGET_MS} ms) | HTTP **{medians['HTTP']:.0f} ms** median "
        f"(p95 {p95['HTTP']:.0f}), the query in-process {medians['in-process']:.0f} ms, one "
        f"county {medians['county']:.0f} ms; count(*) {medians['count(*)']:.0f} ms: "
        f"**ratio {ratio:.1f}** {verdict} | `.venv/bin/python -m bench.plan_progress` |"
    )


if __name__ == "__main__":
    main()
