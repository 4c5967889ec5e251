"""Health endpoints: the process is up; the service is ready to answer."""

from fastapi import APIRouter, Request

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is up")
async def healthz() -> dict[str, str]:
    """Liveness: answers while the process runs."""
    return {"status": "ok"}


@router.get("/readyz", summary="The catalogue is loaded")
async def readyz(request: Request) -> dict[str, str]:
    """Readiness: the catalogue is loaded (the database joins this with the registry)."""
    return {"status": "ready", "catalogue_version": request.app.state.catalogue.version}
