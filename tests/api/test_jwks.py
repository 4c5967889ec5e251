"""Tokens from the government identity provider: keys read from a real JWKS server on loopback,
found by `kid`, cached, read again at most once a minute (the clock is the test's), and a
provider that is down, slow or answering garbage failing closed."""

import base64
import hmac
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Annotated, Any

import httpx
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from bench.common import free_port
from service.api.auth import Caller, require
from service.api.clients import Scope
from service.api.jwks import MAX_AGE_SECONDS, REFRESH_SECONDS, KeySet
from service.api.openapi import install_openapi
from service.api.problems import install_error_handlers
from service.api.routes import auth as auth_routes
from service.api.tokens import check_settings, verify_token
from service.core.errors import Unauthorized
from service.core.migrate import upgrade_database
from service.core.settings import Settings
from service.policy.examples import FULL_PROFILE
from tests.conftest import serve

RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())


def b64(data: bytes) -> str:
    """base64url without padding, as JWTs and JWKs use."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def number(value: int) -> str:
    """An integer as a JWK member (big-endian bytes, base64url)."""
    return b64(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def rsa_jwk(kid: str, key: rsa.RSAPrivateKey = RSA_KEY, **extra: str) -> dict[str, Any]:
    """The public half of an RSA key as a JWK."""
    public = key.public_key().public_numbers()
    jwk = {"kty": "RSA", "kid": kid, "use": "sig", "n": number(public.n), "e": number(public.e)}
    return jwk | extra


def ec_jwk(kid: str) -> dict[str, Any]:
    """The public half of the P-256 key as a JWK."""
    public = EC_KEY.public_key().public_numbers()
    return {
        "kty": "EC",
        "kid": kid,
        "crv": "P-256",
        "alg": "ES256",
        "x": b64(public.x.to_bytes(32, "big")),
        "y": b64(public.y.to_bytes(32, "big")),
    }


def claims(**changes: Any) -> dict[str, Any]:
    """Valid claims from the provider for the platform."""
    now = int(time.time())
    return {
        "sub": "sme-platform",
        "scope": "match",
        "aud": "policy-match",
        "iat": now,
        "exp": now + 600,
        **changes,
    }


def token(
    kid: str | None, *, alg: str = "RS256", key: Any = RSA_KEY, body: dict[str, Any] | None = None
) -> str:
    """A JWT signed by hand, as the provider would sign it (the code under test forges none)."""
    header: dict[str, Any] = {"alg": alg, "typ": "JWT"}
    if kid is not None:
        header["kid"] = kid
    payload = json.dumps(body or claims()).encode()
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(payload)}"
    data = signing_input.encode()
    if alg == "RS256":
        signature = key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    elif alg == "ES256":
        r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
        signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    elif alg == "HS256":
        signature = hmac.new(key, data, "sha256").digest()
    else:
        signature = b""
    return f"{signing_input}.{b64(signature)}"


@dataclass
class Provider:
    """A JWKS endpoint on loopback whose answer the test sets; it counts the reads."""

    keys: list[dict[str, Any]] = field(default_factory=list)
    raw: bytes | None = None  # answered instead of the keys when set
    status: int = 200
    chunked: bool = False
    drip_seconds: float = 0.0  # a pause before each of a few small pieces
    reads: int = 0
    url: str = ""

    def answer(self) -> bytes:
        """The body the endpoint serves now."""
        return self.raw if self.raw is not None else json.dumps({"keys": self.keys}).encode()


@pytest.fixture
def provider() -> Iterator[Provider]:
    """A real HTTP server in a thread, serving a key set at /jwks."""
    state = Provider()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            state.reads += 1
            body = state.answer()
            self.send_response(state.status)
            self.send_header("Content-Type", "application/json")
            if state.chunked or state.drip_seconds:
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                pieces = [body[i : i + 64] for i in range(0, len(body), 64)] or [b""]
                for piece in pieces[:40] if state.drip_seconds else pieces:
                    time.sleep(state.drip_seconds)
                    try:
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                        self.wfile.flush()
                    except OSError:
                        return  # the reader gave up, as it should
                self.wfile.write(b"0\r\n\r\n")
            else:
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/jwks"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def settings_for(url: str, **overrides: Any) -> Settings:
    """Settings verifying with the provider at `url` (the token endpoint off, as it must be)."""
    values: dict[str, Any] = {
        "environment": "test",
        "jwt_jwks_url": url,
        "enable_token_endpoint": False,
        "jwt_audience": "policy-match",
    }
    return Settings(_env_file=None, **{**values, **overrides})


def make_app(url: str, clock: Clock, **key_set: Any) -> FastAPI:
    """A small app with one route needing `match`, its key set on the test's clock."""
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/protected")
    async def protected(caller: Annotated[Caller, Depends(require(Scope.MATCH))]) -> str:
        return caller.subject

    app.state.settings = settings_for(url)
    app.state.jwks = KeySet(url, clock=clock, **key_set)
    install_openapi(app)
    return app


