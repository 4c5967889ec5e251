"""Mounting the console on the application: its pages' routers, its static files, and how a
page answers a missing sign-in (303 to the sign-in page), a missing scope or CSRF token (403)."""

from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from service.console import (
    calculator,
    disclosures,
    home,
    measures,
    plan,
    preview,
    progress,
    push,
    sign_in,
)
from service.console.pages import SECURITY_HEADERS, render
from service.console.session import CsrfRefused, ScopeMissing, SignInRequired

STATIC_DIR = Path(__file__).with_name("static")
SIGN_IN_PATH = "/console/sign-in"

# Each page's router; a page module adds itself here.
ROUTERS: tuple[APIRouter, ...] = (
    home.router,
    plan.router,
    measures.router,
    calculator.router,
    progress.router,
    preview.router,
    sign_in.router,
    push.router,
    disclosures.router,
)


def install_console(app: FastAPI) -> None:
    """Serve /console/ and its pages (not in the OpenAPI document)."""
    for router in ROUTERS:
        app.include_router(router, include_in_schema=False)
    app.mount("/console/static", StaticFiles(directory=STATIC_DIR), name="console-static")
    app.add_exception_handler(SignInRequired, _sign_in_first)  # type: ignore[arg-type]
    app.add_exception_handler(ScopeMissing, _scope_missing)  # type: ignore[arg-type]
    app.add_exception_handler(CsrfRefused, _csrf_refused)  # type: ignore[arg-type]


async def _sign_in_first(request: Request, exc: SignInRequired) -> Response:
    """A page that needs a session: to the sign-in page, coming back here afterwards."""
    back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    response = RedirectResponse(f"{SIGN_IN_PATH}?next={quote(back, safe='')}", status_code=303)
    response.headers.update(SECURITY_HEADERS)
    return response


async def _scope_missing(request: Request, exc: ScopeMissing) -> HTMLResponse:
    """A signed-in person whose token lacks the page's scope."""
    return render(request, "refused.html", {"reason": "scope", "scope": exc.scope}, status=403)


async def _csrf_refused(request: Request, exc: CsrfRefused) -> HTMLResponse:
    """A POST without the session's CSRF token: nothing was done."""
    return render(request, "refused.html", {"reason": "csrf", "scope": None}, status=403)
