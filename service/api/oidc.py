"""Console sign-in with the government identity provider: OpenID Connect's authorization code
flow with PKCE (RFC 7636), as a relying party.

authlib makes the protocol's pieces (state, nonce and code verifier, the S256 challenge, the
authorization URL, the token request's form); the two reads of the provider (its discovery
document, its token endpoint) are ours, bounded like the key set's (service/api/jwks.py: 2 s a
step, 256 KiB), and the tokens are verified by service/api/tokens.py with the provider's keys:
the ID token for who signed in (issuer, audience, nonce), the access token exactly as a bearer
token of the API is, so the session's scopes are its scopes and nothing else.

Failing closed is the invariant: any answer we cannot read or verify is SignInFailed (or the
Unauthorized/Unavailable of the token checks), never a session.
"""

import json
import threading
import time
from dataclasses import dataclass
from typing import Any

import httpx
from authlib.common.security import generate_token
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri, prepare_token_request
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from service.api.clients import Scope
from service.api.jwks import KeySet
from service.api.tokens import Caller, verified_expiry, verify_id_token, verify_token
from service.core.settings import Settings

TIMEOUT_SECONDS = 2.0
MAX_BYTES = 256 * 1024
DISCOVERY_SECONDS = 3600.0  # the discovery document is read again after this long


class SignInFailed(Exception):
    """The provider's answer cannot be used: the sign-in ends without a session (the reason
    is for the log, not the page)."""


@dataclass(frozen=True)
class Provider:
    """What the provider's discovery document says we need."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str


@dataclass(frozen=True)
class Attempt:
    """One sign-in under way: kept in a signed, short-lived cookie until the provider sends
    the browser back."""

    state: str
    nonce: str
    code_verifier: str


def new_attempt() -> Attempt:
    """Fresh, unguessable state, nonce and PKCE code verifier (64 characters, RFC 7636 §4.1)."""
    return Attempt(
        state=generate_token(32), nonce=generate_token(32), code_verifier=generate_token(64)
    )


def oidc_enabled(settings: Settings) -> bool:
    """Whether the console signs in with the identity provider."""
    return settings.oidc_client_id is not None


def authorization_url(provider: Provider, settings: Settings, attempt: Attempt) -> str:
    """Where to send the browser: the provider's authorization endpoint with our client, the
    state, the nonce and the S256 challenge of the attempt's verifier."""
    url: str = prepare_grant_uri(
        provider.authorization_endpoint,
        client_id=settings.oidc_client_id,
        response_type="code",
        redirect_uri=settings.oidc_redirect_url,
        scope=settings.oidc_scopes,
        state=attempt.state,
        nonce=attempt.nonce,
        code_challenge=create_s256_code_challenge(attempt.code_verifier),
        code_challenge_method="S256",
    )
    return url


def _read_json(
    request: httpx.Request, transport: httpx.BaseTransport | None = None
) -> dict[str, Any]:
    """A JSON object from the provider: 200, at most MAX_BYTES, in TIMEOUT_SECONDS a step."""
    deadline = time.monotonic() + 2 * TIMEOUT_SECONDS
    request.headers["Accept-Encoding"] = "identity"
    try:
        with httpx.Client(transport=transport, timeout=TIMEOUT_SECONDS) as client:
            answer = client.send(request, stream=True)
            try:
                body = bytearray()
                for chunk in answer.iter_raw():
                    body += chunk
                    if len(body) > MAX_BYTES or time.monotonic() > deadline:
                        raise SignInFailed(f"{request.url.path}: answer too large or too slow")
            finally:
                answer.close()
    except httpx.HTTPError as e:
        raise SignInFailed(f"{request.url.path}: no answer ({type(e).__name__})") from e
    if answer.status_code != 200:
        raise SignInFailed(f"{request.url.path}: the provider answered {answer.status_code}")
    try:
        document = json.loads(body)
    except ValueError as e:
        raise SignInFailed(f"{request.url.path}: the answer is not JSON") from e
    if not isinstance(document, dict):
        raise SignInFailed(f"{request.url.path}: the answer is not a JSON object")
    return document


_providers: dict[str, tuple[Provider, float]] = {}
_key_sets: dict[str, KeySet] = {}
_lock = threading.Lock()


