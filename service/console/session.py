"""The console's session: a signed, HttpOnly, SameSite=Lax cookie that expires, holding who
signed in, the scopes their token granted (never more), and the session's CSRF token.

Signed with itsdangerous (the signer Starlette's own sessions use) under
POLICY_MATCH_CONSOLE_SESSION_SECRET, or a key derived from the JWT secret when that is unset.
Only the console's routes read it: the API is untouched (bearer tokens only).
"""

import hashlib
import hmac
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from service.api.deps import app_settings
from service.core.settings import Settings

SESSION_COOKIE = "console_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


@dataclass(frozen=True)
class ConsoleSession:
    """Who signed in, what their token allows, until when, and the session's CSRF token."""

    subject: str
    scopes: frozenset[str]
    expires: float
    csrf: str
    bank_id: str | None = None

    def allows(self, scope: str) -> bool:
        """Whether the session's token granted `scope`."""
        return scope in self.scopes


class SignInRequired(Exception):
    """A page that needs a signed-in session was asked for without one."""

    def __init__(self, scope: str | None) -> None:
        super().__init__(scope)
        self.scope = scope


class ScopeMissing(Exception):
    """A signed-in session lacks the scope a page needs."""

    def __init__(self, scope: str) -> None:
        super().__init__(scope)
        self.scope = scope


class CsrfRefused(Exception):
    """A POST without the session's CSRF token."""


def session_key(settings: Settings) -> bytes:
    """The key sessions are signed with: the console's own secret, else one derived from the
    JWT secret (so every worker of a deployment agrees), else a per-process random key."""
    own = settings.console_session_secret
    if own is not None:
        return own.get_secret_value().encode()
    if settings.jwt_secret is not None:
        secret = settings.jwt_secret.get_secret_value().encode()
        return hmac.new(secret, b"policy-match console session", hashlib.sha256).digest()
    return _PROCESS_KEY


_PROCESS_KEY = secrets.token_bytes(32)


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(session_key(settings), salt="console-session")


def read_session(request: Request) -> ConsoleSession | None:
    """The request's session when its cookie is present, signed by us and not expired."""
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw or len(raw) > 8192:
        return None
    settings = app_settings(request)
    try:
        data: dict[str, Any] = _serializer(settings).loads(raw)
    except BadSignature:
        return None
    try:
        session = ConsoleSession(
            subject=str(data["sub"]),
            scopes=frozenset(str(s) for s in data["scopes"]),
            expires=float(data["exp"]),
            csrf=str(data["csrf"]),
            bank_id=data.get("bank_id"),
        )
    except (KeyError, TypeError, ValueError):
        return None
    return session if session.expires > time.time() else None


def write_session(response: Response, request: Request, session: ConsoleSession) -> None:
    """Set the session cookie on `response`: signed, HttpOnly, SameSite=Lax, expiring with it."""
    settings = app_settings(request)
    data = {
        "sub": session.subject,
        "scopes": sorted(session.scopes),
        "exp": session.expires,
        "csrf": session.csrf,
        "bank_id": session.bank_id,
    }
    response.set_cookie(
        SESSION_COOKIE,
        _serializer(settings).dumps(data),
        max_age=max(1, int(session.expires - time.time())),
        httponly=True,
        samesite="lax",
        secure=settings.environment == "production",
        path="/console",
    )


def end_session(response: Response) -> None:
    """Remove the session cookie."""
    response.delete_cookie(SESSION_COOKIE, path="/console")


def new_session(
    subject: str, scopes: frozenset[str], lifetime_seconds: float, bank_id: str | None = None
) -> ConsoleSession:
    """A fresh session for a verified token's subject and scopes, with its own CSRF token."""
    return ConsoleSession(
        subject=subject,
        scopes=scopes,
        expires=time.time() + lifetime_seconds,
        csrf=secrets.token_urlsafe(32),
        bank_id=bank_id,
    )


def require_scope(scope: str) -> Callable[[Request], Awaitable[ConsoleSession]]:
    """A page dependency: the session when it holds `scope`; otherwise sign-in or refusal."""

    async def session_with_scope(request: Request) -> ConsoleSession:
        session = read_session(request)
        if session is None:
            raise SignInRequired(scope)
        if not session.allows(scope):
            raise ScopeMissing(scope)
        return session

    return session_with_scope


async def public_page(request: Request) -> ConsoleSession | None:
    """A page dependency for pages 1–4: open unless POLICY_MATCH_CONSOLE_PUBLIC=false, when
    any signed-in session may read them."""
    session = read_session(request)
    if session is None and not app_settings(request).console_public:
        raise SignInRequired(None)
    return session


async def check_csrf(request: Request) -> None:
    """A POST dependency: the form field or header must carry the session's CSRF token."""
    session = read_session(request)
    given = request.headers.get(CSRF_HEADER)
    if given is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    if session is None or not given or not hmac.compare_digest(given, session.csrf):
        raise CsrfRefused()
