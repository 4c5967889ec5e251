"""Bearer tokens as JWTs: verify them, and (in development) issue them. The only module that
imports `jose`.

One way to verify per deployment, never two at once, one algorithm per key, never `none`:
- POLICY_MATCH_JWT_JWKS_URL: RS256 or ES256, with the identity provider's key that the token's
  `kid` names (service/api/jwks.py reads and caches the key set). Never HS256: a published key
  must not double as a shared secret.
- POLICY_MATCH_JWT_PUBLIC_KEY: RS256 with that key (the secret is then ignored).
- POLICY_MATCH_JWT_SECRET: HS256.
Development clients of POST /v1/auth/token come from POLICY_MATCH_AUTH_CLIENTS only; when it is
empty there are no clients, in every environment, and the endpoint answers 401 invalid_client.
"""

import hmac
import json
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from threading import Lock
from typing import Any, Literal

from jose import jwk, jws
from jose.backends.base import Key
from jose.exceptions import JOSEError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from service.api.clients import token_clients
from service.api.jwks import KeySet, UnknownKey
from service.core.errors import Unauthorized
from service.core.i18n import Text, message
from service.core.settings import Settings

LEEWAY_SECONDS = 30  # issuer clocks may run a little ahead: nbf and iat only, never exp
CACHE_SIZE = 4096
MAX_TOKEN_CHARS = 8192
JWKS_ALGORITHMS = {"RS256": ("RSA", None), "ES256": ("EC", "P-256")}  # alg: (kty, crv)

Material = tuple[Literal["pem", "secret", "jwk"], str]  # how to read the key, and the key


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


EXPIRED = message("token expired")


def invalid(detail: Text) -> Unauthorized:
    """A 401 for a token that does not verify, with its RFC 6750 challenge."""
    error = Unauthorized(detail)
    error.headers = {"WWW-Authenticate": 'Bearer realm="policy-match", error="invalid_token"'}
    return error


@lru_cache(maxsize=64)
def _key(material: Material, algorithm: str) -> Key:
    kind, text = material
    try:
        return jwk.construct(json.loads(text) if kind == "jwk" else text, algorithm)
    except (JOSEError, ValueError) as e:
        if kind == "jwk":  # the provider's key, not ours: the token cannot be verified with it
            raise invalid(
                message(
                    "the identity provider's key for this token cannot be used: {problem}",
                    problem=str(e),
                )
            ) from e
        raise ValueError(f"the {algorithm} key in the settings cannot be used: {e}") from e


def _configured(settings: Settings) -> tuple[str, Material]:
    """(algorithm, key material) of the settings: RS256 when a public key is set, else HS256."""
    if settings.jwt_public_key:
        if "PRIVATE KEY" in settings.jwt_public_key:
            raise ValueError("POLICY_MATCH_JWT_PUBLIC_KEY holds a private key")
        return "RS256", ("pem", settings.jwt_public_key.replace("\\n", "\n"))  # one-line env
    secret = settings.jwt_secret.get_secret_value() if settings.jwt_secret else ""
    if not secret:
        raise ValueError("set POLICY_MATCH_JWT_SECRET or POLICY_MATCH_JWT_PUBLIC_KEY")
    return "HS256", ("secret", secret)


def _header(token: str) -> dict[str, Any]:
    if len(token) > MAX_TOKEN_CHARS:
        raise invalid(message("token is too long"))
    try:
        header = jws.get_unverified_header(token)
    except JOSEError as e:
        raise invalid(message("token is not a well-formed JWT")) from e
    return header


def jwks_key_id(token: str) -> str | None:
    """The `kid` of a token a JWKS key could verify (RS256 or ES256), or None: refused anyway."""
    try:
        header = _header(token)
    except Unauthorized:
        return None
    kid = header.get("kid")
    return kid if header.get("alg") in JWKS_ALGORITHMS and isinstance(kid, str) else None


def _from_key_set(token: str, keys: KeySet) -> tuple[str, Material]:
    """(algorithm, key material) for a token under the identity provider's key set."""
    header = _header(token)
    algorithm = header.get("alg")
    if algorithm not in JWKS_ALGORITHMS:
        accepted = ", ".join(JWKS_ALGORITHMS)
        raise invalid(
            message(
                "token algorithm {given} is not accepted; this service accepts: {accepted}",
                given=algorithm,
                accepted=accepted,
            )
        )
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise invalid(
            message("token names no key (kid): the identity provider's tokens name theirs")
        )
    try:
        key = keys.key(kid)  # 503 when the provider's keys cannot be had
    except UnknownKey:
        raise invalid(message("the identity provider publishes no key {kid!r}", kid=kid)) from None
    kty, crv = JWKS_ALGORITHMS[algorithm]
    if key.get("kty") != kty or key.get("crv") != crv or key.get("alg", algorithm) != algorithm:
        raise invalid(
            message(
                "the identity provider's key {kid} is not an {algorithm} key",
                kid=kid,
                algorithm=algorithm,
            )
        )
    return algorithm, ("jwk", json.dumps(key, sort_keys=True))


def _verification(token: str, settings: Settings, keys: KeySet | None) -> tuple[str, Material]:
    if settings.jwt_jwks_url is None:
        return _configured(settings)
    if keys is None or keys.url != settings.jwt_jwks_url:
        raise ValueError("tokens verify with POLICY_MATCH_JWT_JWKS_URL: pass its KeySet")
    return _from_key_set(token, keys)


