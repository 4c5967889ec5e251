"""One import job's work: the file imported as `policy-match import` would, its progress recorded.

A refusal of the whole file (not a workbook, a zip bomb, unknown or duplicated columns …) ends
the job failed with that problem, in every language, and nothing stored. Any other error ends it
failed with an internal problem (the rows stored before it stay stored, as they would from the
command). The bad rows are written to a workbook (its header alone when there are none), in the
language the job was asked in.
"""

import threading
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from service.core.database import write_transaction
from service.core.errors import ServiceError
from service.core.i18n import LANGUAGES, Language, Text, message, translate
from service.policy.catalogue import Catalogue
from service.registry import import_jobs as jobs
from service.registry.import_result import write_bad_rows
from service.registry.importing import ImportReport, import_file
from service.registry.sheet_reading import open_sheet
from service.registry.workbook_guard import SheetLimits

INTERNAL = message("the import stopped on an unexpected error; the rows stored before it stay")


def check_whole_file(upload: Path, limits: SheetLimits) -> None:
    """Refuse now (SheetRefused) a file its import would refuse whole: the checks of the whole
    file (a workbook, its sizes, merged cells, rows) and its header; nothing read beyond it."""
    with open_sheet(upload, limits):
        pass


class JobStopped(Exception):
    """The process is stopping: the job ends after the batch it stored."""


def counts_of(report: ImportReport, rows_read: int | None = None) -> dict[str, int]:
    """A report's counts as the job records them."""
    bad = len(report.bad)
    return {
        "rows_read": report.stored + bad if rows_read is None else rows_read,
        "created": report.created,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "bad": bad,
    }


def problem_record(status: int, slug: str, title: Text, detail: Text) -> dict[str, Any]:
    """A failed job's problem: its status and type, its title and detail in every language."""
    return {
        "status": status,
        "slug": slug,
        "title": {language: translate(title, language) for language in LANGUAGES},
        "detail": {language: translate(detail, language) for language in LANGUAGES},
    }


def refusal_record(error: ServiceError) -> dict[str, Any]:
    """The problem of a whole-file refusal."""
    return problem_record(error.status, error.slug, error.title, error.detail)


def import_job_file(
    engine: Engine,
    catalogue: Catalogue,
    job_id: str,
    upload: Path,
    *,
    result: Path,
    language: Language,
    changed_by: str,
    day: date,
    stopping: threading.Event,
    limits: SheetLimits,
) -> None:
    """Run the job: mark it running, import the file, record its progress and its end."""
    with write_transaction(engine) as connection:
        if not jobs.start_job(connection, job_id):
            return

    read = [0]

    def on_progress(rows_read: int, so_far: ImportReport) -> None:
        read[0] = rows_read
        with write_transaction(engine) as connection:
            jobs.record_progress(connection, job_id, counts_of(so_far, rows_read))
        if stopping.is_set():
            raise JobStopped

    try:
        report = import_file(
            upload,
            engine,
            catalogue,
            changed_by=changed_by,
            day=day,
            progress=False,
            on_progress=on_progress,
            limits=limits,
        )
    except ServiceError as refused:
        _finish(engine, job_id, jobs.FAILED, problem=refusal_record(refused))
        return
    except JobStopped:
        raise
    except Exception:
        _finish(
            engine, job_id, jobs.FAILED, problem=problem_record(500, "internal", INTERNAL, INTERNAL)
        )
        raise
    write_bad_rows(report, result, language)  # with no bad rows: the header alone
    counts = counts_of(report, read[0])
    _finish(engine, job_id, jobs.SUCCEEDED, counts=counts, result_path=str(result))


def _finish(engine: Engine, job_id: str, status: str, **end: Any) -> None:
    with write_transaction(engine) as connection:
        jobs.finish_job(connection, job_id, status=status, **end)
