"""The bank's spreadsheet export over HTTP: 100,000 eligible consenting firms as CSV, and memory.

Run: .venv/bin/python -m bench.export_csv [--count 100000] [--small 10000] [--database URL]

Loads `--count` synthetic firms, every one eligible for `loan-interest-subsidy` today (a
provincial tier valid for a year, a bank loan), into a fresh SQLite file (or the PostgreSQL
database given, which must hold no firms): the first `--small` consent to bank `bench-small`,
all of them to `bench-large`. Then starts the service (bench.common.start_server: one uvicorn
worker, its own process; the push worker off, the rate limits out of reach) and, in one run,
side by side:

1. the CSV export for `bench-small` (`--small` rows), then for `bench-large` (`--count` rows):
   time to the first byte, total time, rows read, and how far the server's resident memory
   rose above what it was before the request (VmRSS sampled every 10 ms from /proc);
2. the same `--count` firms through the JSON pages (500 a page, following next_cursor): the
   way a bank had to read them before, for the ratio;
3. the .xlsx export for `bench-large`, for its time and memory.

Constant memory shows as the same rise for `--small` and `--count` rows. The export must take
at most 10 s for 100,000 firms (issue 16). Each export is recorded as one disclosure naming
every firm; the run checks the records' counts.
"""

import argparse
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, insert, select, text

from bench.common import UNLIMITED_RATES, bench_token, free_port, start_server, stop_server
from bench.memory import memory_kib
from service.core.clock import today
from service.core.database import make_engine, write_transaction
from service.core.migrate import upgrade_database
from service.core.tables import CONSENT, DISCLOSURE, ENTERPRISE, utcnow
from service.policy.examples import FULL_PROFILE, synthetic_uscc
from service.policy.profile import Profile
from service.registry.store import fact_columns, profile_document

MEASURE = "loan-interest-subsidy"
SMALL, LARGE = "bench-small", "bench-large"
LOAD_BATCH = 10_000
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _uscc(n: int) -> str:
    """A valid credit code, distinct for every n < 10**9."""
    return synthetic_uscc(f"91440781MA{n:07d}")


def load(engine: Engine, count: int, small: int) -> None:
    """`count` eligible firms, the first `small` consenting to SMALL and every one to LARGE."""
    template = Profile.model_validate(
        {
            **FULL_PROFILE,
            "tier": "provincial",
            "tier_valid_until": (today() + timedelta(days=365)).isoformat(),
            "has_bank_loan": True,
            "bank_consents": [],
        }
    )
    columns = fact_columns(template)
    document = profile_document(template)
    now = utcnow()
    for start in range(0, count, LOAD_BATCH):
        firms, consents = [], []
        for n in range(start, min(start + LOAD_BATCH, count)):
            uscc = _uscc(n)
            firms.append(
                {
                    **columns,
                    "uscc": uscc,
                    "name": f"（合成基准数据）江门基准企业{n:07d}有限公司",
                    "profile": {**document, "uscc": uscc},
                    "version": 1,
                    "matched": [],
                    "matched_catalogue_version": "bench",
                    "matched_on": today(),
                    "synthetic": True,
                    "created_at": now,
                    "updated_at": now,
                    "updated_by": "bench",
                    "deleted_at": None,
                }
            )
            consents.append({"bank_id": LARGE, "uscc": uscc})
            if n < small:
                consents.append({"bank_id": SMALL, "uscc": uscc})
        with write_transaction(engine) as connection:
            connection.execute(insert(ENTERPRISE), firms)
            connection.execute(insert(CONSENT), consents)


