"""Run every benchmark in turn, keep what each printed, and list their headline lines.

Run: .venv/bin/python -m bench.record [--quick] [--output DIR] [--only NAME ...] [--reuse]
Runs, each as a subprocess of its own (`python -m bench.NAME`), one after another:
match_inprocess, http_match (the issue's load: 64 connections, 60 s, one round), store_http,
bank_query (needs PostgreSQL; drops and loads 1,000,000 firms unless --reuse finds them),
push_delivery, rematch, import_rows and memory. Each one's stdout and stderr are shown as they
come and kept in DIR/NAME.txt and DIR/NAME.stderr.txt (DIR: --output, by default
/tmp/policy-match-bench/<timestamp>/, outside the repository). Then it prints, and writes to
DIR/summary.txt, each benchmark's headline: the last line it printed to stdout, which is its
summary (with PASS or FAIL where it has a target), or its exit status if it failed.

--quick shrinks every benchmark to seconds or a few thousand firms: a smoke run that shows each
one still works, not figures to record. Its bank query uses its own database
(policy_match_bench_quick), so a loaded policy_match_bench is left alone.
"""

import argparse
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO

from service.core.settings import PROJECT_ROOT

# name: (arguments of the full run, arguments of --quick)
BENCHMARKS: dict[str, tuple[list[str], list[str]]] = {
    "match_inprocess": ([], ["--rounds", "2000"]),
    "http_match": (
        ["--connections", "64", "--seconds", "60", "--rounds", "1"],
        ["--connections", "64", "--seconds", "2", "--rounds", "1"],
    ),
    "batch_http": ([], ["--profiles", "200", "--rounds", "2"]),
    "observability": ([], ["--requests", "300"]),
    "store_http": ([], ["--seconds", "2", "--rounds", "1"]),
    "bank_query": (
        [],
        ["--count", "20000", "--runs", "5", "--database-name", "policy_match_bench_quick"],
    ),
    "push_delivery": ([], ["--firms", "50", "--rounds", "1"]),
    "rematch": ([], ["--firms", "2000"]),
    "import_rows": ([], ["--rows", "2000", "--slow-rows", "500"]),
    "memory": ([], ["--count", "2000", "--requests", "30"]),
}
DEFAULT_ROOT = Path("/tmp/policy-match-bench")


@dataclass(frozen=True, slots=True)
class Outcome:
    """How one benchmark ended: its exit status, its seconds and its headline line."""

    name: str
    returncode: int
    seconds: float
    headline: str


def _tee(stream: IO[bytes], console: IO[str], path: Path, lines: list[str]) -> None:
    """Copy a child's stream to the console and a file, line by line, keeping the lines."""
    with path.open("w", encoding="utf-8") as kept:
        for raw in stream:
            line = raw.decode("utf-8", errors="replace")
            console.write(line)
            console.flush()
            kept.write(line)
            kept.flush()
            lines.append(line.rstrip("\n"))


def run_benchmark(name: str, arguments: list[str], folder: Path) -> Outcome:
    """Run `python -m bench.NAME arguments`, teeing its output into `folder`; how it ended."""
    command = [sys.executable, "-u", "-m", f"bench.{name}", *arguments]
    print(f"\n=== {name}: {' '.join(command[1:])}", flush=True)
    started = time.perf_counter()
    child = subprocess.Popen(
        command,
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert child.stdout is not None and child.stderr is not None
    out: list[str] = []
    err: list[str] = []
    readers = [
        threading.Thread(target=_tee, args=(child.stdout, sys.stdout, folder / f"{name}.txt", out)),
        threading.Thread(
            target=_tee, args=(child.stderr, sys.stderr, folder / f"{name}.stderr.txt", err)
        ),
    ]
    for reader in readers:
        reader.start()
    try:
        returncode = child.wait()
    except KeyboardInterrupt:
        child.terminate()
        child.wait(timeout=30)
        raise
    finally:
        for reader in readers:
            reader.join()
    seconds = time.perf_counter() - started
    stderr_file = folder / f"{name}.stderr.txt"
    if stderr_file.stat().st_size == 0:
        stderr_file.unlink()
    printed = [line for line in out if line.strip()]
    headline = printed[-1] if printed else "(printed nothing)"
    if returncode != 0:
        last_error = next((line for line in reversed(err) if line.strip()), "")
        headline = f"FAILED (exit {returncode}): {last_error or headline}"
    return Outcome(name, returncode, seconds, headline)


def _git(*arguments: str) -> str:
    """What a git command prints in the project's folder."""
    return subprocess.run(
        ["git", *arguments], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    ).stdout


def _revision() -> str:
    """The commit checked out, with `+changes` when the working tree differs from it."""
    try:
        commit = _git("rev-parse", "--short", "HEAD").strip()
        status = _git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("+changes" if status.strip() else "")


def main() -> None:
    """Run the benchmarks chosen, then print and keep their headlines."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="a smoke run: seconds, not minutes")
    parser.add_argument("--output", type=Path, default=None, help="folder for the outputs")
    parser.add_argument(
        "--only", nargs="+", choices=list(BENCHMARKS), default=None, help="run just these"
    )
    parser.add_argument("--reuse", action="store_true", help="bank_query: keep its loaded database")
    args = parser.parse_args()
    stamp = datetime.now().strftime("%Y%m%dT%H%M%S") + ("-quick" if args.quick else "")
    folder: Path = args.output or DEFAULT_ROOT / stamp
    folder.mkdir(parents=True, exist_ok=True)
    header = (
        f"policy-match benchmarks, {'quick (smoke run)' if args.quick else 'full'}, "
        f"{datetime.now().isoformat(timespec='seconds')}, revision {_revision()}, "
        f"{os.cpu_count()} cores, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    print(header)
    outcomes = []
    for name in args.only or BENCHMARKS:
        full, quick = BENCHMARKS[name]
        arguments = list(quick if args.quick else full)
        if name == "bank_query" and args.reuse:
            arguments.append("--reuse")
        outcomes.append(run_benchmark(name, arguments, folder))
    lines = [header, ""] + [f"{o.name:16s} {o.seconds:6.0f} s  {o.headline}" for o in outcomes]
    (folder / "summary.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"\n=== headlines (outputs in {folder}):")
    print("\n".join(lines[2:]))
    if any(o.returncode for o in outcomes):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
