"""Running import jobs in the service process: a few at a time, a bounded queue, files cleaned up.

Jobs run on a thread pool of `concurrency` threads (imports write in batches that hold the
database's write lock briefly; two at once is plenty on PostgreSQL, one on SQLite). Submitting
takes a place among `concurrency + max_queued`; with none left the caller is told to come back
(TooBusy), before the upload is read. A job's upload is deleted as soon as the job ends, however
it ends; its bad-rows workbook is kept `retention` and then deleted (swept when a job is
submitted and when the process starts). When the process stops, the running jobs stop after
their current batch (what they stored stays) and every unfinished job is marked interrupted.
"""

import logging
import tempfile
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from service.core.clock import today
from service.core.database import write_transaction
from service.core.i18n import Language
from service.core.settings import Settings
from service.core.tables import utcnow
from service.policy.catalogue import Catalogue
from service.registry import import_jobs as jobs
from service.registry.import_work import JobStopped, import_job_file
from service.registry.workbook_guard import SheetLimits

log = logging.getLogger("policy_match.imports")


class TooBusy(Exception):
    """Every place in the import queue is taken."""


class ImportRunner:
    """This process's import jobs: run `concurrency` at a time, at most `max_queued` waiting."""

    def __init__(
        self,
        engine: Engine,
        catalogue: Callable[[], Catalogue],
        *,
        folder: Path,
        concurrency: int,
        max_queued: int,
        retention: timedelta,
        limits: SheetLimits,
    ) -> None:
        self.engine, self.catalogue, self.folder = engine, catalogue, folder
        self.limits = limits
        self.uploads, self.results = folder / "uploads", folder / "results"
        self.places = concurrency + max_queued
        self.retention = retention
        self._pool = ThreadPoolExecutor(concurrency, thread_name_prefix="import")
        self._lock = threading.Lock()
        self._taken = 0
        self._unfinished: set[str] = set()
        self.stopping = threading.Event()

    def start(self) -> None:
        """Make the folders; mark interrupted the jobs left by a process gone; sweep old files.

        A database that cannot be read yet (not migrated, unreachable) does not stop the start:
        it is logged, and the jobs left are marked by the next process that starts."""
        try:
            self._recover()
        except DBAPIError as e:
            log.warning("import jobs left by a stopped process not checked: %s", type(e).__name__)

    def _recover(self) -> None:
        with write_transaction(self.engine) as connection:
            orphans = jobs.interrupt_orphans(connection)
        for orphan in orphans:
            _delete(orphan.get("upload_path"))
        if orphans:
            log.warning("import jobs interrupted by a stop: %s", [o["id"] for o in orphans])
        self.sweep()

    def reserve(self) -> None:
        """Take a place in the queue for a job about to be uploaded; TooBusy if none is left."""
        with self._lock:
            if self.stopping.is_set() or self._taken >= self.places:
                raise TooBusy
            self._taken += 1

    def release(self) -> None:
        """Give back a place reserved for an upload that did not become a job."""
        with self._lock:
            self._taken -= 1

    def upload_path(self, suffix: str) -> tuple[str, Path]:
        """A new job's id and where its upload is written."""
        job_id = uuid.uuid4().hex
        self.uploads.mkdir(parents=True, exist_ok=True)
        return job_id, self.uploads / f"{job_id}{suffix}"

    def submit(self, job_id: str, upload: Path, language: Language, client: str) -> None:
        """Queue a job already recorded, in its reserved place."""
        with self._lock:
            self._unfinished.add(job_id)
        self._pool.submit(self._run, job_id, upload, language, client)

    def _run(self, job_id: str, upload: Path, language: Language, client: str) -> None:
        try:
            self.results.mkdir(parents=True, exist_ok=True)
            import_job_file(
                self.engine,
                self.catalogue(),
                job_id,
                upload,
                result=self.results / f"{job_id}.xlsx",
                language=language,
                changed_by=client,
                day=today(),
                stopping=self.stopping,
                limits=self.limits,
            )
        except JobStopped:
            with write_transaction(self.engine) as connection:
                jobs.interrupt(connection, [job_id])
        except Exception:
            log.exception("import job %s failed", job_id)
        finally:
            _delete(str(upload))
            with self._lock:
                self._taken -= 1
                self._unfinished.discard(job_id)

    def sweep(self) -> None:
        """Delete the result files older than the retention."""
        before = utcnow() - self.retention
        with write_transaction(self.engine) as connection:
            expired = jobs.expired_results(connection, before)
        for row in expired:
            _delete(row["result_path"])

    def stop(self) -> None:
        """Stop: running jobs after their batch, queued ones at once; all marked interrupted."""
        self.stopping.set()
        self._pool.shutdown(wait=True, cancel_futures=True)
        with self._lock:
            left = sorted(self._unfinished)
        if left:
            with write_transaction(self.engine) as connection:
                jobs.interrupt(connection, left)
            for path in self.uploads.glob("*") if self.uploads.exists() else ():
                if path.stem in left:
                    _delete(str(path))


def import_runner(engine: Engine, state: Any, settings: Settings) -> ImportRunner:
    """The runner of these settings, importing with the catalogue `state` holds at each start."""
    folder = settings.import_dir or Path(tempfile.gettempdir()) / "policy-match-imports"
    return ImportRunner(
        engine,
        lambda: state.catalogue,
        folder=folder,
        concurrency=settings.import_concurrency,
        max_queued=settings.import_max_queued,
        retention=timedelta(hours=settings.import_retention_hours),
        limits=SheetLimits(settings.import_max_rows, settings.import_max_uncompressed_bytes),
    )


def _delete(path: Any) -> None:
    if path:
        Path(path).unlink(missing_ok=True)
