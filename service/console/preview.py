"""/console/preview: the impact of the policies folder before it is published, and publishing it.

GET shows the preview (started as a job and polled by preview.js while it computes): per
measure added, removed or changed, its conditions before and after in plain words, the firms
that would gain and lose it by county, and the push events. The "publish" button POSTs (with
the CSRF token) and puts the folder in force, as POST /v1/catalogue/reload does; the re-match
run's page then follows its progress live. Staff with `catalogue:admin` only.
"""

import re
import time
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from service.api.deps import app_engine, app_settings
from service.api.responses import json_answer
from service.api.routes.publication import runjson_answer
from service.console.language import console_language
from service.console.pages import SECURITY_HEADERS, render
from service.console.preview_jobs import PreviewJob, PreviewJobs
from service.console.session import ConsoleSession, check_csrf, require_scope
from service.core.clock import today
from service.core.cursors import INT32_MAX
from service.core.database import run_read, run_write
from service.core.i18n import Language
from service.policy.catalogue import Catalogue, CatalogueError
from service.policy.conditions_text import conditions_lines
from service.policy.vocabulary import profile_accepts
from service.push.wake import wake_worker
from service.registry.preview_answer import preview_json
from service.registry.publication import put_in_force
from service.registry.rematch import run_record

router = APIRouter()
Admin = Annotated[ConsoleSession, Depends(require_scope("catalogue:admin"))]
JOB_ID = re.compile(r"[0-9a-f]{32}")


def _jobs(request: Request) -> PreviewJobs:
    jobs: PreviewJobs | None = getattr(request.app.state, "preview_jobs", None)
    if jobs is None:
        jobs = request.app.state.preview_jobs = PreviewJobs()
    return jobs


def _conditions(catalogue: Catalogue, measure_id: str, language: Language) -> list[str]:
    measure = catalogue.by_id.get(measure_id)
    return [] if measure is None else conditions_lines(measure, catalogue.vocabularies, language)


def _result(job: PreviewJob, language: Language) -> dict[str, Any]:
    """The finished preview as the template reads it: the answer, with each measure's
    conditions before and after."""
    assert job.preview is not None and job.candidate is not None
    body = preview_json(job.preview, job.current, job.candidate, language)
    for measure in body["measures"]:
        measure["before"] = _conditions(job.current, measure["measure_id"], language)
        measure["after"] = _conditions(job.candidate, measure["measure_id"], language)
    return body


@router.get("/console/preview")
async def preview_page(request: Request, session: Admin, fresh: bool = False) -> HTMLResponse:
    """The impact of the policies folder: its progress while it computes, then the result."""
    current: Catalogue = request.app.state.catalogue
    policies_dir = app_settings(request).policies_dir
    job = _jobs(request).start(app_engine(request), current, policies_dir, today(), fresh=fresh)
    if job.state == "refused":
        return render(request, "preview.html", {"problems": job.problems}, status=422)
    context: dict[str, Any] = {"job": job, "problems": None}
    if job.state == "done":
        context["result"] = _result(job, console_language(request))
        context["computed"] = time.strftime("%H:%M:%S UTC", time.gmtime(job.finished))
    return render(request, "preview.html", context)


@router.get("/console/preview/jobs/{job_id}")
async def preview_job(request: Request, session: Admin, job_id: str) -> JSONResponse:
    """A job's progress, for preview.js."""
    job = _jobs(request).get(job_id) if JOB_ID.fullmatch(job_id) else None
    if job is None:
        return JSONResponse({"state": "unknown"}, 404, headers=SECURITY_HEADERS)
    body = {"state": job.state, "done": job.done, "total": job.total}
    return JSONResponse(body, headers=SECURITY_HEADERS)


@router.post("/console/preview/publish", dependencies=[Depends(check_csrf)])
async def publish_previewed(
    request: Request,
    session: Admin,
    catalogue_version: Annotated[str, Form(max_length=64)],
) -> Response:
    """Put the previewed policies folder in force; to its re-match run's page."""
    jobs = _jobs(request)
    try:
        loaded = await run_in_threadpool(jobs.candidate, app_settings(request).policies_dir)
    except CatalogueError as e:
        return render(request, "preview.html", {"problems": e.problems}, status=422)
    refusal = None
    if loaded.version != catalogue_version:
        refusal = "changed"
    elif not profile_accepts(loaded.vocabularies):
        refusal = "vocabularies"
    if refusal is not None:
        return render(request, "preview_refused.html", {"refusal": refusal}, status=409)
    day: date = today()

    def in_force(connection: Any) -> int | None:
        return put_in_force(connection, loaded, by=session.subject, day=day).rematch_run

    run_id = await run_write(app_engine(request), in_force)
    request.app.state.catalogue = loaded
    wake_worker(request.app.state, upkeep=True)
    where = "/console/preview" if run_id is None else f"/console/preview/runs/{run_id}"
    response = RedirectResponse(where, status_code=303)
    response.headers.update(SECURITY_HEADERS)
    return response


RunId = Annotated[int, Path(ge=1, le=INT32_MAX)]


@router.get("/console/preview/runs/{run_id}")
async def run_page(request: Request, session: Admin, run_id: RunId) -> HTMLResponse:
    """A re-match run's progress, followed live by preview.js."""
    run = await run_read(app_engine(request), lambda c: run_record(c, run_id))
    if run is None:
        return render(request, "preview_run.html", {"run": None, "run_id": run_id}, status=404)
    return render(request, "preview_run.html", {"run": runjson_answer(run), "run_id": run_id})


@router.get("/console/preview/runs/{run_id}/state")
async def run_state(request: Request, session: Admin, run_id: RunId) -> Response:
    """A re-match run as GET /v1/catalogue/rematches/{id} answers it, for preview.js."""
    run = await run_read(app_engine(request), lambda c: run_record(c, run_id))
    if run is None:
        return JSONResponse({"state": "unknown"}, 404, headers=SECURITY_HEADERS)
    return json_answer(runjson_answer(run), 200, **SECURITY_HEADERS)
