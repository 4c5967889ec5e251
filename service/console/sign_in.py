"""GET/POST /console/sign-in, the identity provider's way back, and POST /console/sign-out.

Two ways in, each only where it is configured:
- development (POLICY_MATCH_ENABLE_TOKEN_ENDPOINT): a demo client's id and secret, checked as
  POST /v1/auth/token checks them; the session gets the scopes that endpoint would grant;
- production (POLICY_MATCH_OIDC_*): OpenID Connect with PKCE (service/api/oidc.py); the session
  gets the scopes of the provider's access token that this service knows.
Anything that goes wrong ends the sign-in without a session, on a page in the reader's language.
"""

import hmac
import logging
import time
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from service.api.auth import key_set
from service.api.clients import authenticate_client
from service.api.deps import app_settings
from service.api.oidc import (
    authorization_url,
    discover,
    new_attempt,
    oidc_enabled,
    signed_in_caller,
)
from service.console.pages import SECURITY_HEADERS, render
from service.console.session import (
    check_csrf,
    end_session,
    new_session,
    write_session,
)
from service.console.sign_in_cookie import (
    HOME,
    attempt_of,
    end_sign_in,
    local_next,
    login_csrf,
    sign_in_under_way,
    start_sign_in,
)
from service.core.errors import Unavailable
from service.core.i18n import Message, message

log = logging.getLogger("policy_match.console.sign_in")
router = APIRouter()

WRONG_CLIENT = message("Unknown client or wrong client secret.")
FORM_EXPIRED = message(
    "The sign-in form has expired or was not sent from this page. Nothing was done; sign in again."
)
ATTEMPT_LOST = message(
    "This sign-in was not started here, or took longer than ten minutes. You are not signed in; "
    "start again."
)
PROVIDER_REFUSED = message("The identity provider did not sign you in. You are not signed in.")
NOT_VERIFIED = message(
    "The identity provider's answer could not be verified, so you are not signed in."
)
PROVIDER_DOWN = message(
    "The identity provider cannot be reached just now. You are not signed in; try again later."
)


def _redirect(location: str) -> RedirectResponse:
    response = RedirectResponse(location, status_code=303)
    response.headers.update(SECURITY_HEADERS)
    return response


def _page(
    request: Request, next_path: str, problem: Message | None = None, status: int = 200
) -> HTMLResponse:
    """The sign-in page with a fresh pre-session cookie (the form's CSRF token)."""
    settings = app_settings(request)
    csrf = login_csrf()
    context = {
        "next": next_path,
        "problem": problem,
        "demo": settings.enable_token_endpoint,
        "provider": oidc_enabled(settings),
        "login_csrf": csrf,
    }
    response = render(request, "sign_in.html", context, status=status)
    start_sign_in(response, request, next_path, csrf=csrf)
    return response


def _refused(request: Request, problem: Message, status: int) -> HTMLResponse:
    """The sign-in ended without a session: say why, offer to start again."""
    response = render(request, "sign_in_refused.html", {"problem": problem}, status=status)
    end_sign_in(response)
    return response


@router.get("/console/sign-in")
async def sign_in_page(request: Request, next: str | None = None) -> HTMLResponse:
    """The sign-in page: a demo client's form in development, the identity provider's button
    in production."""
    return _page(request, local_next(next))


@router.post("/console/sign-in")
async def sign_in_with_client(
    request: Request,
    client_id: Annotated[str, Form(max_length=200)] = "",
    client_secret: Annotated[str, Form(max_length=200)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = HOME,
) -> Response:
    """Sign in as a development client: its id and secret as /v1/auth/token checks them."""
    settings = app_settings(request)
    if not settings.enable_token_endpoint:
        return _refused(request, message("Sign-in with a client secret is not enabled here."), 404)
    under_way = sign_in_under_way(request)
    if (
        under_way is None
        or not csrf_token
        or not hmac.compare_digest(csrf_token, under_way.get("csrf", ""))
    ):
        return _page(request, local_next(next), FORM_EXPIRED, status=403)
    client = await run_in_threadpool(
        authenticate_client, client_id=client_id, client_secret=client_secret, settings=settings
    )
    if client is None:
        return _page(request, local_next(next), WRONG_CLIENT, status=403)
    session = new_session(
        client.client_id,
        frozenset(client.scopes),  # what the token endpoint grants this client, never more
        min(settings.console_session_seconds, settings.token_ttl_seconds),
        client.bank_id,
    )
    response = _redirect(local_next(under_way.get("next")))
    end_sign_in(response)
    write_session(response, request, session)
    return response


@router.get("/console/sign-in/provider")
async def sign_in_with_provider(request: Request, next: str | None = None) -> Response:
    """Off to the identity provider, with a fresh state, nonce and PKCE challenge."""
    settings = app_settings(request)
    if not oidc_enabled(settings):
        return _refused(
            request, message("Sign-in with an identity provider is not set up here."), 404
        )
    try:
        provider = await run_in_threadpool(discover, settings)
    except Exception as e:  # fail closed on anything: no provider, no sign-in
        log.warning("identity provider discovery failed: %s", e)
        return _refused(request, PROVIDER_DOWN, 503)
    attempt = new_attempt()
    response = _redirect(authorization_url(provider, settings, attempt))
    start_sign_in(response, request, local_next(next), attempt)
    return response


@router.get("/console/sign-in/callback")
async def provider_callback(
    request: Request,
    code: str | None = None,
    state: str | None = None,
    error: str | None = None,
) -> Response:
    """The identity provider sends the browser back here; a session only if all verifies."""
    under_way = sign_in_under_way(request)
    attempt = attempt_of(under_way) if under_way else None
    if attempt is None or not state or not hmac.compare_digest(state, attempt.state):
        return _refused(request, ATTEMPT_LOST, 400)
    if error is not None or not code or len(code) > 2000:
        log.info("the identity provider refused the sign-in: %s", (error or "no code")[:100])
        return _refused(request, PROVIDER_REFUSED, 403)
    settings = app_settings(request)
    try:
        caller, expires = await run_in_threadpool(
            signed_in_caller, settings, attempt, code, api_keys=key_set(request, settings)
        )
    except Unavailable as e:
        log.warning("sign-in: the provider's keys cannot be read: %s", e)
        return _refused(request, PROVIDER_DOWN, 503)
    except Exception as e:  # fail closed on anything else
        log.warning("sign-in refused: %s: %s", type(e).__name__, e)
        return _refused(request, NOT_VERIFIED, 403)
    lifetime = min(settings.console_session_seconds, expires - time.time())
    session = new_session(caller.subject, caller.scopes, lifetime, caller.bank_id)
    response = _redirect(local_next(under_way.get("next") if under_way else None))
    end_sign_in(response)
    write_session(response, request, session)
    return response


@router.post("/console/sign-out", dependencies=[Depends(check_csrf)])
async def sign_out() -> RedirectResponse:
    """End the session: the cookie is cleared."""
    response = _redirect(HOME)
    end_session(response)
    return response
