"""Who is calling: the bearer token of a request, verified, and the scope dependencies of routes.

Verifying and issuing tokens is service/api/tokens.py's (the one module that imports `jose`);
the identity provider's keys are service/api/jwks.py's. This module is their FastAPI side.
"""

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from service.api.clients import Scope
from service.api.deps import app_settings
from service.api.jwks import KeySet
from service.api.tokens import Caller as Caller  # routes, tests and benches import these here
from service.api.tokens import invalid, jwks_key_id
from service.api.tokens import issue_token as issue_token
from service.api.tokens import verify_token as verify_token
from service.core.errors import Forbidden, Unauthorized
from service.core.settings import Settings


def bearer_token(request: Request) -> str:
    """The token of the request's `Authorization: Bearer` header; Unauthorized without one."""
    header = request.headers.get("authorization")
    if not header:
        raise Unauthorized("missing bearer token: send Authorization: Bearer <token>")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip() or " " in token.strip():
        raise invalid("the Authorization header must be 'Bearer <token>'")
    return token.strip()


def require(scope: str) -> Callable[..., Awaitable[Caller]]:
    """A dependency answering the verified Caller; 401 without a valid token, 403 without scope."""
    scope = Scope(scope)  # a typo fails at import, not at request time

    # The security schemes are documented by document_security(), not by Security()
    # parameters: those would run on every request for nothing but the OpenAPI document.
    async def caller_with_scope(request: Request) -> Caller:
        return await authorize(request, scope)

    caller_with_scope.required_scope = scope  # type: ignore[attr-defined]
    return caller_with_scope


BANKS_REFUSED = (
    "banks may not read or write enterprise records; ask "
    "GET /v1/measures/{measure_id}/eligible-enterprises for consenting firms"
)
BANKS_NOT_AUDITORS = (
    "banks may not read the disclosure record: it names what every bank was shown; "
    "the audit is for the city's auditors"
)


def require_platform(scope: str, refusal: str = BANKS_REFUSED) -> Callable[..., Awaitable[Caller]]:
    """Like require(), and refuses banks: they see enterprises only through the bank query."""
    scope = Scope(scope)

    async def platform_caller(request: Request) -> Caller:
        return await authorize_platform(request, scope, refusal)

    platform_caller.required_scope = scope  # type: ignore[attr-defined]
    return platform_caller


async def authorize_platform(request: Request, scope: str, refusal: str = BANKS_REFUSED) -> Caller:
    """authorize(), and 403 for a bank: banks learn of firms only through the bank query."""
    caller = await authorize(request, scope)
    if caller.is_bank:
        raise Forbidden(refusal)
    return caller


def key_set(request: Request, settings: Settings) -> KeySet | None:
    """The identity provider's keys, held by the application; None without a JWKS URL."""
    url = settings.jwt_jwks_url
    if url is None:
        return None
    keys: KeySet | None = getattr(request.app.state, "jwks", None)
    if keys is None or keys.url != url:
        keys = request.app.state.jwks = KeySet(url)
    return keys


async def authorize(request: Request, scope: str) -> Caller:
    """The verified caller of a request; 401 without a valid token, 403 without `scope`.

    503 when the token would verify with the identity provider's keys and none can be had.
    """
    token = bearer_token(request)
    settings = app_settings(request)
    keys = key_set(request, settings)
    if keys is not None:
        kid = jwks_key_id(token)
        if kid is not None and keys.due(kid):
            # the provider is asked (bounded, at most once a minute), off the event loop
            await run_in_threadpool(keys.prepare, kid)
    caller = verify_token(token, settings, keys=keys)
    if scope not in caller.scopes:
        raise Forbidden(
            f"the token lacks the scope '{scope}'",
            headers={
                "WWW-Authenticate": 'Bearer realm="policy-match", '
                f'error="insufficient_scope", scope="{scope}"'
            },
        )
    return caller


EnterprisesReader = Annotated[Caller, Depends(require_platform(Scope.ENTERPRISES_READ))]
EnterprisesWriter = Annotated[Caller, Depends(require_platform(Scope.ENTERPRISES_WRITE))]
EligibilityReader = Annotated[Caller, Depends(require(Scope.ELIGIBILITY_READ))]
PushPlatform = Annotated[Caller, Depends(require_platform(Scope.PUSH))]
CatalogueAdmin = Annotated[Caller, Depends(require(Scope.CATALOGUE_ADMIN))]
# a bank holding audit:read would see every other bank's disclosures: refused as elsewhere
Auditor = Annotated[Caller, Depends(require_platform(Scope.AUDIT_READ, BANKS_NOT_AUDITORS))]
