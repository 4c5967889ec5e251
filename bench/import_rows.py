"""Importing 100,000 firms from a spreadsheet into SQLite: rows a second and memory (issue 16: at
least 1,000 rows/s from .xlsx, the process's resident memory growing at most 100 MB).

Run: .venv/bin/python -m bench.import_rows [--rows 100000] [--slow-rows 5000]
                                             [--format xlsx|csv|jsonl]

Writes `--rows` synthetic firms (service.registry.demo.synthetic_profile) to one file in the
format asked (.xlsx with XlsxWriter, or CSV, or JSON Lines), headed by the Chinese column titles
(service/registry/sheet_columns.py, as the import template writes them); yes/no as 是/否, bank
ids joined by `;`. Then, in one run, each measurement in a process of its own (so that its
memory is its own) on a fresh SQLite file:

1. import, batched: `import_file` as `policy-match import` runs it (a batch of rows stored by
   `store_profiles`: a statement per kind of write), the whole file; the process's peak resident
   memory (VmHWM, reset first) above its resident memory before the import;
2. import again, the same file into the same database: every row unchanged;
3. import, one by one: the same path with each row stored by `store_profile`, as before, of
   `--slow-rows` further firms (a file of their own) into the same database, so that both
   paths meet a registry of `--rows` firms;
4. store only, batched and one by one: the profiles validated beforehand (and frozen out of
   the garbage collector's passes), then stored in batches of BATCH_ROWS, each batch one
   transaction (no file read: the store path alone); one by one again `--slow-rows` further
   firms after the batched ones.

Ratios are of rows a second, batched to one by one. No push subscription exists: each firm's
events (a handful per firm) are written, no deliveries.
"""

import argparse
import contextlib
import csv
import gc
import json
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import orjson
import xlsxwriter
from sqlalchemy import Engine

from service.core.database import make_engine, write_transaction
from service.core.migrate import upgrade_database
from service.core.settings import PROJECT_ROOT
from service.policy.catalogue import load_catalogue
from service.policy.profile import Profile
from service.registry import importing
from service.registry.demo import synthetic_profile
from service.registry.importing import BATCH_ROWS, import_file
from service.registry.sheet_columns import column_title
from service.registry.store import store_profile
from service.registry.store_batch import store_profiles

DAY = date(2025, 6, 1)
BY = "bench"
SEED = 2024
COLUMNS = tuple(Profile.model_fields)


def profiles(count: int, skip: int = 0) -> Iterator[Profile]:
    """`count` validated synthetic profiles with distinct credit codes, made as they are used,
    after the first `skip` of them."""
    rng = random.Random(SEED)
    seen: set[str] = set()
    n = 0
    while len(seen) < skip + count:
        n += 1
        profile = Profile.model_validate(synthetic_profile(rng, n))
        if profile.uscc is not None and profile.uscc not in seen:
            seen.add(profile.uscc)
            if len(seen) > skip:
                yield profile


def headers() -> list[str]:
    """The Chinese column titles, as the import template writes them."""
    return [column_title(name) for name in COLUMNS]


def cell(value: Any) -> Any:
    """A profile value as an office's sheet holds it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        return ";".join(value)
    return value


def write_file(path: Path, count: int, form: str, skip: int = 0) -> None:
    """`count` synthetic firms (after the first `skip`) in the format `form` (xlsx, csv, jsonl)."""
    documents = (p.model_dump(mode="json", exclude_unset=True) for p in profiles(count, skip))
    if form == "jsonl":
        with path.open("wb") as out:
            for document in documents:
                out.write(orjson.dumps(document) + b"\n")
        return
    rows = ([cell(d[c]) if c in d else "" for c in COLUMNS] for d in documents)
    if form == "csv":
        with path.open("w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(headers())
            writer.writerows(rows)
        return
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = workbook.add_worksheet("企业")
    sheet.write_row(0, 0, headers())
    for at, row in enumerate(rows, start=1):
        sheet.write_row(at, 0, row)
    workbook.close()


def memory_kib() -> dict[str, int]:
    """This process's VmRSS and VmHWM (peak), in KiB."""
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0])
    return fields


def reset_peak() -> None:
    """Start VmHWM again from the present resident memory (Linux: clear_refs 5)."""
    # where it cannot, the peak includes what came before: the growth shows too high, not low
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def one_by_one(
    batch: list[tuple[int, Profile]],
    engine: Engine,
    catalogue: Any,
    changed_by: str,
    day: date,
    synthetic: bool,
) -> tuple[int, int, int]:
    """The store path before store_profiles: store_profile for each row of the batch."""
    created = updated = unchanged = 0
    with write_transaction(engine) as connection:
        for _, profile in batch:
            result = store_profile(
                connection, catalogue, profile, changed_by=changed_by, day=day, synthetic=synthetic
            )
            created += result.created
            updated += result.changed and not result.created
            unchanged += not result.changed
    return created, updated, unchanged


