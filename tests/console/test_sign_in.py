"""Signing in to the console: a demo client's form in development, OpenID Connect with PKCE
against a real (small) identity provider on loopback, the return path, and signing out."""

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from itsdangerous import URLSafeTimedSerializer
from pydantic import SecretStr

from service.console.session import SESSION_COOKIE, session_key
from service.console.sign_in_cookie import SIGN_IN_COOKIE, local_next
from service.core.migrate import upgrade_database
from tests.conftest import NO_LANGUAGE, serve
from tests.console.fake_idp import CLIENT_ID, CLIENT_SECRET, Idp, start_idp
from tests.console.signing import DEMO_AUTH_CLIENTS, DEMO_SCOPES, form_token, page_csrf, sign_in


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated SQLite database for the module's services (sign-in reads none of it)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('sign-in') / 'policy_match.db'}"
    upgrade_database(url)
    return url


@pytest.fixture
def console(database: str) -> Iterator[TestClient]:
    """The service in development: the demo clients sign in with their secrets."""
    with serve(database, auth_clients=DEMO_AUTH_CLIENTS) as client:
        client.follow_redirects = False
        yield client


def session_of(client: TestClient) -> dict[str, Any] | None:
    """What the session cookie holds (verified with the service's key), or None."""
    raw = client.cookies.get(SESSION_COOKIE)
    if not raw:
        return None
    settings = client.app.state.settings  # type: ignore[attr-defined]
    loaded: dict[str, Any] = URLSafeTimedSerializer(
        session_key(settings), salt="console-session"
    ).loads(raw)
    return loaded


@pytest.mark.parametrize("client_id", ["demo-platform", "demo-auditor", "demo-admin"])
def test_a_demo_client_signs_in_with_exactly_its_scopes(
    console: TestClient, client_id: str
) -> None:
    signed_in = sign_in(console, client_id)
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/console/"
    session = session_of(console)
    assert session is not None and session["sub"] == client_id
    assert set(session["scopes"]) == DEMO_SCOPES[client_id]
    cookie = signed_in.headers.get_list("set-cookie")
    assert any(c.startswith(f"{SESSION_COOKIE}=") and "HttpOnly" in c for c in cookie)
    assert any(c.startswith(f'{SIGN_IN_COOKIE}=""') for c in cookie)  # used once


def test_the_sign_in_page_speaks_the_readers_language(console: TestClient) -> None:
    page = console.get("/console/sign-in", headers=NO_LANGUAGE)
    assert page.status_code == 200 and "客户端密钥" in page.text and "登录" in page.text
    assert "客戶端密鑰" in console.get("/console/sign-in?lang=zh-Hant").text
    assert "Client secret" in console.get("/console/sign-in?lang=en").text


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("zh-Hans", "客户端未知或密钥错误"),
        ("zh-Hant", "客戶端未知或密鑰錯誤"),
        ("en", "wrong client secret"),
    ],
)
def test_a_wrong_secret_is_refused_in_the_page_language(
    console: TestClient, lang: str, words: str
) -> None:
    console.get(f"/console/?lang={lang}")
    refused = sign_in(console, "demo-platform", "not-the-secret-at-all")
    assert refused.status_code == 403 and words in refused.text
    assert session_of(console) is None


def test_a_sign_in_form_without_its_token_signs_nobody_in(console: TestClient) -> None:
    """Login CSRF: a form posted from elsewhere carries no token bound to this browser."""
    forged = console.post(
        "/console/sign-in",
        data={"client_id": "demo-platform", "client_secret": "demo-platform-secret-0001"},
    )
    assert forged.status_code == 403 and session_of(console) is None
    page = console.get("/console/sign-in")
    other = TestClient(console.app, follow_redirects=False)  # another browser, no cookie
    stolen = other.post(
        "/console/sign-in",
        data={
            "client_id": "demo-platform",
            "client_secret": "demo-platform-secret-0001",
            "csrf_token": form_token(page.text),
        },
    )
    assert stolen.status_code == 403 and SESSION_COOKIE not in other.cookies


@pytest.mark.parametrize(
    "next_path",
    [
        "https://evil.example/console/",
        "//evil.example/console/",
        "/\\evil.example",
        "\\\\evil.example",
        "/docs",
        "/console/../docs",
        "javascript:alert(1)",
        "/console/\r\nLocation: https://evil.example",
        "/consolex",
    ],
)
def test_next_is_only_ever_a_page_of_the_console(console: TestClient, next_path: str) -> None:
    signed_in = sign_in(console, "demo-platform", next=next_path)
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/console/"


def test_next_returns_to_the_console_page_asked_for(console: TestClient) -> None:
    stranger = console.get("/console/push?dead_before=5")
    assert stranger.status_code == 303
    back = stranger.headers["location"].partition("next=")[2]
    signed_in = sign_in(console, "demo-platform", next=httpx.QueryParams(f"n={back}")["n"])
    assert signed_in.headers["location"] == "/console/push?dead_before=5"
    assert local_next("/console") == "/console"


def test_signing_out_needs_the_csrf_token_and_clears_the_cookie(console: TestClient) -> None:
    sign_in(console, "demo-auditor")
    csrf = page_csrf(console)
    refused = console.post("/console/sign-out")
    assert refused.status_code == 403 and session_of(console) is not None
    out = console.post("/console/sign-out", data={"csrf_token": csrf})
    assert out.status_code == 303 and out.headers["location"] == "/console/"
    assert session_of(console) is None
    assert console.get("/console/disclosures").status_code == 303  # to sign in again