class PeakRss:
    """The highest VmRSS of a process while the block runs, sampled every 10 ms."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.before = memory_kib(pid)["VmRSS"]
        self.peak = self.before
        self._running = True
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while self._running:
            self.peak = max(self.peak, memory_kib(self.pid)["VmRSS"])
            time.sleep(0.01)

    def __enter__(self) -> "PeakRss":
        self._thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self._running = False
        self._thread.join()
        self.peak = max(self.peak, memory_kib(self.pid)["VmRSS"])

    @property
    def rise_mib(self) -> float:
        """How far the peak rose above the resident memory before, in MiB."""
        return (self.peak - self.before) / 1024


def export(base: str, bank: str, fmt: str) -> tuple[float, float, int]:
    """Seconds to the first byte and in all, and the CSV's lines (an .xlsx's bytes)."""
    headers = {"Authorization": f"Bearer {bench_token('eligibility:read', bank_id=bank)}"}
    url = f"{base}/v1/measures/{MEASURE}/eligible-enterprises"
    started = time.perf_counter()
    first = None
    size = lines = 0
    with httpx.stream("GET", url, params={"format": fmt}, headers=headers, timeout=120) as answer:
        assert answer.status_code == 200, answer.read()
        for chunk in answer.iter_bytes():
            first = first or time.perf_counter() - started
            size += len(chunk)
            lines += chunk.count(b"\n")
    return first or 0.0, time.perf_counter() - started, lines if fmt == "csv" else size


def json_pages(base: str, bank: str) -> tuple[float, float, int]:
    """The same firms through the JSON pages, 500 at a time: (first page, total, firms)."""
    headers = {"Authorization": f"Bearer {bench_token('eligibility:read', bank_id=bank)}"}
    url = f"{base}/v1/measures/{MEASURE}/eligible-enterprises"
    started = time.perf_counter()
    first, firms, cursor = 0.0, 0, None
    with httpx.Client(timeout=60) as client:
        while True:
            params: dict[str, Any] = {"limit": 500, **({"cursor": cursor} if cursor else {})}
            body = client.get(url, params=params, headers=headers).json()
            first = first or time.perf_counter() - started
            firms += len(body["items"])
            cursor = body["next_cursor"]
            if cursor is None:
                return first, time.perf_counter() - started, firms


def measured(
    pid: int, run: Callable[[], tuple[float, float, int]]
) -> tuple[float, float, int, float]:
    """A run's figures with the server's memory rise (MiB) while it ran."""
    with PeakRss(pid) as rss:
        first, total, count = run()
    return first, total, count, rss.rise_mib


def main() -> None:
    """Load, serve, export small and large, page, export .xlsx; print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--database", help="an empty PostgreSQL database (default: SQLite)")
    parser.add_argument("--no-pages", action="store_true", help="skip the JSON pages (slow)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="policy-match-export-"))
    url = args.database or f"sqlite:///{folder / 'export.db'}"
    upgrade_database(url)
    engine = make_engine(url)
    started = time.perf_counter()
    load(engine, args.count, args.small)
    if engine.dialect.name == "postgresql":  # as autovacuum would have, in service
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("ANALYZE"))
    print(f"loaded {args.count:,} firms in {time.perf_counter() - started:.1f} s ({url})")
    port = free_port()
    server = start_server(port, database_url=url, push_worker_in_process="false", **UNLIMITED_RATES)
    base = f"http://127.0.0.1:{port}"
    try:
        export(base, SMALL, "csv")  # warm: the first request loads what every later one uses
        time.sleep(1)
        runs = [
            (f"CSV, {args.small:,} firms", lambda: export(base, SMALL, "csv")),
            (f"CSV, {args.count:,} firms", lambda: export(base, LARGE, "csv")),
            (f"JSON pages of 500, {args.count:,}", lambda: json_pages(base, LARGE)),
            (f".xlsx, {args.count:,} firms", lambda: export(base, LARGE, "xlsx")),
        ]
        if args.no_pages:
            del runs[2]
        print(f"{'':34} {'first byte':>10} {'total':>8} {'rows/bytes':>11} {'RSS rise':>9}")
        results: dict[str, float] = {}
        for name, run in runs:
            first, total, count, rise = measured(server.pid, run)
            results[name.partition(",")[0]] = total  # the large CSV's replaces the small one's
            print(f"{name:34} {first:9.2f}s {total:7.2f}s {count:11,} {rise:7.1f}MiB")
        for other in ("JSON pages of 500", ".xlsx"):
            if other in results:
                ratio = results[other] / results["CSV"]
                print(f"{other} / CSV export, {args.count:,} firms (time): {ratio:.1f}")
        with engine.connect() as connection:
            counts = connection.execute(
                select(DISCLOSURE.c.bank_id, DISCLOSURE.c.firm_count)
                .where(DISCLOSURE.c.firm_count > 500)
                .order_by(DISCLOSURE.c.id)
            ).all()
        print("disclosures of the exports (bank, firms):", [tuple(c) for c in counts])
    finally:
        stop_server(server)
        engine.dispose()


if __name__ == "__main__":
    main()
