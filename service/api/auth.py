"""Bearer tokens: verify (and, in development, issue) JWTs; scope dependencies for routes.

The only module that imports `jose`. HS256 with POLICY_MATCH_JWT_SECRET, or RS256 with
POLICY_MATCH_JWT_PUBLIC_KEY (then the secret is ignored): one algorithm per key, never `none`.
Development clients of POST /v1/auth/token come from POLICY_MATCH_AUTH_CLIENTS only; when it is
empty there are no clients, in every environment, and the endpoint answers 401 invalid_client.
"""

import json
import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from threading import Lock
from typing import Annotated, Any

from fastapi import Depends, Request
from jose import jwk, jws
from jose.backends.base import Key
from jose.exceptions import JOSEError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from service.api.clients import Scope, token_clients
from service.api.deps import app_settings
from service.core.errors import Forbidden, Unauthorized
from service.core.settings import Settings

LEEWAY_SECONDS = 30  # issuer clocks may run a little ahead: nbf and iat only, never exp
CACHE_SIZE = 4096
MAX_TOKEN_CHARS = 8192


@dataclass(frozen=True)
class Caller:
    """The system calling, as its verified token describes it."""

    subject: str
    scopes: frozenset[str]
    bank_id: str | None
    token_id: str | None

    @property
    def is_bank(self) -> bool:
        """Whether the caller is a cooperating bank (its token carries a bank_id)."""
        return self.bank_id is not None


def _invalid(detail: str) -> Unauthorized:
    error = Unauthorized(detail)
    error.headers = {"WWW-Authenticate": 'Bearer realm="policy-match", error="invalid_token"'}
    return error


@lru_cache(maxsize=8)
def _key(material: str, algorithm: str) -> Key:
    try:
        return jwk.construct(material, algorithm)
    except JOSEError as e:
        raise ValueError(f"the {algorithm} key in the settings cannot be used: {e}") from e


def _verification(settings: Settings) -> tuple[str, str]:
    """(algorithm, key material): RS256 when a public key is set, else HS256; never both."""
    if settings.jwt_public_key:
        if "PRIVATE KEY" in settings.jwt_public_key:
            raise ValueError("POLICY_MATCH_JWT_PUBLIC_KEY holds a private key")
        return "RS256", settings.jwt_public_key.replace("\\n", "\n")  # PEM from a one-line env
    secret = settings.jwt_secret.get_secret_value() if settings.jwt_secret else ""
    if not secret:
        raise ValueError("set POLICY_MATCH_JWT_SECRET or POLICY_MATCH_JWT_PUBLIC_KEY")
    return "HS256", secret


_cache: OrderedDict[tuple[str, ...], tuple[Caller, float]] = OrderedDict()
_cache_lock = Lock()


class _Claims(BaseModel):
    model_config = ConfigDict(strict=True, frozen=True)

    sub: str = Field(min_length=1)
    exp: float
    nbf: float | None = None
    iat: float | None = None
    aud: str | list[str]
    iss: str | None = None
    scope: str = ""
    bank_id: str | None = None
    jti: str | None = None


def _check_claims(raw: dict[str, Any], settings: Settings, now: float) -> tuple[Caller, float]:
    try:
        claims = _Claims.model_validate(raw)
    except ValidationError as e:
        error = e.errors()[0]
        raise _invalid(f"token claim {error['loc'][0]}: {error['msg'].lower()}") from None
    if now >= claims.exp:
        raise _invalid("token expired")
    if max(claims.nbf or 0, claims.iat or 0) > now + LEEWAY_SECONDS:
        raise _invalid("token is not valid yet (nbf or iat is in the future)")
    audiences = [claims.aud] if isinstance(claims.aud, str) else claims.aud
    if settings.jwt_audience not in audiences:
        raise _invalid(f"token audience is not {settings.jwt_audience}")
    if settings.jwt_issuer and claims.iss != settings.jwt_issuer:
        raise _invalid(f"token issuer is not {settings.jwt_issuer}")
    caller = Caller(
        subject=claims.sub,
        scopes=frozenset(claims.scope.split()),
        bank_id=claims.bank_id,
        token_id=claims.jti,
    )
    return caller, claims.exp


