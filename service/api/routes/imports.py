"""Spreadsheet imports over HTTP: POST /v1/enterprises/imports, the job, its bad-rows workbook.

A platform client (`enterprises:write`) uploads an .xlsx, .csv or .jsonl file as
multipart/form-data (part `file`), streamed to disk and bounded by POLICY_MATCH_IMPORT_MAX_BYTES
(413 past it, nothing stored). The answer is 202 with the job and `Location`; the file is
imported in the service process (service/registry/import_runner.py) as `policy-match import`
imports it, and the job shows its progress. A file refused whole (not a workbook, unknown or
duplicated columns …) ends the job `failed` with the problem: the client polls one resource
whatever goes wrong. Jobs are the client's own: another client gets 404.
"""

from datetime import datetime
from pathlib import Path as FilePath
from pathlib import PurePath
from typing import Annotated, Any

from anyio.to_thread import run_sync
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import FileResponse, Response

from service.api.auth import EnterprisesWriter
from service.api.deps import CursorKeysDep, EngineDep, LanguageDep
from service.api.exports import workbook_answer
from service.api.import_schemas import ImportJobList, ImportJobOut, job_answer, job_location
from service.api.openapi import REF, problems
from service.api.openapi_texts import Tag
from service.api.paging import owner, page
from service.api.responses import json_answer
from service.api.uploads import FIELD, save_upload, upload_suffix, uploaded_file
from service.core.database import run_read, run_write
from service.core.errors import Conflict, Gone, NotFound, SheetRefused, Unavailable
from service.core.i18n import message
from service.core.spreadsheets import SheetFormat
from service.registry import import_jobs as jobs
from service.registry.import_runner import ImportRunner, TooBusy
from service.registry.import_work import check_whole_file

IMPORTS_PATH = "/v1/enterprises/imports"  # BodySizeLimit gives it its own, larger, bound
router = APIRouter(prefix=IMPORTS_PATH, tags=[Tag.REGISTRY])
RETRY_AFTER_SECONDS = 30
XLSX = SheetFormat.XLSX.media_type
JOB_ID = Annotated[
    str,
    Path(
        min_length=32,
        max_length=32,
        pattern="^[0-9a-f]{32}$",
        description="the job's id, from `Location`",
        examples=["3f0c2a9b0d3e4f6a8b8c9d0e1f2a3b4c"],
    ),
]
UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "contentMediaType": "application/octet-stream",
                            "description": "要导入的文件：.xlsx（可用导入模板）、.csv（UTF-8 或 "
                            "GB18030）或 .jsonl。The file: .xlsx (the import template), .csv "
                            "(UTF-8 or GB18030) or .jsonl",
                        }
                    },
                }
            }
        },
    }
}
JOB_ANSWER = {"application/json": {"schema": {"$ref": REF.format(model="ImportJobOut")}}}


def _runner(request: Request) -> ImportRunner:
    return request.app.state.imports  # type: ignore[no-any-return]


def _file_name(raw: str) -> str:
    name = PurePath(raw.replace("\\", "/")).name
    return "".join(c for c in name if c.isprintable())[:255] or "upload"


@router.post(
    "",
    operation_id="createEnterpriseImport",
    summary="上传表格导入企业 · Upload a spreadsheet of enterprises to import (a job)",
    description=(
        "以 multipart/form-data 上传（字段 `file`）.xlsx、.csv（UTF-8 或 GB18030）或 .jsonl，"
        "表头可用字段名或中文列名。答复 202 和导入任务（`Location` 是它的地址），之后查询进度；"
        "有问题的行写入结果工作簿，其余行照常保存。整份文件被拒绝（不是工作簿、表头有未知或重复的列"
        "等）时任务以 `failed` 结束并给出原因。文件大小上限见 POLICY_MATCH_IMPORT_MAX_BYTES"
        "（默认 50 MB）；排队已满时答复 503 和 Retry-After。"
    ),
    status_code=202,
    responses={
        202: {"description": "已接受，正在排队或导入。Accepted: queued", "content": JOB_ANSWER},
        **problems(400, 401, 403, 413, 415, 422, 503),
    },
    openapi_extra=UPLOAD_BODY,
)
async def create_import(
    request: Request, caller: EnterprisesWriter, engine: EngineDep, language: LanguageDep
) -> Response:
    """Stream the upload to disk, record the job, queue it: 202 with the job and `Location`."""
    runner = _runner(request)
    try:
        runner.reserve()
    except TooBusy:
        raise Unavailable(
            message("the import queue is full; try again shortly"),
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        ) from None
    upload = None
    try:
        part = await uploaded_file(request)
        file_name = _file_name(part.filename or "")
        job_id, upload = runner.upload_path(upload_suffix(part, file_name))
        await save_upload(part, upload)
        try:
            await run_sync(check_whole_file, upload, runner.limits)  # refused whole: 4xx, no job
        except SheetRefused as refused:
            raise in_the_file(refused) from None

        def record(connection: Any) -> dict[str, Any] | None:
            jobs.create_job(
                connection,
                job_id=job_id,
                client=caller.subject,
                file_name=file_name,
                language=language,
                upload_path=str(upload),
            )
            return jobs.job_row(connection, job_id)

        row = await run_write(engine, record)
    except BaseException:
        runner.release()
        if upload is not None:
            upload.unlink(missing_ok=True)
        raise
    runner.submit(job_id, upload, language, caller.subject)
    assert row is not None
    return json_answer(job_answer(row, language), 202, Location=job_location(job_id))


