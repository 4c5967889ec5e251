"""Import jobs as rows: created queued, run, finished; only their client sees them.

A job moves queued -> running -> succeeded | failed, or to interrupted when the process running
it stops first. Its `runner` is the process (`host:pid`); its `heartbeat_at` moves with every
batch it stores, and with every batch of a job ahead of it in that process. At start-up a process
marks interrupted every queued or running job whose runner is gone: a process of this host that
no longer exists (or is this very process: a restart with the same pid), or, for another host's,
a heartbeat older than STALE_AFTER (a batch never takes that long: a write waits 30 s at most).
"""

import os
import socket
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, or_, select, update

from service.core.tables import IMPORT_JOB, as_utc, utcnow

QUEUED, RUNNING, SUCCEEDED, FAILED, INTERRUPTED = (
    "queued",
    "running",
    "succeeded",
    "failed",
    "interrupted",
)
UNFINISHED = (QUEUED, RUNNING)
COUNTS = ("rows_read", "created", "updated", "unchanged", "bad")
STALE_AFTER = timedelta(minutes=10)
_PRIVATE = ("runner", "upload_path", "result_path", "heartbeat_at", "language")


def this_runner() -> str:
    """This process as a job's runner: its host and pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


def create_job(
    connection: Connection,
    *,
    job_id: str,
    client: str,
    file_name: str,
    language: str,
    upload_path: str,
) -> None:
    """Record a queued job for an uploaded file."""
    now = utcnow()
    connection.execute(
        IMPORT_JOB.insert().values(
            id=job_id,
            client=client,
            file_name=file_name,
            status=QUEUED,
            language=language,
            rows_read=0,
            created=0,
            updated=0,
            unchanged=0,
            bad=0,
            created_at=now,
            heartbeat_at=now,
            runner=this_runner(),
            upload_path=upload_path,
        )
    )


def job_row(connection: Connection, job_id: str) -> dict[str, Any] | None:
    """The job's whole row, or None."""
    row = connection.execute(select(IMPORT_JOB).where(IMPORT_JOB.c.id == job_id)).first()
    return None if row is None else dict(row._mapping)


def client_job(connection: Connection, job_id: str, client: str) -> dict[str, Any] | None:
    """The job if `client` created it (None otherwise: another's job does not exist for it)."""
    row = job_row(connection, job_id)
    return row if row is not None and row["client"] == client else None


def client_jobs(
    connection: Connection, client: str, *, before: tuple[datetime, str] | None, limit: int
) -> list[dict[str, Any]]:
    """The client's jobs, newest first, those after `before` (created_at, id) when given."""
    query = select(IMPORT_JOB).where(IMPORT_JOB.c.client == client)
    if before is not None:
        at, job_id = before
        query = query.where(
            or_(
                IMPORT_JOB.c.created_at < at,
                and_(IMPORT_JOB.c.created_at == at, IMPORT_JOB.c.id < job_id),
            )
        )
    query = query.order_by(IMPORT_JOB.c.created_at.desc(), IMPORT_JOB.c.id.desc()).limit(limit)
    return [dict(r._mapping) for r in connection.execute(query)]


def public_job(row: dict[str, Any]) -> dict[str, Any]:
    """The job without what only the service needs (paths, runner, heartbeat)."""
    return {k: v for k, v in row.items() if k not in _PRIVATE}


def start_job(connection: Connection, job_id: str) -> bool:
    """Mark a queued job running; False if it is no longer queued (interrupted meanwhile)."""
    now = utcnow()
    moved = connection.execute(
        update(IMPORT_JOB)
        .where(IMPORT_JOB.c.id == job_id, IMPORT_JOB.c.status == QUEUED)
        .values(status=RUNNING, started_at=now, heartbeat_at=now, runner=this_runner())
    )
    return moved.rowcount == 1


def record_progress(connection: Connection, job_id: str, counts: dict[str, int]) -> None:
    """The job's counts so far (rows read, created, updated, unchanged, bad); this runner's
    unfinished jobs' heartbeats move with it."""
    now = utcnow()
    connection.execute(
        update(IMPORT_JOB).where(IMPORT_JOB.c.id == job_id).values(**counts, heartbeat_at=now)
    )
    connection.execute(
        update(IMPORT_JOB)
        .where(IMPORT_JOB.c.runner == this_runner(), IMPORT_JOB.c.status.in_(UNFINISHED))
        .values(heartbeat_at=now)
    )


def finish_job(
    connection: Connection,
    job_id: str,
    *,
    status: str,
    counts: dict[str, int] | None = None,
    problem: dict[str, Any] | None = None,
    result_path: str | None = None,
) -> None:
    """The job's end: its status, final counts, problem (failed) and result file."""
    values: dict[str, Any] = {"status": status, "finished_at": utcnow(), "upload_path": None}
    values |= {k: counts[k] for k in COUNTS} if counts else {}
    connection.execute(
        update(IMPORT_JOB)
        .where(IMPORT_JOB.c.id == job_id)
        .values(**values, problem=problem, result_path=result_path)
    )


def _runner_gone(runner: str, heartbeat: datetime, now: datetime) -> bool:
    host, _, pid = runner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return now - as_utc(heartbeat) > STALE_AFTER
    if int(pid) == os.getpid():
        return True  # a job of this process, at its start: left by an earlier one with our pid
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, another user's
    return False


def interrupt_orphans(connection: Connection) -> list[dict[str, Any]]:
    """Mark interrupted every unfinished job whose runner is gone; those jobs' rows as they were."""
    now = utcnow()
    rows = connection.execute(select(IMPORT_JOB).where(IMPORT_JOB.c.status.in_(UNFINISHED))).all()
    orphans = [dict(r._mapping) for r in rows if _runner_gone(r.runner, r.heartbeat_at, now)]
    interrupt(connection, [o["id"] for o in orphans])
    return orphans


def interrupt(connection: Connection, job_ids: Sequence[str]) -> None:
    """Mark these jobs interrupted, if they have not finished."""
    if job_ids:
        connection.execute(
            update(IMPORT_JOB)
            .where(IMPORT_JOB.c.id.in_(job_ids), IMPORT_JOB.c.status.in_(UNFINISHED))
            .values(status=INTERRUPTED, finished_at=utcnow(), upload_path=None)
        )


def expired_results(connection: Connection, before: datetime) -> list[dict[str, Any]]:
    """Finished jobs whose result file is older than `before`: forget the file, give their rows."""
    rows = connection.execute(
        select(IMPORT_JOB.c.id, IMPORT_JOB.c.result_path).where(
            IMPORT_JOB.c.result_path.is_not(None), IMPORT_JOB.c.finished_at < before
        )
    ).all()
    if rows:
        connection.execute(
            update(IMPORT_JOB)
            .where(IMPORT_JOB.c.id.in_([r.id for r in rows]))
            .values(result_path=None)
        )
    return [dict(r._mapping) for r in rows]