def _verify_signature(token: str, algorithm: str, material: str) -> dict[str, Any]:
    if len(token) > MAX_TOKEN_CHARS:
        raise _invalid("token is too long")
    try:
        alg = jws.get_unverified_header(token).get("alg")
    except JOSEError as e:
        raise _invalid("token is not a well-formed JWT") from e
    if alg != algorithm:
        raise _invalid(f"token algorithm {alg} is not accepted; this service accepts {algorithm}")
    key = _key(material, algorithm)
    try:
        claims = json.loads(jws.verify(token, key, algorithms=[algorithm]))
    except JOSEError as e:
        raise _invalid("token signature does not verify") from e
    except ValueError as e:
        raise _invalid("token payload is not JSON") from e
    if not isinstance(claims, dict):
        raise _invalid("token payload is not a JSON object")
    return claims


def verify_token(token: str, settings: Settings, *, now: float | None = None) -> Caller:
    """The caller a bearer token describes; Unauthorized unless it verifies and is in force."""
    now = time.time() if now is None else now
    algorithm, material = _verification(settings)
    # The key configuration is part of the entry: a token is only trusted under the keys,
    # audience and issuer it was verified against.
    entry = (token, algorithm, material, settings.jwt_audience, settings.jwt_issuer or "")
    with _cache_lock:
        hit = _cache.get(entry)
        if hit is not None:
            _cache.move_to_end(entry)
    if hit is None:
        hit = _check_claims(_verify_signature(token, algorithm, material), settings, now)
        with _cache_lock:
            _cache[entry] = hit
            while len(_cache) > CACHE_SIZE:
                _cache.popitem(last=False)
    caller, exp = hit
    if now >= exp:
        with _cache_lock:
            _cache.pop(entry, None)
        raise _invalid("token expired")
    return caller


def bearer_token(request: Request) -> str:
    """The token of the request's `Authorization: Bearer` header; Unauthorized without one."""
    header = request.headers.get("authorization")
    if not header:
        raise Unauthorized("missing bearer token: send Authorization: Bearer <token>")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip() or " " in token.strip():
        raise _invalid("the Authorization header must be 'Bearer <token>'")
    return token.strip()


def require(scope: str) -> Callable[..., Awaitable[Caller]]:
    """A dependency answering the verified Caller; 401 without a valid token, 403 without scope."""
    scope = Scope(scope)  # a typo fails at import, not at request time

    # The security schemes are documented by document_security(), not by Security()
    # parameters: those would run on every request for nothing but the OpenAPI document.
    async def caller_with_scope(request: Request) -> Caller:
        return authorize(request, scope)

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
        return authorize_platform(request, scope, refusal)

    platform_caller.required_scope = scope  # type: ignore[attr-defined]
    return platform_caller


def authorize_platform(request: Request, scope: str, refusal: str = BANKS_REFUSED) -> Caller:
    """authorize(), and 403 for a bank: banks learn of firms only through the bank query."""
    caller = authorize(request, scope)
    if caller.is_bank:
        raise Forbidden(refusal)
    return caller


def authorize(request: Request, scope: str) -> Caller:
    """The verified caller of a request; 401 without a valid token, 403 without `scope`."""
    caller = verify_token(bearer_token(request), app_settings(request))
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


def _signing(settings: Settings) -> tuple[str, str]:
    algorithm, material = _verification(settings)
    if algorithm == "RS256":
        if settings.jwt_private_key is None:
            raise ValueError("POLICY_MATCH_JWT_PRIVATE_KEY is needed to issue RS256 tokens")
        material = settings.jwt_private_key.get_secret_value().replace("\\n", "\n")
    return algorithm, material


def issue_token(
    *,
    subject: str,
    scopes: Iterable[str],
    bank_id: str | None,
    settings: Settings,
    now: float | None = None,
) -> tuple[str, int]:
    """A signed token for this subject and these scopes, and its lifetime in seconds."""
    issued = int(time.time() if now is None else now)
    claims: dict[str, Any] = {
        "sub": subject,
        "scope": " ".join(sorted(scopes)),
        "aud": settings.jwt_audience,
        "iat": issued,
        "nbf": issued,
        "exp": issued + settings.token_ttl_seconds,
        "jti": uuid.uuid4().hex,
    }
    if settings.jwt_issuer:
        claims["iss"] = settings.jwt_issuer
    if bank_id is not None:
        claims["bank_id"] = bank_id
    algorithm, material = _signing(settings)
    token = jws.sign(claims, _key(material, algorithm), algorithm=algorithm)
    return token, settings.token_ttl_seconds


def check_settings(settings: Settings) -> None:
    """Refuse to start with keys or development clients that cannot work (ValueError)."""
    algorithm, material = _verification(settings)
    _key(material, algorithm)
    if settings.enable_token_endpoint:
        algorithm, material = _signing(settings)
        _key(material, algorithm)
        token_clients(settings)
