"""The console's frame: language, headers, the signed session and what a missing sign-in,
scope or CSRF token gets (the pages themselves are tested beside their modules)."""

import time

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, PlainTextResponse
from fastapi.testclient import TestClient

from service.console.app import install_console
from service.console.pages import render
from service.console.session import (
    SESSION_COOKIE,
    check_csrf,
    new_session,
    read_session,
    require_scope,
    write_session,
)
from tests.conftest import NO_LANGUAGE, TEST_SETTINGS


def console_app() -> FastAPI:
    """The console's frame on a bare application, with a page that needs `catalogue:admin`,
    a POST that needs the CSRF token, and a way to sign in as the test wishes."""
    app = FastAPI()
    app.state.settings = TEST_SETTINGS
    router = APIRouter()

    @router.get("/console/admin-only", dependencies=[Depends(require_scope("catalogue:admin"))])
    async def admin_only(request: Request) -> HTMLResponse:
        return render(request, "home.html")

    @router.post("/console/act", dependencies=[Depends(check_csrf)])
    async def act() -> PlainTextResponse:
        return PlainTextResponse("done")

    @router.get("/test-sign-in")
    async def sign_in(request: Request, scopes: str = "") -> PlainTextResponse:
        session = new_session("staff-1", frozenset(scopes.split()), 600)
        response = PlainTextResponse(session.csrf)
        write_session(response, request, session)
        return response

    @router.get("/test-session")
    async def who(request: Request) -> PlainTextResponse:
        session = read_session(request)
        return PlainTextResponse(session.subject if session else "nobody")

    app.include_router(router)
    install_console(app)
    return app


def test_the_console_speaks_simplified_chinese_first_and_switches_on_request() -> None:
    client = TestClient(console_app())
    page = client.get("/console/", headers=NO_LANGUAGE)
    assert page.status_code == 200 and page.headers["content-language"] == "zh-Hans"
    assert "政策工作台" in page.text and "政策计算器" in page.text
    traditional = client.get("/console/?lang=zh-Hant")
    assert traditional.headers["content-language"] == "zh-Hant" and "政策計算器" in traditional.text
    # the switch is remembered for the next page
    assert client.get("/console/", headers=NO_LANGUAGE).headers["content-language"] == "zh-Hant"
    english = client.get("/console/?lang=en")
    assert "Policy calculator" in english.text


def test_every_page_is_told_to_load_nothing_from_elsewhere() -> None:
    page = TestClient(console_app()).get("/console/")
    policy = page.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "http://" not in page.text and "https://" not in page.text
    assert TestClient(console_app()).get("/console/static/console.css").status_code == 200


def test_a_page_that_needs_a_scope_sends_a_stranger_to_sign_in_and_refuses_the_wrong_scope() -> (
    None
):
    client = TestClient(console_app(), follow_redirects=False)
    stranger = client.get("/console/admin-only?x=1")
    assert stranger.status_code == 303
    assert stranger.headers["location"] == "/console/sign-in?next=%2Fconsole%2Fadmin-only%3Fx%3D1"
    client.get("/test-sign-in", params={"scopes": "match push"})
    refused = client.get("/console/admin-only", headers=NO_LANGUAGE)
    assert refused.status_code == 403 and "catalogue:admin" in refused.text
    client.get("/test-sign-in", params={"scopes": "catalogue:admin"})
    assert client.get("/console/admin-only").status_code == 200


def test_the_session_cookie_is_signed_httponly_lax_and_a_tampered_one_is_nobody() -> None:
    client = TestClient(console_app())
    answer = client.get("/test-sign-in", params={"scopes": "push"})
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/console" in cookie
    assert client.get("/test-session").text == "nobody"  # the cookie's path is /console
    value = client.cookies[SESSION_COOKIE]
    tampered = value[:-2] + ("A" if value[-2] != "A" else "B") + value[-1]
    app = console_app()

    @app.get("/console/who")
    async def who(request: Request) -> PlainTextResponse:
        session = read_session(request)
        return PlainTextResponse(session.subject if session else "nobody")

    fresh = TestClient(app)
    fresh.cookies.set(SESSION_COOKIE, value)
    assert fresh.get("/console/who").text == "staff-1"
    fresh.cookies.set(SESSION_COOKIE, tampered)
    assert fresh.get("/console/who").text == "nobody"


def test_an_expired_session_is_nobody() -> None:
    app = console_app()

    @app.get("/console/expired-sign-in")
    async def expired(request: Request) -> PlainTextResponse:
        session = new_session("staff-2", frozenset({"push"}), 600)
        response = PlainTextResponse("")
        object.__setattr__(session, "expires", time.time() - 1)
        write_session(response, request, session)
        return response

    @app.get("/console/who")
    async def who(request: Request) -> PlainTextResponse:
        session = read_session(request)
        return PlainTextResponse(session.subject if session else "nobody")

    client = TestClient(app)
    client.get("/console/expired-sign-in")
    assert client.get("/console/who").text == "nobody"


def test_a_post_without_the_sessions_csrf_token_is_refused_and_does_nothing() -> None:
    client = TestClient(console_app())
    assert client.post("/console/act", data={}).status_code == 403  # no session at all
    client.get("/test-sign-in", params={"scopes": "push"})
    token = client.get("/test-sign-in", params={"scopes": "push"}).text
    assert client.post("/console/act", data={"csrf_token": "forged"}).status_code == 403
    assert client.post("/console/act", data={}).status_code == 403
    assert client.post("/console/act", data={"csrf_token": token}).text == "done"
    assert client.post("/console/act", headers={"X-CSRF-Token": token}).text == "done"


def test_the_language_switch_keeps_the_pages_query() -> None:
    page = TestClient(console_app()).get("/console/?county=440781&x=a%26b", headers=NO_LANGUAGE)
    assert 'href="?county=440781&amp;x=a%26b&amp;lang=en"' in page.text
    assert 'href="?county=440781&amp;x=a%26b&amp;lang=zh-Hant"' in page.text