_cache: OrderedDict[tuple[Any, ...], tuple[Caller, float]] = OrderedDict()
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
        raise invalid(
            message(
                "token claim {claim}: {problem}",
                claim=error["loc"][0],
                problem=error["msg"].lower(),
            )
        ) from None
    if now >= claims.exp:
        raise invalid(EXPIRED)
    if max(claims.nbf or 0, claims.iat or 0) > now + LEEWAY_SECONDS:
        raise invalid(message("token is not valid yet (nbf or iat is in the future)"))
    audiences = [claims.aud] if isinstance(claims.aud, str) else claims.aud
    if settings.jwt_audience not in audiences:
        raise invalid(message("token audience is not {audience}", audience=settings.jwt_audience))
    if settings.jwt_issuer and claims.iss != settings.jwt_issuer:
        raise invalid(message("token issuer is not {issuer}", issuer=settings.jwt_issuer))
    caller = Caller(
        subject=claims.sub,
        scopes=frozenset(claims.scope.split()),
        bank_id=claims.bank_id,
        token_id=claims.jti,
    )
    return caller, claims.exp


def _verify_signature(token: str, algorithm: str, material: Material) -> dict[str, Any]:
    alg = _header(token).get("alg")
    if alg != algorithm:
        raise invalid(
            message(
                "token algorithm {given} is not accepted; this service accepts {accepted}",
                given=alg,
                accepted=algorithm,
            )
        )
    key = _key(material, algorithm)
    try:
        claims = json.loads(jws.verify(token, key, algorithms=[algorithm]))
    except JOSEError as e:
        raise invalid(message("token signature does not verify")) from e
    except ValueError as e:
        raise invalid(message("token payload is not JSON")) from e
    if not isinstance(claims, dict):
        raise invalid(message("token payload is not a JSON object"))
    return claims


def verify_token(
    token: str, settings: Settings, *, now: float | None = None, keys: KeySet | None = None
) -> Caller:
    """The caller a bearer token describes; Unauthorized unless it verifies and is in force.

    With POLICY_MATCH_JWT_JWKS_URL, `keys` is its key set (which may read the provider's keys:
    call from a thread, or after KeySet.due() said no).
    """
    now = time.time() if now is None else now
    algorithm, material = _verification(token, settings, keys)
    # The key is part of the entry: a token is only trusted under the key, audience and issuer
    # it was verified against (a key the provider withdrew no longer finds its tokens here).
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
        raise invalid(EXPIRED)
    return caller


def _signing(settings: Settings) -> tuple[str, Material]:
    algorithm, material = _configured(settings)
    if algorithm == "RS256":
        if settings.jwt_private_key is None:
            raise ValueError("POLICY_MATCH_JWT_PRIVATE_KEY is needed to issue RS256 tokens")
        material = ("pem", settings.jwt_private_key.get_secret_value().replace("\\n", "\n"))
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
    if settings.jwt_jwks_url is not None:
        if settings.enable_token_endpoint:
            raise ValueError(
                "POLICY_MATCH_JWT_JWKS_URL is set: tokens verify with the identity provider's "
                "keys only, so the development token endpoint's would be refused; set "
                "POLICY_MATCH_ENABLE_TOKEN_ENDPOINT=false"
            )
        return
    algorithm, material = _configured(settings)
    _key(material, algorithm)
    if settings.enable_token_endpoint:
        algorithm, material = _signing(settings)
        _key(material, algorithm)
        token_clients(settings)


class _IdClaims(BaseModel):
    model_config = ConfigDict(strict=True, frozen=True)

    sub: str = Field(min_length=1)
    iss: str
    aud: str | list[str]
    exp: float
    iat: float
    nonce: str | None = None
    azp: str | None = None


def verify_id_token(
    token: str, *, keys: KeySet, issuer: str, client_id: str, nonce: str, now: float | None = None
) -> str:
    """The subject of an OpenID Connect ID token (Core §3.1.3.7): signed with one of the
    provider's keys, issued by `issuer` to `client_id`, in force, carrying our `nonce`.

    Unauthorized otherwise; the keys may be read from the provider (call from a thread).
    """
    now = time.time() if now is None else now
    algorithm, material = _from_key_set(token, keys)
    raw = _verify_signature(token, algorithm, material)
    try:
        claims = _IdClaims.model_validate(raw)
    except ValidationError as e:
        error = e.errors()[0]
        raise invalid(
            message(
                "token claim {claim}: {problem}",
                claim=error["loc"][0],
                problem=error["msg"].lower(),
            )
        ) from None
    audiences = [claims.aud] if isinstance(claims.aud, str) else claims.aud
    if claims.iss != issuer:
        raise invalid(message("token issuer is not {issuer}", issuer=issuer))
    if client_id not in audiences or (len(audiences) > 1 and claims.azp != client_id):
        raise invalid(message("token audience is not {audience}", audience=client_id))
    if now >= claims.exp:
        raise invalid(EXPIRED)
    if claims.iat > now + LEEWAY_SECONDS:
        raise invalid(message("token is not valid yet (nbf or iat is in the future)"))
    if claims.nonce is None or not hmac.compare_digest(claims.nonce, nonce):
        raise invalid(message("the ID token's nonce is not the one this sign-in sent"))
    return claims.sub


def verified_expiry(token: str) -> float | None:
    """The `exp` of a token verify_token() has just accepted (read, not verified, here)."""
    try:
        claims = json.loads(jws.get_unverified_claims(token))
    except (JOSEError, ValueError):
        return None
    exp = claims.get("exp") if isinstance(claims, dict) else None
    return float(exp) if isinstance(exp, int | float) else None
