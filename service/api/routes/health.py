"""Health endpoints: the process is up; the service is ready to answer."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from service.api.deps import EngineDep
from service.api.openapi import REF
from service.api.openapi_texts import Tag
from service.api.problems import problem
from service.core.database import run_read
from service.core.migrate import head_revision, schema_revision

router = APIRouter(tags=[Tag.HEALTH])
READY = {"x-enum-varnames": ["READY"], "x-enum-descriptions": ["已就绪"]}
_HEAD = head_revision()


@router.get(
    "/healthz",
    operation_id="getLiveness",
    summary="进程存活 · The process is up",
    description="进程运行时即答复。",
)
async def healthz() -> dict[str, str]:
    """Liveness: answers while the process runs."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    operation_id="getReadiness",
    summary="服务就绪 · The catalogue is loaded and the database reachable and migrated",
    description="政策目录已加载，数据库可以连接且已迁移到最新结构。",
    responses={
        200: {
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["status", "catalogue_version", "schema_revision"],
                        "properties": {
                            "status": {"type": "string", "enum": ["ready"]} | READY,
                            "catalogue_version": {"type": "string"},
                            "schema_revision": {"type": "string"},
                        },
                    }
                }
            }
        },
        503: {
            "description": "未就绪：数据库无法连接或未迁移。"
            "Not ready: the database is unreachable or not migrated",
            "content": {
                "application/problem+json": {"schema": {"$ref": REF.format(model="Problem")}}
            },
        },
    },
)
async def readyz(request: Request, engine: EngineDep) -> Any:
    """Readiness: the catalogue is loaded, and the database answers at the newest schema."""
    try:
        revision = await run_read(engine, schema_revision)
    except Exception as e:  # any failure to reach the database means not ready
        return _not_ready(f"the database cannot be reached ({type(e).__name__})")
    if revision != _HEAD:
        return _not_ready(
            f"the database schema is at {revision or 'nothing'}, not {_HEAD}: "
            "run `alembic upgrade head`"
        )
    return {
        "status": "ready",
        "catalogue_version": request.app.state.catalogue.version,
        "schema_revision": revision,
    }


def _not_ready(detail: str) -> Response:
    return problem(503, "Not ready", detail, "not-ready", headers={"Retry-After": "5"})
