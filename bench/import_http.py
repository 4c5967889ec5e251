"""An .xlsx import over HTTP: 100,000 rows uploaded to POST /v1/enterprises/imports, and memory.

Run: .venv/bin/python -m bench.import_http [--count 100000] [--database URL]

Writes a workbook of `--count` synthetic firms under the Chinese headers, with codes as Chinese
labels (台山市, 省级专精特新中小企业, 是/否) and days as Excel dates, every 100th row with a tier
no list has (a bad row); starts the service (bench.common.start_server: one uvicorn worker, its
own process) on a fresh SQLite file (or the PostgreSQL database given, which must hold no
firms); uploads the file as multipart/form-data and polls the job until it ends. Prints the
time to the 202 (upload streamed to disk and the file's whole-file checks), the job's time and
rows a second, and how far the server's resident memory rose above what it was before the
upload (VmRSS sampled every 10 ms from /proc), and the latency of another client's stores (a
PUT every 50 ms) and of /healthz meanwhile. Issue 16: at least 1,000 rows a second on SQLite,
RSS growing by at most 100 MB.
"""

import argparse
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import httpx
import xlsxwriter

from bench.common import bench_token, free_port, start_server, stop_server
from bench.memory import memory_kib
from service.core.migrate import upgrade_database
from service.policy.examples import synthetic_uscc
from service.registry.sheet_columns import column_title

FIELDS = ("uscc", "name", "county", "tier", "tier_valid_until", "employees", "has_bank_loan")
COUNTIES = ("蓬江区", "江海区", "新会区", "台山市", "开平市", "鹤山市", "恩平市")
TIERS = ("创新型中小企业", "市级专精特新中小企业", "省级专精特新中小企业")


def write_workbook(path: Path, count: int) -> int:
    """The benchmark's workbook; its bad rows."""
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = book.add_worksheet("企业名单")
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    sheet.write_row(0, 0, [column_title(f) for f in FIELDS])
    valid = date.today() + timedelta(days=365)
    bad = 0
    for n in range(count):
        tier = "银河级" if n % 100 == 99 else TIERS[n % len(TIERS)]
        bad += tier == "银河级"
        row = 1 + n
        sheet.write_string(row, 0, synthetic_uscc(f"91440781MA{n:07d}"))
        sheet.write_string(row, 1, f"（合成基准数据）江门导入企业{n:07d}有限公司")
        sheet.write_string(row, 2, COUNTIES[n % len(COUNTIES)])
        sheet.write_string(row, 3, tier)
        sheet.write_datetime(row, 4, valid, day)
        sheet.write_number(row, 5, 10 + n % 500)
        sheet.write_string(row, 6, "是" if n % 2 else "否")
    book.close()
    return bad


class Prober(threading.Thread):
    """Another client, every 50 ms while the import runs, storing one firm (PUT) or asking
    /healthz (which reads nothing: it waits only if the event loop is held): its latencies."""

    def __init__(self, base: str, what: str) -> None:
        super().__init__(daemon=True)
        self.base, self.what, self.running, self.seconds = base, what, True, list[float]()

    def run(self) -> None:
        headers = {"Authorization": f"Bearer {bench_token('enterprises:write')}"}
        with httpx.Client(base_url=self.base, timeout=60) as client:
            n = 0
            while self.running:
                uscc = synthetic_uscc(f"91440703MA{n:07d}")
                t0 = time.perf_counter()
                if self.what == "PUT":
                    body = {"uscc": uscc, "county": "440703", "employees": n}
                    answer = client.put(f"/v1/enterprises/{uscc}", json=body, headers=headers)
                else:
                    answer = client.get("/healthz")
                assert answer.status_code in (200, 201), answer.text
                self.seconds.append(time.perf_counter() - t0)
                n += 1
                time.sleep(0.05)

    def summary(self) -> str:
        """Median, 99th percentile and worst, in milliseconds."""
        ordered = sorted(self.seconds) or [0.0]

        def at(q: float) -> float:
            return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

        return (
            f"{len(ordered)} {self.what} meanwhile: median {at(0.5):.0f} ms, "
            f"p99 {at(0.99):.0f} ms, max {ordered[-1] * 1000:.0f} ms"
        )


class Sampler(threading.Thread):
    """The highest VmRSS of a process, sampled every 10 ms until stopped."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self.running = pid, 0, True

    def run(self) -> None:
        while self.running:
            self.peak = max(self.peak, memory_kib(self.pid)["VmRSS"])
            time.sleep(0.01)


def main() -> None:
    """Write, serve, upload, poll; print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--database", default=None)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-import-"))
    url = args.database or f"sqlite:///{folder / 'bench.db'}"
    upgrade_database(url)
    workbook = folder / "firms.xlsx"
    started = time.perf_counter()
    bad = write_workbook(workbook, args.count)
    print(
        f"workbook: {args.count:,} rows, {workbook.stat().st_size / 1e6:.1f} MB, "
        f"written in {time.perf_counter() - started:.1f} s"
    )
    port = free_port()
    server = start_server(
        port,
        database_url=url,
        push_worker_in_process="false",
        import_dir=str(folder / "imports"),
        import_max_bytes=str(200 * 1024 * 1024),
    )
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {bench_token('enterprises:write')}"}
    try:
        before = memory_kib(server.pid)["VmRSS"]
        sampler = Sampler(server.pid)
        sampler.start()
        probers = [Prober(base, "PUT"), Prober(base, "GET /healthz")]
        for prober in probers:
            prober.start()
        with httpx.Client(base_url=base, timeout=600) as client, workbook.open("rb") as file:
            t0 = time.perf_counter()
            answer = client.post(
                "/v1/enterprises/imports", files={"file": ("firms.xlsx", file)}, headers=headers
            )
            accepted = time.perf_counter() - t0
            assert answer.status_code == 202, answer.text
            location = answer.headers["location"]
            while True:
                job = client.get(location, headers=headers).json()
                if job["status"] not in ("queued", "running"):
                    break
                time.sleep(0.2)
            total = time.perf_counter() - t0
        sampler.running = False
        sampler.join()
        for prober in probers:
            prober.running = False
            prober.join()
    finally:
        stop_server(server)
    started_at, finished_at = job["started_at"], job["finished_at"]
    print(
        f"status {job['status']}: created {job['created']:,}, bad {job['bad']:,} "
        f"(expected {bad:,}), rows read {job['rows_read']:,}"
    )
    print(f"202 after {accepted:.2f} s (upload streamed to disk, whole-file checks)")
    print(
        f"job {started_at} -> {finished_at}; upload to done {total:.1f} s: "
        f"{args.count / total:,.0f} rows/s"
    )
    print("; ".join(prober.summary() for prober in probers))
    print(
        f"server RSS {before / 1024:.0f} MB before, peak {sampler.peak / 1024:.0f} MB: "
        f"+{(sampler.peak - before) / 1024:.0f} MB"
    )


if __name__ == "__main__":
    main()
