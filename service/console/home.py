"""GET /console/: what each page of the console is for."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from service.console.pages import render
from service.console.session import ConsoleSession, public_page

router = APIRouter()


@router.get("/console")
async def console_root() -> RedirectResponse:
    """The console's address without its slash."""
    return RedirectResponse("/console/", status_code=308)


@router.get("/console/")
async def console_home(
    request: Request, session: Annotated[ConsoleSession | None, Depends(public_page)]
) -> HTMLResponse:
    """The console's front page."""
    return render(request, "home.html")
