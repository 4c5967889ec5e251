"""What a sign-in keeps between its two requests, and where it may send the browser after.

The pre-session cookie is signed (itsdangerous, under the session's key with its own salt),
HttpOnly, SameSite=Lax (the provider's redirect back is a top-level GET, which Lax lets through)
and lives ten minutes on /console/sign-in only. It holds the login form's CSRF token (login
CSRF: a forged form cannot sign a victim in as the forger) or the OpenID Connect attempt's
state, nonce and code verifier, and the page to return to.
"""

import secrets
from typing import Any
from urllib.parse import urlsplit

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from service.api.deps import app_settings
from service.api.oidc import Attempt
from service.console.session import session_key

SIGN_IN_COOKIE = "console_sign_in"
SIGN_IN_SECONDS = 600
COOKIE_PATH = "/console/sign-in"
HOME = "/console/"
MAX_NEXT = 2000


def local_next(raw: str | None) -> str:
    """The page to return to: `raw` when it is a path of the console on this origin, else the
    console's front page (no open redirect: no scheme, host, `//`, backslash or control)."""
    if not raw or len(raw) > MAX_NEXT or "\\" in raw or any(ord(c) < 0x20 for c in raw):
        return HOME
    parts = urlsplit(raw)
    if parts.scheme or parts.netloc or raw.startswith("//"):
        return HOME
    if parts.path != "/console" and not parts.path.startswith("/console/"):
        return HOME
    if "/.." in parts.path or parts.path.startswith(COOKIE_PATH):
        return HOME
    return raw


def _serializer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(session_key(app_settings(request)), salt="console-sign-in")


def login_csrf() -> str:
    """A fresh CSRF token for the sign-in form (bound to the pre-session cookie)."""
    return secrets.token_urlsafe(32)


def start_sign_in(
    response: Response,
    request: Request,
    next_path: str,
    attempt: Attempt | None = None,
    csrf: str | None = None,
) -> None:
    """Set the pre-session cookie for a form (its CSRF token) or an OpenID Connect attempt."""
    data: dict[str, Any] = {"csrf": csrf or login_csrf(), "next": next_path}
    if attempt is not None:
        data |= {"state": attempt.state, "nonce": attempt.nonce, "verifier": attempt.code_verifier}
    response.set_cookie(
        SIGN_IN_COOKIE,
        _serializer(request).dumps(data),
        max_age=SIGN_IN_SECONDS,
        httponly=True,
        samesite="lax",
        secure=app_settings(request).environment == "production",
        path=COOKIE_PATH,
    )


def sign_in_under_way(request: Request) -> dict[str, str] | None:
    """The pre-session cookie's contents when it is ours and not ten minutes old."""
    raw = request.cookies.get(SIGN_IN_COOKIE)
    if not raw or len(raw) > 4096:
        return None
    try:
        data = _serializer(request).loads(raw, max_age=SIGN_IN_SECONDS)
    except BadSignature:
        return None
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        return None
    return data


def attempt_of(data: dict[str, str]) -> Attempt | None:
    """The OpenID Connect attempt the cookie holds, if it holds one."""
    if not all(k in data for k in ("state", "nonce", "verifier")):
        return None
    return Attempt(state=data["state"], nonce=data["nonce"], code_verifier=data["verifier"])


def end_sign_in(response: Response) -> None:
    """Remove the pre-session cookie (a sign-in is used once)."""
    response.delete_cookie(SIGN_IN_COOKIE, path=COOKIE_PATH)
