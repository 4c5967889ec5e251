"""The console's impact previews as jobs: run in a thread of their own, polled by the page.

A preview loads the policies folder (its checks and cases: a second or two) and reads every
stored firm (a few seconds for 100,000): too long for a page to wait on. The page starts a job
and `preview.js` polls its progress, then loads the page again, which renders the result (or
the folder's problems). A process keeps the last few jobs, keyed by the catalogue in force, the
policies folder (its files' names, sizes and modification times: a stat each, no reading) and
the day: asking again shows the finished result at once, with when it was computed, until one
of them changes or a fresh run is asked for. Jobs share the API's slot (one preview at a time
in a process).
"""

import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import Engine

from service.api.routes.preview import PREVIEW_SLOT
from service.matching.cases import load_checked_catalogue
from service.policy.catalogue import Catalogue, CatalogueError
from service.registry.preview import Preview, preview_impact, stored_firms

log = logging.getLogger("policy_match.console.preview")

KEPT_JOBS = 4
Stamp = tuple[tuple[str, int, int], ...]


def folder_stamp(policies_dir: Path) -> Stamp:
    """The policies folder's files with their sizes and modification times."""
    return tuple(
        (str(p.relative_to(policies_dir)), p.stat().st_mtime_ns, p.stat().st_size)
        for p in sorted(policies_dir.rglob("*"))
        if p.is_file()
    )


@dataclass
class PreviewJob:
    """One preview being computed, or computed (or refused: the folder fails its checks)."""

    id: str
    current: Catalogue
    policies_dir: Path
    stamp: Stamp
    day: date
    candidate: Catalogue | None = None
    problems: list[str] | None = None
    total: int = 0
    done: int = 0
    state: str = "running"  # running, done, refused or failed
    started: float = field(default_factory=time.time)
    finished: float | None = None
    preview: Preview | None = None

    @property
    def key(self) -> tuple[str, Stamp, date]:
        """What makes two previews the same: the catalogue in force, the folder and the day."""
        return self.current.version, self.stamp, self.day


class PreviewJobs:
    """The jobs of one process, the newest last, and the folder's catalogue last loaded."""

    def __init__(self) -> None:
        self._jobs: dict[str, PreviewJob] = {}
        self._lock = threading.Lock()
        self._loaded: tuple[Stamp, Catalogue | CatalogueError] | None = None

    def candidate(self, policies_dir: Path, stamp: Stamp | None = None) -> Catalogue:
        """The policies folder's checked catalogue, loaded again only when a file of it changed
        (CatalogueError if it fails its checks)."""
        stamp = folder_stamp(policies_dir) if stamp is None else stamp
        loaded = self._loaded
        if loaded is None or loaded[0] != stamp:
            try:
                found: Catalogue | CatalogueError = load_checked_catalogue(policies_dir)
            except CatalogueError as e:
                found = e
            loaded = self._loaded = (stamp, found)
        if isinstance(loaded[1], CatalogueError):
            raise loaded[1]
        return loaded[1]

    def get(self, job_id: str) -> PreviewJob | None:
        """A kept job, or None."""
        return self._jobs.get(job_id)

    def start(
        self, engine: Engine, current: Catalogue, policies_dir: Path, day: date, *, fresh: bool
    ) -> PreviewJob:
        """The kept job for the catalogue in force, the folder as it is and the day; else (or
        when `fresh` and it is finished) a new one, started."""
        stamp = folder_stamp(policies_dir)
        with self._lock:
            key = (current.version, stamp, day)
            for job in reversed(self._jobs.values()):
                kept = job.state == "running" or (job.state != "failed" and not fresh)
                if job.key == key and kept:
                    return job
            job = PreviewJob(uuid.uuid4().hex, current, policies_dir, stamp, day)
            self._jobs[job.id] = job
            while len(self._jobs) > KEPT_JOBS:
                del self._jobs[next(iter(self._jobs))]
        threading.Thread(target=self._run, args=(engine, job), daemon=True).start()
        return job

    def _run(self, engine: Engine, job: PreviewJob) -> None:
        def told(firms: int) -> None:
            job.done += firms

        try:
            with PREVIEW_SLOT:
                job.candidate = self.candidate(job.policies_dir, job.stamp)
                with engine.connect() as connection:
                    job.total = stored_firms(connection)
                    job.preview = preview_impact(
                        connection, job.current, job.candidate, day=job.day, progress=told
                    )
            job.state = "done"
        except CatalogueError as e:
            job.problems, job.state = e.problems, "refused"
        except Exception:
            log.exception("preview %s failed", job.id)
            job.state = "failed"
        finally:
            job.finished = time.time()