def client_for(url: str, clock: Clock, **key_set: Any) -> TestClient:
    """A test client of the small app."""
    return TestClient(make_app(url, clock, **key_set))


def call(client: TestClient, bearer: str) -> httpx.Response:
    """GET /protected with this bearer token."""
    response: httpx.Response = client.get(
        "/protected", headers={"Authorization": f"Bearer {bearer}"}
    )
    return response


def refused(response: httpx.Response, status: int, detail: str) -> None:
    """A problem+json refusal naming `detail`."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert detail in response.json()["detail"], response.json()


def test_a_token_signed_with_a_published_key_is_accepted_and_the_keys_are_cached(
    provider: Provider,
) -> None:
    provider.keys = [rsa_jwk("old", OTHER_RSA_KEY), rsa_jwk("k1")]
    client = client_for(provider.url, Clock())
    for _ in range(3):
        response = call(client, token("k1"))
        assert response.status_code == 200, response.text
        assert response.json() == "sme-platform"
    assert provider.reads == 1


def test_an_es256_key_verifies_es256_tokens(provider: Provider) -> None:
    provider.keys = [ec_jwk("ec-1"), rsa_jwk("rsa-1")]
    client = client_for(provider.url, Clock())
    assert call(client, token("ec-1", alg="ES256", key=EC_KEY)).status_code == 200
    # a key is used only for its own algorithm
    refused(call(client, token("rsa-1", alg="ES256", key=EC_KEY)), 401, "not an ES256 key")
    refused(call(client, token("ec-1")), 401, "not an RS256 key")


def test_a_signature_by_another_key_under_a_published_kid_is_refused(provider: Provider) -> None:
    provider.keys = [rsa_jwk("k1")]
    client = client_for(provider.url, Clock())
    refused(call(client, token("k1", key=OTHER_RSA_KEY)), 401, "signature does not verify")


def test_an_unknown_kid_reads_the_keys_again_at_most_once_a_minute(provider: Provider) -> None:
    clock = Clock()
    provider.keys = [rsa_jwk("k1")]
    client = client_for(provider.url, clock)
    assert call(client, token("k1")).status_code == 200
    assert provider.reads == 1
    # The provider rotates in k2; a token naming it within the minute is refused unread.
    provider.keys = [rsa_jwk("k1"), rsa_jwk("k2", OTHER_RSA_KEY)]
    clock.now += 30
    response = call(client, token("k2", key=OTHER_RSA_KEY))
    refused(response, 401, "publishes no key 'k2'")
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
    assert provider.reads == 1
    clock.now += REFRESH_SECONDS - 30  # a minute after the last read: read again, and k2 is there
    assert call(client, token("k2", key=OTHER_RSA_KEY)).status_code == 200
    assert provider.reads == 2
    clock.now += 10
    refused(call(client, token("k3")), 401, "publishes no key 'k3'")
    clock.now += REFRESH_SECONDS
    refused(call(client, token("k3")), 401, "publishes no key 'k3'")  # read again: still none
    assert provider.reads == 3


def test_a_flood_of_made_up_kids_reads_the_provider_once_a_minute(provider: Provider) -> None:
    clock = Clock()
    provider.keys = [rsa_jwk("k1")]
    client = client_for(provider.url, clock)
    for n in range(30):
        refused(call(client, token(f"made-up-{n}")), 401, "publishes no key")
        clock.now += 1.5
    assert provider.reads == 1
    assert call(client, token("k1")).status_code == 200


def test_a_provider_that_is_down_fails_closed_with_503_and_retry_after(provider: Provider) -> None:
    clock = Clock()
    down = f"http://127.0.0.1:{free_port()}/jwks"  # nothing listens there
    client = client_for(down, clock)
    response = call(client, token("k1"))
    refused(response, 503, "cannot be read")
    assert response.headers["retry-after"] == str(int(REFRESH_SECONDS))
    assert "127.0.0.1" not in response.text  # the provider's address is for the operator's log
    clock.now += 20
    response = call(client, token("k1"))
    refused(response, 503, "cannot be read")
    assert response.headers["retry-after"] == str(int(REFRESH_SECONDS) - 20)


def test_the_provider_coming_back_is_read_a_minute_after_it_failed(provider: Provider) -> None:
    clock = Clock()
    provider.keys, provider.status = [rsa_jwk("k1")], 500
    client = client_for(provider.url, clock)
    refused(call(client, token("k1")), 503, "answered 500")
    clock.now += REFRESH_SECONDS - 1
    provider.status = 200
    refused(call(client, token("k1")), 503, "answered 500")
    assert provider.reads == 1
    clock.now += 1
    assert call(client, token("k1")).status_code == 200
    assert provider.reads == 2


OVERSIZE = json.dumps({"keys": [rsa_jwk(f"k{n}") for n in range(800)]}).encode()


@pytest.mark.parametrize(
    ("raw", "chunked", "detail"),
    [
        (b"<html>maintenance</html>", False, "not JSON"),
        (b'{"keys": "none"}', False, "no `keys` list"),
        (b"[]", False, "no `keys` list"),
        (b'{"keys": [{"kty": "oct", "kid": "k1", "k": "c2VjcmV0"}]}', False, "no RS256 or ES256"),
        (json.dumps({"keys": [rsa_jwk("k1", use="enc")]}).encode(), False, "no RS256 or ES256"),
        (json.dumps({"keys": [rsa_jwk("k1", alg="RS512")]}).encode(), False, "no RS256 or ES256"),
        (OVERSIZE, False, "larger than 262144 bytes"),
        (OVERSIZE, True, "larger than 262144 bytes"),  # no Content-Length to go by
    ],
)
def test_a_key_set_that_is_garbage_or_too_large_fails_closed(
    provider: Provider, raw: bytes, chunked: bool, detail: str
) -> None:
    assert len(OVERSIZE) > 256 * 1024
    provider.raw, provider.chunked = raw, chunked
    client = client_for(provider.url, Clock())
    refused(call(client, token("k1")), 503, detail)


def test_a_slow_provider_is_given_up_on_in_bounded_time(provider: Provider) -> None:
    provider.keys, provider.drip_seconds = [rsa_jwk("k1")], 0.2
    client = client_for(provider.url, Clock(), timeout=0.5)
    started = time.monotonic()
    refused(call(client, token("k1")), 503, "took over 0.5 s")
    assert time.monotonic() - started < 2.0


def test_keys_held_stay_in_use_while_the_provider_is_down(provider: Provider) -> None:
    clock = Clock()
    provider.keys = [rsa_jwk("k1")]
    client = client_for(provider.url, clock)
    assert call(client, token("k1")).status_code == 200
    provider.status = 503
    clock.now += MAX_AGE_SECONDS + 1  # old enough to be read again: the read fails
    assert call(client, token("k1")).status_code == 200
    assert provider.reads == 2
    # a kid we do not hold cannot be told unknown while the provider cannot be read
    clock.now += REFRESH_SECONDS
    refused(call(client, token("k2")), 503, "answered 503")


def test_a_withdrawn_key_stops_verifying_within_the_hour(provider: Provider) -> None:
    clock = Clock()
    provider.keys = [rsa_jwk("k1")]
    client = client_for(provider.url, clock)
    assert call(client, token("k1")).status_code == 200
    provider.keys = [rsa_jwk("k2", OTHER_RSA_KEY)]
    clock.now += MAX_AGE_SECONDS - 1
    assert call(client, token("k1")).status_code == 200  # cached: not read again yet
    clock.now += 1
    refused(call(client, token("k1")), 401, "publishes no key 'k1'")
    assert provider.reads == 2


@pytest.mark.parametrize("alg", ["HS256", "none", "RS512"])
def test_only_rs256_and_es256_are_accepted(provider: Provider, alg: str) -> None:
    """Above all no HS256 keyed with what the provider publishes (the algorithm confusion)."""
    oct_key = {"kty": "oct", "kid": "shared", "k": b64(b"a-shared-secret")}
    provider.keys = [rsa_jwk("k1"), oct_key]
    client = client_for(provider.url, Clock())
    published = json.dumps(rsa_jwk("k1")).encode()
    for kid, key in (("k1", published), ("shared", b"a-shared-secret")):
        refused(call(client, token(kid, alg=alg, key=key)), 401, "not accepted")


def test_a_token_naming_no_kid_is_refused(provider: Provider) -> None:
    provider.keys = [rsa_jwk("k1")]
    refused(call(client_for(provider.url, Clock()), token(None)), 401, "names no key")
    assert provider.reads == 0


def test_the_configured_secret_no_longer_verifies_once_a_provider_is_set(
    provider: Provider,
) -> None:
    provider.keys = [rsa_jwk("k1")]
    secret = "a-secret-that-would-once-have-done-0001"
    settings = settings_for(provider.url, jwt_secret=secret)
    keys = KeySet(provider.url, clock=Clock())
    assert verify_token(token("k1"), settings, keys=keys).subject == "sme-platform"
    with pytest.raises(Unauthorized, match="not accepted"):
        verify_token(token("k1", alg="HS256", key=secret.encode()), settings, keys=keys)


def test_the_token_endpoint_cannot_run_beside_a_provider() -> None:
    settings = settings_for("https://idp.example/jwks", enable_token_endpoint=True)
    with pytest.raises(ValueError, match="POLICY_MATCH_ENABLE_TOKEN_ENDPOINT=false"):
        check_settings(settings)
    app = FastAPI()
    app.include_router(auth_routes.router)
    app.state.settings = settings
    with pytest.raises(ValueError, match="JWKS_URL"), TestClient(app):
        pass


def test_the_provider_url_must_be_https_in_production() -> None:
    with pytest.raises(ValueError, match="https in production"):
        settings_for("http://idp.intranet/jwks", environment="production")
    with pytest.raises(ValueError, match="http"):
        settings_for("file:///etc/jwks.json")
    production = settings_for(
        "https://idp.intranet/jwks", environment="production", push_secret_keys="x"
    )
    assert production.jwt_jwks_url == "https://idp.intranet/jwks"


def test_the_service_matches_with_a_provider_token(provider: Provider, tmp_path: Path) -> None:
    """The whole service, its match route authorizing by itself rather than by dependency."""
    provider.keys = [rsa_jwk("k1")]
    url = f"sqlite:///{tmp_path / 'policy_match.db'}"
    upgrade_database(url)
    with serve(url, jwt_jwks_url=provider.url, enable_token_endpoint=False) as client:
        answer = client.post(
            "/v1/match", json=FULL_PROFILE, headers={"Authorization": f"Bearer {token('k1')}"}
        )
        assert answer.status_code == 200, answer.text
        assert "matched" in answer.json()
        refused(
            client.post(
                "/v1/match",
                json=FULL_PROFILE,
                headers={"Authorization": f"Bearer {token('k1', key=OTHER_RSA_KEY)}"},
            ),
            401,
            "signature",
        )
    assert provider.reads == 1


def test_the_document_declares_503_where_a_token_is_needed() -> None:
    document = make_app("https://idp.example/jwks", Clock()).openapi()
    assert "503" in document["paths"]["/protected"]["get"]["responses"]


def test_a_slow_read_of_the_provider_holds_up_no_other_request(provider: Provider) -> None:
    """The read runs off the event loop: a token with a key held is answered meanwhile."""
    clock = Clock()
    provider.keys = [rsa_jwk("k1")]
    with TestClient(make_app(provider.url, clock, timeout=1.5)) as client:
        assert call(client, token("k1")).status_code == 200
        clock.now += REFRESH_SECONDS  # a new kid may now be looked for
        provider.drip_seconds = 0.15  # the provider now answers slowly: about a second
        slow: list[httpx.Response] = []
        reader = threading.Thread(target=lambda: slow.append(call(client, token("k2"))))
        reader.start()
        while provider.reads < 2:  # the slow read has begun
            time.sleep(0.01)
        started = time.monotonic()
        assert call(client, token("k1")).status_code == 200
        assert time.monotonic() - started < 0.5
        reader.join()
        refused(slow[0], 401, "publishes no key 'k2'")  # read, slowly, and k2 is not there
        assert provider.reads == 2