def in_the_file(refused: SheetRefused) -> SheetRefused:
    """The refusal with each of its `errors` placed in the upload's `file` part (a header's
    column, a sheet's cell), as every problem's errors name where they are."""
    if refused.errors:
        refused.errors = [{"field": FIELD, "in": "body", **item} for item in refused.errors]
    return refused


async def _job(engine: Any, job_id: str, client: str) -> dict[str, Any]:
    row = await run_read(engine, lambda connection: jobs.client_job(connection, job_id, client))
    if row is None:
        raise NotFound(message("no import job {id}", id=job_id))
    return row


@router.get(
    "/{job_id}",
    operation_id="getEnterpriseImport",
    summary="导入任务的进度和结果 · An import job: its progress, then its tally",
    description=(
        "任务的状态 `status` 为 queued、running、succeeded、failed 或 interrupted；"
        "`rows_read` 随每批增加，结束后给出新建、更新、未变和有问题的行数，"
        "有问题的行在 `result` 工作簿中。"
        "只有创建任务的客户端能看到它。"
    ),
    responses={200: {"description": "导入任务。The job", "content": JOB_ANSWER}},
    response_model=ImportJobOut,
)
async def get_import(
    caller: EnterprisesWriter, engine: EngineDep, language: LanguageDep, job_id: JOB_ID
) -> Response:
    """The job, with its progress; once succeeded, its tally and `result` (the bad rows)."""
    return json_answer(job_answer(await _job(engine, job_id, caller.subject), language))


@router.get(
    "/{job_id}/result.xlsx",
    operation_id="getEnterpriseImportResult",
    summary="导入结果：有问题的行 · The bad rows of a finished import, as a workbook",
    description=(
        "任务成功结束后可下载：每个未保存的行按原样列出，并附一列说明原因（按 Accept-Language）。"
        "任务未结束或失败时答复 409；结果保留 POLICY_MATCH_IMPORT_RETENTION_HOURS（默认 72 小时），"
        "之后答复 410。"
    ),
    response_class=Response,
    responses={
        200: workbook_answer("有问题的行（.xlsx 附件）。The bad rows, as an .xlsx attachment"),
        **problems(409, 410),
    },
)
async def get_import_result(
    caller: EnterprisesWriter, engine: EngineDep, job_id: JOB_ID
) -> Response:
    """The workbook of the rows not stored, each with why, once the job has succeeded."""
    row = await _job(engine, job_id, caller.subject)
    if row["status"] != jobs.SUCCEEDED:
        raise Conflict(
            message(
                "import job {id} is {status}: its result is there once it has succeeded",
                id=job_id,
                status=row["status"],
            )
        )
    if row["result_path"] is None or not FilePath(row["result_path"]).is_file():
        raise Gone(message("the result of import job {id} is no longer kept", id=job_id))
    return FileResponse(
        row["result_path"],
        media_type=XLSX,
        filename=f"import-{job_id}-bad-rows.xlsx",
        headers={"Cache-Control": "no-store"},
    )


@router.get(
    "",
    operation_id="listEnterpriseImports",
    summary="我的导入任务 · The caller's import jobs, newest first",
    description="本客户端创建的导入任务，从新到旧；用 `cursor` 翻页。",
    response_model=ImportJobList,
    responses=problems(400),
)
async def list_imports(
    caller: EnterprisesWriter,
    engine: EngineDep,
    keys: CursorKeysDep,
    language: LanguageDep,
    limit: Annotated[int, Query(ge=1, le=100, examples=[20])] = 20,
    cursor: Annotated[
        str | None,
        Query(max_length=300, description="`next_cursor` of the previous page"),
    ] = None,
) -> Response:
    """The caller's jobs, newest first; page on with `next_cursor`."""
    before = None
    if cursor is not None:
        position = keys.open(
            cursor,
            parameter="cursor",
            scope=IMPORTS_PATH,
            caller=owner(caller),
            required=frozenset({"t", "i"}),
        )
        before = (datetime.fromisoformat(str(position["t"])), str(position["i"]))
    rows = await run_read(
        engine,
        lambda connection: jobs.client_jobs(connection, caller.subject, before=before, limit=limit),
    )
    next_cursor = None
    if len(rows) == limit:
        last = rows[-1]
        next_cursor = keys.seal(
            {"t": last["created_at"].isoformat(), "i": last["id"]},
            scope=IMPORTS_PATH,
            caller=owner(caller),
        )
    return json_answer(page([job_answer(r, language) for r in rows], next_cursor))