def measure(kind: str, path: Path, database: str, rows: int, skip: int) -> dict[str, Any]:
    """One measurement in this process: rows, seconds, resident memory growth in MiB."""
    catalogue = load_catalogue(PROJECT_ROOT / "policies")
    engine = make_engine(database)
    if kind.endswith("one by one"):
        importing._store_rows = one_by_one
    store: Callable[[Any, list[Profile]], Any] = (
        (lambda c, b: [store_profile(c, catalogue, p, changed_by=BY, day=DAY) for p in b])
        if kind.endswith("one by one")
        else (lambda c, b: store_profiles(c, catalogue, b, changed_by=BY, day=DAY))
    )
    batches: list[list[Profile]] = []
    if kind.startswith("store"):
        batch: list[Profile] = []
        for profile in profiles(rows, skip):
            batch.append(profile)
            if len(batch) == BATCH_ROWS:
                batches.append(batch)
                batch = []
        batches += [batch] if batch else []
    # the profiles held for "store only" are the bench's, not the import's (which streams its
    # file): out of the collector's way, so that its passes over them are not counted
    gc.freeze()
    before = memory_kib()["VmRSS"]
    reset_peak()
    started = time.perf_counter()
    if kind.startswith("import"):
        report = import_file(path, engine, catalogue, changed_by=BY, day=DAY, progress=False)
        stored, bad = report.stored, len(report.bad)
    else:
        for batch in batches:
            with write_transaction(engine) as connection:
                store(connection, batch)
        stored, bad = rows, 0
    seconds = time.perf_counter() - started
    growth = (memory_kib()["VmHWM"] - before) / 1024
    engine.dispose()
    return {"rows": stored, "bad": bad, "seconds": seconds, "rss_growth_mib": growth}


def child(kind: str, path: Path, database: str, rows: int, skip: int) -> dict[str, Any]:
    """`measure` in a process of its own."""
    command = [sys.executable, "-m", "bench.import_rows", "--measure", kind, "--file", str(path)]
    command += ["--database", database, "--rows", str(rows), "--skip", str(skip)]
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def fresh(folder: Path, name: str) -> str:
    """The URL of a new migrated SQLite file."""
    url = f"sqlite:///{folder / name}.db"
    upgrade_database(url)
    return url


def main() -> None:
    """Write the file, measure each way in a process of its own, print side by side."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--slow-rows", type=int, default=5_000)
    parser.add_argument("--format", choices=("xlsx", "csv", "jsonl"), default="xlsx")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--database", help=argparse.SUPPRESS)
    parser.add_argument("--skip", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.file, args.database, args.rows, args.skip)))
        return
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        big, small = folder / f"firms.{args.format}", folder / f"more.{args.format}"
        started = time.perf_counter()
        write_file(big, args.rows, args.format)
        write_file(small, args.slow_rows, args.format, skip=args.rows)
        print(
            f"wrote {args.rows:,} firms as .{args.format} ({big.stat().st_size / 2**20:.1f} MiB, "
            f"headers {headers()[0]}…) in {time.perf_counter() - started:.1f} s"
        )
        imported, stored = fresh(folder, "imported"), fresh(folder, "stored")
        runs = [  # the one-by-one runs store further firms into the registry the batched ones made
            ("import, batched", big, imported, args.rows, 0),
            ("import again (unchanged)", big, imported, args.rows, 0),
            ("import, one by one", small, imported, args.slow_rows, 0),
            ("store only, batched", big, stored, args.rows, 0),
            ("store only, one by one", big, stored, args.slow_rows, args.rows),
        ]
        results = {}
        print(f"{'measurement':26s} {'rows':>8s} {'bad':>5s} {'s':>7s} {'rows/s':>8s} RSS +MiB")
        for kind, path, database, rows, skip in runs:
            run = results[kind] = child(kind, path, database, rows, skip)
            rate = run["rows"] / run["seconds"]
            print(
                f"{kind:26s} {run['rows']:8,d} {run['bad']:5d} {run['seconds']:7.1f} "
                f"{rate:8,.0f} {run['rss_growth_mib']:9.1f}"
            )

        def rate(kind: str) -> float:
            return float(results[kind]["rows"] / results[kind]["seconds"])

        imports = rate("import, batched") / rate("import, one by one")
        stores = rate("store only, batched") / rate("store only, one by one")
        print(f"ratios batched / one by one: import {imports:.1f}x, store only {stores:.1f}x")
        whole, memory = rate("import, batched"), results["import, batched"]["rss_growth_mib"]
        alone = rate("store only, batched")
        print(
            f".{args.format} import of {args.rows:,} rows on SQLite: {whole:,.0f} rows/s "
            f"(target >= 1,000: {'PASS' if whole >= 1000 else 'FAIL'}), RSS +{memory:.0f} MiB "
            f"(target <= 100: {'PASS' if memory <= 100 else 'FAIL'}); store path alone "
            f"{alone:,.0f} rows/s (target >= 3,000: {'PASS' if alone >= 3000 else 'FAIL'})"
        )


if __name__ == "__main__":
    main()
