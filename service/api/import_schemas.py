"""Answer shapes of the import jobs (/v1/enterprises/imports), declared for the OpenAPI document,
and the one function that writes a job as the API answers it."""

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from service.api.schemas import Problem
from service.core.clock import utc_text
from service.core.errors import PROBLEM_BASE
from service.core.i18n import Language
from service.policy.profile import enum_labels

STATUS_LABELS = {
    "queued": "排队中",
    "running": "导入中",
    "succeeded": "已完成",
    "failed": "失败",
    "interrupted": "已中断",
}
_TIMES = ("created_at", "started_at", "finished_at")


class ImportJobOut(BaseModel):
    """An import of an uploaded file: its status, its progress and, when done, its tally."""

    id: str = Field(examples=["3f0c2a9b0d3e4f6a8b8c9d0e1f2a3b4c"])
    file_name: str = Field(examples=["企业名单.xlsx"])
    status: Annotated[
        Literal["queued", "running", "succeeded", "failed", "interrupted"],
        Field(json_schema_extra=enum_labels(STATUS_LABELS)),
    ] = Field(
        description="queued → running → succeeded (bad rows, if any, are in `result`) | failed "
        "(the whole file refused: `problem`) | interrupted (the service stopped; what was stored "
        "stays; upload the file again)"
    )
    rows_read: int = Field(description="data rows read so far (header excluded)")
    created: int = Field(description="firms stored for the first time")
    updated: int = Field(description="firms whose stored profile changed")
    unchanged: int = Field(description="firms whose stored profile was the same")
    bad: int = Field(description="rows not stored; each is in the `result` workbook")
    problem: Problem | None = Field(description="why the whole file was refused (failed)")
    result: str | None = Field(
        description="the bad-rows workbook, once the job has succeeded with bad rows (kept for "
        "POLICY_MATCH_IMPORT_RETENTION_HOURS, 72 by default)",
        examples=["/v1/enterprises/imports/3f0c2a9b0d3e4f6a8b8c9d0e1f2a3b4c/result.xlsx"],
    )
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class ImportJobList(BaseModel):
    """The caller's import jobs, newest first."""

    items: list[ImportJobOut]
    next_cursor: str | None = Field(description="the next page's cursor; null on the last")


def job_location(job_id: str) -> str:
    """The job's address."""
    return f"/v1/enterprises/imports/{job_id}"


def job_answer(row: dict[str, Any], language: Language) -> dict[str, Any]:
    """A job's row as the API answers it, its problem in `language`."""
    problem = row["problem"]
    result = f"{job_location(row['id'])}/result.xlsx" if row["result_path"] else None
    answer: dict[str, Any] = {
        "id": row["id"],
        "file_name": row["file_name"],
        "status": row["status"],
        **{k: row[k] for k in ("rows_read", "created", "updated", "unchanged", "bad")},
        "problem": None
        if problem is None
        else {
            "type": PROBLEM_BASE + problem["slug"],
            "title": problem["title"][language],
            "status": problem["status"],
            "detail": problem["detail"][language],
        },
        "result": result,
    }
    for name in _TIMES:
        answer[name] = None if row[name] is None else utc_text(row[name])
    return answer