def test_without_the_token_endpoint_the_form_is_gone(database: str) -> None:
    with serve(database, auth_clients=DEMO_AUTH_CLIENTS, enable_token_endpoint=False) as client:
        page = client.get("/console/sign-in")
        assert "client_secret" not in page.text
        posted = client.post(
            "/console/sign-in",
            data={"client_id": "demo-platform", "client_secret": "demo-platform-secret-0001"},
        )
        assert posted.status_code == 404


# --- OpenID Connect with PKCE against a real provider on loopback ----------------------------


@pytest.fixture
def idp() -> Iterator[Idp]:
    """The identity provider, on a port of its own."""
    yield from start_idp()


@pytest.fixture
def production(database: str, idp: Idp) -> Iterator[TestClient]:
    """The service signing in with the provider; its access tokens are the API's tokens."""
    settings = {
        "enable_token_endpoint": False,
        "jwt_secret": None,
        "jwt_jwks_url": f"{idp.url}/jwks",
        "jwt_issuer": idp.url,
        "oidc_issuer": idp.url,
        "oidc_client_id": CLIENT_ID,
        "oidc_client_secret": SecretStr(CLIENT_SECRET),
        "oidc_redirect_url": "http://testserver/console/sign-in/callback",
        "oidc_scopes": "openid profile",
    }
    with serve(database, **settings) as client:
        client.follow_redirects = False
        yield client


def through_provider(client: TestClient, next_path: str = "/console/push") -> tuple[str, str]:
    """Start a sign-in and let the provider sign the user in: (callback path, its query)."""
    start = client.get("/console/sign-in/provider", params={"next": next_path})
    assert start.status_code == 303, start.text
    authorize = httpx.get(start.headers["location"], follow_redirects=False)
    assert authorize.status_code == 302, authorize.text
    back = httpx.URL(authorize.headers["location"])
    assert back.host == "testserver"
    return back.path, back.query.decode()


def test_a_provider_sign_in_round_trip_checks_pkce_and_grants_the_tokens_known_scopes(
    production: TestClient, idp: Idp
) -> None:
    idp.scope = "push audit:read something-else"
    page = production.get("/console/sign-in", headers=NO_LANGUAGE)
    assert "使用政府统一身份认证登录" in page.text and "client_secret" not in page.text
    path, query = through_provider(production)
    done = production.get(f"{path}?{query}")
    assert done.status_code == 303, done.text
    assert done.headers["location"] == "/console/push"
    assert idp.pkce_checked == 1 and idp.refused == []
    session = session_of(production)
    assert session is not None and session["sub"] == idp.subject
    assert set(session["scopes"]) == {"push", "audit:read"}  # the unknown scope is dropped
    assert session["exp"] <= time.time() + 600  # not past the access token's expiry
    assert production.get("/console/push").status_code == 200
    # the same answer again: the sign-in was used, and the code with it
    assert production.get(f"{path}?{query}").status_code == 400


def test_a_callback_with_another_state_is_refused_before_the_provider_is_asked(
    production: TestClient, idp: Idp
) -> None:
    path, query = through_provider(production)
    params = dict(httpx.QueryParams(query))
    params["state"] = "forged-state"
    refused = production.get(path, params=params, headers=NO_LANGUAGE)
    assert refused.status_code == 400 and "登录" in refused.text
    assert idp.pkce_checked == 0 and session_of(production) is None
    stranger = TestClient(production.app, follow_redirects=False)  # no pre-session cookie
    assert stranger.get(f"{path}?{query}").status_code == 400


def test_a_token_without_the_scope_opens_no_page_that_needs_it(
    production: TestClient, idp: Idp
) -> None:
    idp.scope = "match"
    path, query = through_provider(production, "/console/push")
    assert production.get(f"{path}?{query}").status_code == 303
    session = session_of(production)
    assert session is not None and session["scopes"] == ["match"]
    refused = production.get("/console/push", headers=NO_LANGUAGE)
    assert refused.status_code == 403 and "push" in refused.text
    assert production.get("/console/disclosures").status_code == 403


@pytest.mark.parametrize(
    "tamper",
    [
        {"id.nonce": "another-nonce"},
        {"id.aud": "another-client"},
        {"id.iss": "https://elsewhere.example"},
        {"access.aud": "another-service"},
        {"access.sub": "someone-else"},
        {"id.exp": 1_000_000},
    ],
)
def test_a_token_that_does_not_verify_signs_nobody_in(
    production: TestClient, idp: Idp, tamper: dict[str, Any]
) -> None:
    idp.tamper = tamper
    path, query = through_provider(production)
    refused = production.get(f"{path}?{query}", headers=NO_LANGUAGE)
    assert refused.status_code == 403 and "无法核验" in refused.text
    assert session_of(production) is None


def test_the_provider_refusing_or_unreachable_signs_nobody_in(
    production: TestClient, idp: Idp, tmp_path: Path
) -> None:
    path, query = through_provider(production)
    params = dict(httpx.QueryParams(query))
    refused = production.get(
        path, params={"state": params["state"], "error": "access_denied"}, headers=NO_LANGUAGE
    )
    assert refused.status_code == 403 and session_of(production) is None
    app: Any = production.app
    app.state.settings = app.state.settings.model_copy(update={"oidc_issuer": "http://127.0.0.1:9"})
    down = production.get("/console/sign-in/provider", headers={"Accept-Language": "en"})
    assert down.status_code == 503 and "cannot be reached" in down.text
