"""Putting an edited catalogue in force: POST /v1/catalogue/reload, and the re-match it starts.

Policy staff edit the YAML in the policies folder and run `policy-match check`; an admin
(`catalogue:admin`) then reloads. A catalogue that fails its checks or cases is refused with
every problem named, and the one in force stays. A new one is published (every process and
worker follows the newest publication) and every stored firm is re-matched in batches; the
run's resource shows its progress and, at the end, how many firms gained or lost each measure.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from service.api.auth import CatalogueAdmin
from service.api.deps import EngineDep, app_settings
from service.api.openapi import REF, problems
from service.api.openapi_texts import Tag
from service.api.paging import page
from service.api.responses import json_answer
from service.api.schemas import CatalogueReload, RematchList, RematchRunOut
from service.core.clock import today, utc_text
from service.core.cursors import INT32_MAX
from service.core.database import run_read, run_write
from service.core.errors import Conflict, NotFound, Unprocessable
from service.core.i18n import message
from service.core.tables import RUN
from service.matching.cases import load_checked_catalogue
from service.policy.catalogue import Catalogue, CatalogueError
from service.policy.changes import measure_changes
from service.policy.vocabulary import profile_accepts
from service.push.wake import wake_worker
from service.registry.publication import put_in_force
from service.registry.rematch import run_record

router = APIRouter(prefix="/v1/catalogue", tags=[Tag.CATALOGUE_ADMIN])


def folder_refused(error: CatalogueError) -> Unprocessable:
    """The 422 of a policies folder that fails its checks or cases, naming every problem."""
    return Unprocessable(
        message(
            "the policies folder fails {count} check(s); the catalogue in force stays",
            count=len(error.problems),
        ),
        errors=[
            {"field": "policies", "in": "catalogue", "message": p, "type": "catalogue"}
            for p in error.problems
        ],
    )


RUN_TIMES = ("requested_at", "started_at", "finished_at")


def runjson_answer(run: dict[str, Any]) -> dict[str, Any]:
    """A re-match run as the API answers it."""
    answer = {k: v for k, v in run.items() if k not in ("lease_until", "worker")}
    for name in RUN_TIMES:
        if answer.get(name) is not None:
            answer[name] = utc_text(answer[name])
    return answer


@router.post(
    "/reload",
    operation_id="reloadCatalogue",
    summary=(
        "重新加载政策目录并生效 · Load the policies folder again and put it in force; re-match "
        "every stored firm"
    ),
    description=(
        "目录未变时答复 200；有新目录时答复 202 并附排队的重新匹配（按 `Location` 查看进度和统计）"
        "。未通过检查或用例的目录会被拒绝并列出全部问题，现行目录保持不变。"
    ),
    response_model=CatalogueReload,
    responses={
        202: {
            "description": "新目录已生效，排队的重新匹配正在运行。"
            "A new catalogue is in force; the re-match it queued is running",
            "content": {
                "application/json": {"schema": {"$ref": REF.format(model="CatalogueReload")}}
            },
        },
        **problems(401, 403, 409, 422, 503),
    },
)
async def reload_catalogue(request: Request, caller: CatalogueAdmin, engine: EngineDep) -> Response:
    """200 when the folder holds the catalogue already in force; 202 with the queued re-match
    when it holds a new one (follow `Location` for its progress and tally)."""
    settings = app_settings(request)
    try:
        loaded = await run_in_threadpool(load_checked_catalogue, settings.policies_dir)
    except CatalogueError as e:
        raise folder_refused(e) from None
    if not profile_accepts(loaded.vocabularies):
        raise Conflict(
            message(
                "the vocabularies changed: the profile schema is built from them when the service "
                "starts, so restart it to put this catalogue in force"
            )
        )
    previous: Catalogue = request.app.state.catalogue
    day = today()

    def in_force(connection: Any) -> dict[str, Any] | None:
        queued = put_in_force(connection, loaded, by=caller.subject, day=day).rematch_run
        return None if queued is None else run_record(connection, queued)

    run = await run_write(engine, in_force)
    request.app.state.catalogue = loaded
    wake_worker(request.app.state, upkeep=True)
    body = {
        "catalogue_version": loaded.version,
        "previous_version": previous.version,
        "changed": loaded.version != previous.version,
        **measure_changes(previous, loaded),
        "rematch": None if run is None else runjson_answer(run),
    }
    if run is None:
        return json_answer(body)
    return json_answer(body, 202, Location=f"/v1/catalogue/rematches/{run['id']}")


@router.get(
    "/rematches",
    operation_id="listRematches",
    summary="最近的重新匹配 · The latest re-match runs, newest first",
    description="最近 20 次：重新加载后的，以及每天换日时的定时运行"
    "（一页，`next_cursor` 为 null）。",
    response_model=RematchList,
    responses=problems(401, 403),
)
async def rematches(caller: CatalogueAdmin, engine: EngineDep) -> Response:
    """The 20 latest runs: after reloads, and the scheduled ones of each new day (one page:
    `next_cursor` is null)."""

    def latest(connection: Any) -> list[dict[str, Any]]:
        rows = connection.execute(select(RUN).order_by(RUN.c.id.desc()).limit(20)).all()
        return [runjson_answer(dict(r._mapping)) for r in rows]

    return json_answer(page(await run_read(engine, latest)))


@router.get(
    "/rematches/{run_id}",
    operation_id="getRematch",
    summary=(
        "一次重新匹配 · A re-match run: its progress, then how many firms gained or lost each "
        "measure"
    ),
    description=(
        "运行中显示 `firms_done` / `firms_total`；结束后 `gained` 和 `lost` 按措施统计企业数。"
    ),
    response_model=RematchRunOut,
    responses=problems(401, 403, 404, 422),
)
async def rematch(
    caller: CatalogueAdmin,
    engine: EngineDep,
    run_id: Annotated[int, Path(ge=1, le=INT32_MAX, examples=[1])],
) -> Response:
    """`firms_done` of `firms_total` while it runs; `gained` and `lost` count firms per measure."""
    run = await run_read(engine, lambda c: run_record(c, run_id))
    if run is None:
        raise NotFound(message("no re-match run {id}", id=run_id))
    return json_answer(runjson_answer(run))
