"""The console's impact previews as jobs: run in a thread of their own, polled by the page.

A preview reads every stored firm (a few seconds for 100,000), too long for a page to wait
on: the page starts a job and `preview.js` polls its progress, then loads the page again,
which renders the result. A process keeps the last few jobs, keyed by the catalogue in force,
the policies folder's catalogue and the day: asking again shows the finished result at once
(with when it was computed) until one of them changes or a fresh run is asked for. Jobs share
the API's slot (one preview at a time in a process).

The policies folder is loaded again only when one of its files changed (their sizes and
modification times), so the page renders in milliseconds while it is unchanged.
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


@dataclass
class PreviewJob:
    """One preview being computed, or computed."""

    id: str
    current: Catalogue
    candidate: Catalogue
    day: date
    total: int = 0
    done: int = 0
    state: str = "running"  # running, done or failed
    started: float = field(default_factory=time.time)
    finished: float | None = None
    preview: Preview | None = None

    @property
    def key(self) -> tuple[str, str, date]:
        """What makes two previews the same: both catalogues and the day."""
        return self.current.version, self.candidate.version, self.day


class PreviewJobs:
    """The jobs of one process, the newest last; and the policies folder, loaded when changed."""

    def __init__(self) -> None:
        self._jobs: dict[str, PreviewJob] = {}
        self._lock = threading.Lock()
        self._folder: tuple[tuple[tuple[str, int, int], ...], Catalogue | CatalogueError] | None
        self._folder = None

    def candidate(self, policies_dir: Path) -> Catalogue:
        """The policies folder's checked catalogue (CatalogueError if it fails its checks)."""
        stamp = tuple(
            (str(p.relative_to(policies_dir)), p.stat().st_mtime_ns, p.stat().st_size)
            for p in sorted(policies_dir.rglob("*"))
            if p.is_file()
        )
        folder = self._folder
        if folder is None or folder[0] != stamp:
            try:
                found: Catalogue | CatalogueError = load_checked_catalogue(policies_dir)
            except CatalogueError as e:
                found = e
            folder = self._folder = (stamp, found)
        if isinstance(folder[1], CatalogueError):
            raise folder[1]
        return folder[1]

    def get(self, job_id: str) -> PreviewJob | None:
        """A kept job, or None."""
        return self._jobs.get(job_id)

    def start(
        self, engine: Engine, current: Catalogue, candidate: Catalogue, day: date, fresh: bool
    ) -> PreviewJob:
        """The kept job for these catalogues and day, else (or when `fresh`) a new one started."""
        with self._lock:
            key = (current.version, candidate.version, day)
            for job in reversed(self._jobs.values()):
                kept = job.state == "running" or (job.state == "done" and not fresh)
                if job.key == key and kept:
                    return job
            job = PreviewJob(uuid.uuid4().hex, current, candidate, day)
            self._jobs[job.id] = job
            while len(self._jobs) > KEPT_JOBS:
                del self._jobs[next(iter(self._jobs))]
        threading.Thread(target=_run, args=(engine, job), daemon=True, name="preview").start()
        return job


def _run(engine: Engine, job: PreviewJob) -> None:
    def told(firms: int) -> None:
        job.done += firms

    try:
        with PREVIEW_SLOT, engine.connect() as connection:
            job.total = stored_firms(connection)
            job.preview = preview_impact(
                connection, job.current, job.candidate, day=job.day, progress=told
            )
        job.state = "done"
    except Exception:
        log.exception("preview %s failed", job.id)
        job.state = "failed"
    finally:
        job.finished = time.time()