def discover(settings: Settings, transport: httpx.BaseTransport | None = None) -> Provider:
    """The provider's endpoints from its discovery document (read at most once an hour); its
    `issuer` must be the configured one (OpenID Connect Discovery §4.3)."""
    issuer = (settings.oidc_issuer or "").rstrip("/")
    url = settings.oidc_discovery_url or f"{issuer}/.well-known/openid-configuration"
    with _lock:
        held = _providers.get(url)
    if held is not None and time.monotonic() - held[1] < DISCOVERY_SECONDS:
        return held[0]
    document = _read_json(
        httpx.Request("GET", url, headers={"Accept": "application/json"}), transport
    )
    fields = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")
    if not all(isinstance(document.get(f), str) and document[f] for f in fields):
        raise SignInFailed("the discovery document lacks an endpoint")
    if document["issuer"].rstrip("/") != issuer:
        raise SignInFailed(f"the discovery document's issuer is {document['issuer']!r}")
    if settings.environment == "production" and not all(
        document[f].startswith("https://") for f in fields[1:]
    ):
        raise SignInFailed("the provider's endpoints must be https in production")
    if "S256" not in document.get("code_challenge_methods_supported", ["S256"]):
        raise SignInFailed("the provider does not support PKCE with S256")
    provider = Provider(**{f: document[f] for f in fields})
    with _lock:
        _providers[url] = (provider, time.monotonic())
    return provider


def provider_keys(provider: Provider, api_keys: KeySet | None) -> KeySet:
    """The key set ID tokens verify with: the API's when it is the same URL (one cache)."""
    if api_keys is not None and api_keys.url == provider.jwks_uri:
        return api_keys
    with _lock:
        return _key_sets.setdefault(provider.jwks_uri, KeySet(provider.jwks_uri))


def exchange_code(
    provider: Provider,
    settings: Settings,
    attempt: Attempt,
    code: str,
    transport: httpx.BaseTransport | None = None,
) -> tuple[str, str]:
    """(ID token, access token) for the authorization code, sending the attempt's verifier."""
    form: str = prepare_token_request(
        "authorization_code",
        code=code,
        redirect_uri=settings.oidc_redirect_url,
        code_verifier=attempt.code_verifier,
        client_id=settings.oidc_client_id,
    )
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
    auth = None
    if settings.oidc_client_secret is not None:  # client_secret_basic (Core §9)
        auth = httpx.BasicAuth(
            settings.oidc_client_id or "", settings.oidc_client_secret.get_secret_value()
        )
    request = httpx.Request("POST", provider.token_endpoint, content=form, headers=headers)
    if auth is not None:
        request = next(auth.auth_flow(request))
    answer = _read_json(request, transport)
    id_token, access_token = answer.get("id_token"), answer.get("access_token")
    if not isinstance(id_token, str) or not isinstance(access_token, str):
        raise SignInFailed("the token endpoint answered no id_token or access_token")
    if str(answer.get("token_type", "")).lower() != "bearer":
        raise SignInFailed("the token endpoint's token is not a bearer token")
    return id_token, access_token


def signed_in_caller(
    settings: Settings,
    attempt: Attempt,
    code: str,
    *,
    api_keys: KeySet | None,
    transport: httpx.BaseTransport | None = None,
) -> tuple[Caller, float]:
    """Who signed in, with the scopes their access token grants that this service knows, and
    when that token expires (a session does not outlive it).

    Reads the provider (bounded): call from a thread. Raises SignInFailed, Unauthorized
    (a token that does not verify) or Unavailable (the provider's keys cannot be read).
    """
    provider = discover(settings, transport)
    id_token, access_token = exchange_code(provider, settings, attempt, code, transport)
    subject = verify_id_token(
        id_token,
        keys=provider_keys(provider, api_keys),
        issuer=provider.issuer,
        client_id=settings.oidc_client_id or "",
        nonce=attempt.nonce,
    )
    caller = verify_token(access_token, settings, keys=api_keys)
    if caller.subject != subject:
        raise SignInFailed("the access token's subject is not the ID token's")
    known = caller.scopes & frozenset(Scope)
    expires = verified_expiry(access_token)
    if expires is None:
        raise SignInFailed("the access token has no expiry")
    return Caller(subject, known, caller.bank_id, caller.token_id), expires
