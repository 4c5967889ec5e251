"""The soak's processes: the service and its worker as deployed, the receiver, and their memory.

As compose.yaml deploys it: `policy-match serve` (which checks the catalogue, migrates and
execs uvicorn) with the in-process worker off, and one `policy-match worker`, in production
mode (no token endpoint, subscription secrets sealed), logging JSON at INFO to files.
"""

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, NoReturn

import httpx
import orjson
from cryptography.fernet import Fernet

from bench.common import SECRET, UNLIMITED_RATES


class Processes:
    """Started processes by name, each with its log file; stop() ends them all."""

    def __init__(self, database_url: str, environment: str, receiver: dict[str, str]) -> None:
        """The settings every service process gets; `receiver`: the receiver's environment."""
        self.folder = Path(tempfile.mkdtemp(prefix="policy-match-soak-"))
        self.started: dict[str, subprocess.Popen[bytes]] = {}
        self.receiver_env = receiver
        settings = {
            "environment": environment,
            "database_url": database_url,
            "jwt_secret": SECRET,
            "enable_token_endpoint": "false",
            "push_secret_keys": Fernet.generate_key().decode(),
            "push_worker_in_process": "false",
            # the receiver is on this host: loopback targets must be allowed
            "push_allow_internal_targets": "true",
            "log_level": "INFO",
            **UNLIMITED_RATES,
        }
        self.env = {**os.environ, **{f"POLICY_MATCH_{k.upper()}": v for k, v in settings.items()}}

    def log(self, name: str, stream: str = "stdout") -> Path:
        """Where a process's stdout (its JSON log) or stderr goes."""
        return self.folder / f"{name}.{stream}.log"

    def start(self, name: str, arguments: list[str], env: dict[str, str]) -> None:
        """Start `python arguments`, its stdout and stderr in log files, in a session of its
        own (a Ctrl-C at the terminal reaches the benchmark, which then stops it in order)."""
        with self.log(name).open("wb") as out, self.log(name, "stderr").open("wb") as err:
            self.started[name] = subprocess.Popen(
                [sys.executable, *arguments],
                env=env,
                stdout=out,
                stderr=err,
                start_new_session=True,
            )

    def start_all(self, port: int, receiver_port: int) -> None:
        """The receiver, the service (ready when /readyz says so) and the worker."""
        self.start(
            "receiver",
            [
                "-m",
                "uvicorn",
                "bench.soak_receiver:app",
                "--port",
                str(receiver_port),
                "--no-access-log",
                "--log-level",
                "warning",
            ],
            {**os.environ, **self.receiver_env},
        )
        serve = ["-m", "service.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
        self.start("server", serve, self.env)
        self.wait_ready(f"http://127.0.0.1:{port}/readyz", "server")
        self.wait_ready(f"http://127.0.0.1:{receiver_port}/", "receiver")
        self.start("worker", ["-m", "service.cli", "worker", "--name", "soak-worker-1"], self.env)
        self.wait_started("worker")

    def wait_started(self, name: str, seconds: float = 60.0) -> None:
        """Wait until a process has written its first line (the worker's: it is delivering)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and self.started[name].poll() is None:
            if self.log(name).stat().st_size:
                return
            time.sleep(0.2)
        self.fail(name, "did not start")

    def wait_ready(self, url: str, name: str, seconds: float = 60.0) -> None:
        """Wait until `url` answers 200; exit with the log's end if the process dies first."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.started[name].poll() is not None:
                break
            try:
                if httpx.get(url, timeout=1, trust_env=False).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        self.fail(name, "did not become ready")

    def fail(self, name: str, what: str) -> NoReturn:
        """Stop everything and exit, showing the end of the process's output."""
        tail = "".join(
            self.log(name, stream).read_text(errors="replace")[-2000:]
            for stream in ("stdout", "stderr")
        )
        self.stop()
        raise SystemExit(f"{name} {what}; its output ends:\n{tail}")

    def stop(self, grace: float = 60.0) -> dict[str, int | None]:
        """SIGTERM each (worker first), wait up to `grace` s, then SIGKILL; exit statuses."""
        statuses: dict[str, int | None] = {}
        for name in ("worker", "server", "receiver"):
            process = self.started.get(name)
            if process is None:
                continue
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
            try:
                statuses[name] = process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                process.kill()
                statuses[name] = process.wait()
        return statuses


def process_tree(pid: int) -> list[int]:
    """A process and all its descendants (a server that forks workers is sampled whole)."""
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        try:
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(n) for n in (task / "children").read_text().split()]
        except OSError:
            continue  # it ended between the listing and the read
    return found


def usage(pid: int) -> dict[str, Any] | None:
    """Resident memory, its peak (KiB), open files and CPU seconds of a process and its
    descendants, summed; None once the process has ended."""
    total = {"rss_kib": 0, "hwm_kib": 0, "fds": 0, "cpu_s": 0.0, "pids": 0}
    tick = os.sysconf("SC_CLK_TCK")
    try:
        for member in process_tree(pid):
            status = Path(f"/proc/{member}/status").read_text()
            if "\nState:\tZ" in status:
                continue
            for line in status.splitlines():
                name, _, value = line.partition(":")
                if name in ("VmRSS", "VmHWM"):
                    total["rss_kib" if name == "VmRSS" else "hwm_kib"] += int(value.split()[0])
            total["fds"] += len(os.listdir(f"/proc/{member}/fd"))
            fields = Path(f"/proc/{member}/stat").read_text().rpartition(")")[2].split()
            total["cpu_s"] += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
            total["pids"] += 1
    except (FileNotFoundError, ProcessLookupError):
        pass
    if total["pids"] == 0:
        return None
    total["cpu_s"] = round(total["cpu_s"], 1)
    return total


def log_errors(path: Path, kept: int = 10) -> tuple[dict[str, int], int, list[str]]:
    """A log's error and critical JSON lines and Python tracebacks counted, all its lines, and
    the first `kept` of those (a worker's plain start line is neither)."""
    counts = {"error": 0, "critical": 0, "traceback": 0}
    lines, first = 0, list[str]()
    with path.open("rb") as log:
        for raw in log:
            lines += 1
            try:
                entry = orjson.loads(raw)
                level = entry.get("level") if isinstance(entry, dict) else None
            except orjson.JSONDecodeError:
                level = "traceback" if raw.startswith(b"Traceback") else None
            if level in counts:
                counts[level] += 1
                if len(first) < kept:
                    first.append(raw.decode(errors="replace")[:500])
    return counts, lines, first
