"""Bearer tokens and the development token endpoint, through a small app: the caller a token
makes, the token cache, OAuth client credentials. Attacks on tokens are in test_security.py."""

import base64
import hashlib
import hmac
import json
import time
from typing import Annotated, Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from service.api import tokens
from service.api.auth import Caller, require, verify_token
from service.api.clients import Scope, hash_client_secret
from service.api.openapi import install_openapi
from service.api.problems import install_error_handlers
from service.api.routes import auth as auth_routes
from service.core.errors import Unauthorized
from service.core.settings import Settings
from tests.factories import b64
from tests.keys import rsa_key_pair

SECRET = "a-test-secret-that-is-long-enough-0001"
PLATFORM_SECRET = "platform-secret-0123456789"
BANK_SECRET = "bank-secret-0123456789abcd"
CLIENTS = json.dumps(
    [
        {
            "client_id": "platform",
            "secret_hash": hash_client_secret(PLATFORM_SECRET, rounds=4),
            "scopes": ["match", "enterprises:read"],
        },
        {
            "client_id": "bank-1",
            "secret_hash": hash_client_secret(BANK_SECRET, rounds=4),
            "scopes": ["eligibility:read"],
            "bank_id": "bank-demo-1",
        },
    ]
)
RSA_KEY, PRIVATE_PEM, PUBLIC_PEM = rsa_key_pair()


def make_settings(**overrides: Any) -> Settings:
    """Settings for a test, independent of the environment and any .env file."""
    values: dict[str, Any] = {
        "environment": "test",
        "jwt_secret": SECRET,
        "jwt_public_key": None,
        "jwt_private_key": None,
        "jwt_audience": "policy-match",
        "jwt_issuer": None,
        "token_ttl_seconds": 3600,
        "auth_clients": CLIENTS,
        "enable_token_endpoint": True,
    }
    return Settings(_env_file=None, **{**values, **overrides})


def make_app(settings: Settings) -> FastAPI:
    """The auth router and one route that needs the `match` scope."""
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(auth_routes.router)

    @app.get("/protected")
    async def protected(
        caller: Annotated[Caller, Depends(require(Scope.MATCH))],
    ) -> dict[str, Any]:
        return {
            "subject": caller.subject,
            "bank_id": caller.bank_id,
            "is_bank": caller.is_bank,
            "scopes": sorted(caller.scopes),
            "token_id": caller.token_id,
        }

    app.state.settings = settings
    install_openapi(app)
    return app


def client_for(**overrides: Any) -> TestClient:
    """A test client of the small app with these settings."""
    return TestClient(make_app(make_settings(**overrides)))


def jwt(claims: dict[str, Any], *, alg: str = "HS256", key: str | bytes = SECRET) -> str:
    """A JWT signed by hand, so tests do not trust the code under test to forge tokens."""
    head = b64(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    signing_input = f"{head}.{b64(json.dumps(claims).encode())}".encode()
    if alg == "HS256":
        raw = key.encode() if isinstance(key, str) else key
        signature = hmac.new(raw, signing_input, hashlib.sha256).digest()
    elif alg == "RS256":
        signature = RSA_KEY.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    else:
        signature = b""
    return f"{signing_input.decode()}.{b64(signature)}"


def claims(**changes: Any) -> dict[str, Any]:
    """Valid claims for a platform token, with changes (None removes a claim)."""
    now = int(time.time())
    base = {
        "sub": "sme-platform",
        "scope": "match enterprises:read",
        "aud": "policy-match",
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "jti": "t-1",
    }
    return {k: v for k, v in {**base, **changes}.items() if v is not None}


def call(client: TestClient, token: str) -> Any:
    """GET /protected with this bearer token."""
    return client.get("/protected", headers={"Authorization": f"Bearer {token}"})


def refusal(response: Any, status: int, detail: str) -> None:
    """The response is a problem+json refusal whose detail mentions `detail`."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and detail in body["detail"], body
    assert {"type", "title"} <= set(body)


def test_a_valid_hs256_token_is_accepted() -> None:
    response = call(client_for(), jwt(claims()))
    assert response.status_code == 200, response.text
    assert response.json() == {
        "subject": "sme-platform",
        "bank_id": None,
        "is_bank": False,
        "scopes": ["enterprises:read", "match"],
        "token_id": "t-1",
    }


def test_a_public_key_from_a_one_line_environment_variable_works() -> None:
    client = client_for(jwt_public_key=PUBLIC_PEM.replace("\n", "\\n"))
    assert call(client, jwt(claims(), alg="RS256")).status_code == 200


def test_an_audience_list_naming_the_service_is_accepted() -> None:
    assert call(client_for(), jwt(claims(aud=["x", "policy-match"]))).status_code == 200


def test_a_missing_header_is_401_problem_json_with_www_authenticate() -> None:
    response = client_for().get("/protected")
    refusal(response, 401, "missing bearer token")
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_a_garbage_token_is_401() -> None:
    refusal(call(client_for(), "not.a.jwt"), 401, "well-formed")


def test_a_token_without_the_scope_is_403_naming_it() -> None:
    response = call(client_for(), jwt(claims(scope="push enterprises:read")))
    refusal(response, 403, "match")
    assert 'scope="match"' in response.headers["www-authenticate"]


def test_bank_id_is_carried_into_the_caller() -> None:
    response = call(client_for(), jwt(claims(bank_id="bank-demo-1")))
    assert response.json()["bank_id"] == "bank-demo-1" and response.json()["is_bank"] is True


def test_the_cache_does_not_accept_an_expired_token() -> None:
    settings = make_settings()
    now = time.time()
    token = jwt(claims(exp=int(now) + 60))
    assert verify_token(token, settings, now=now) == verify_token(token, settings, now=now + 1)
    with pytest.raises(Unauthorized, match="token expired"):
        verify_token(token, settings, now=now + 61)


def test_the_cache_does_not_carry_a_token_across_keys() -> None:
    token = jwt(claims())
    assert isinstance(verify_token(token, make_settings()), Caller)
    with pytest.raises(Unauthorized):
        verify_token(token, make_settings(jwt_secret="a-different-secret-altogether"))
    with pytest.raises(Unauthorized):
        verify_token(token, make_settings(jwt_public_key=PUBLIC_PEM))


def test_the_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tokens, "CACHE_SIZE", 2)
    settings = make_settings(jwt_audience="cache-bound-test")
    for n in range(3):
        verify_token(jwt(claims(jti=f"bound-{n}", aud="cache-bound-test")), settings)
    assert len(tokens._cache) <= 2


def token_request(client: TestClient, **form: str) -> Any:
    """POST /v1/auth/token with a form body (and Basic credentials if `basic` is given)."""
    basic = form.pop("basic", None)
    headers = {}
    if basic:
        headers["Authorization"] = "Basic " + base64.b64encode(basic.encode()).decode()
    return client.post("/v1/auth/token", data=form, headers=headers)


def oauth_refusal(response: Any, status: int, error: str) -> None:
    """An RFC 6749 §5.2 refusal that is also problem+json."""
    refusal(response, status, "")
    assert response.json()["error"] == error and response.json()["error_description"]
    assert response.headers["cache-control"] == "no-store"


def test_the_token_endpoint_accepts_basic_credentials() -> None:
    client = client_for()
    response = token_request(
        client, grant_type="client_credentials", basic=f"platform:{PLATFORM_SECRET}"
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600
    assert body["scope"] == "enterprises:read match"
    assert response.headers["cache-control"] == "no-store"
    assert call(client, body["access_token"]).json()["subject"] == "platform"


def test_the_token_endpoint_accepts_form_credentials_and_carries_bank_id() -> None:
    client = client_for()
    response = token_request(
        client, grant_type="client_credentials", client_id="bank-1", client_secret=BANK_SECRET
    )
    assert response.status_code == 200, response.text
    caller = verify_token(response.json()["access_token"], make_settings())
    assert caller.bank_id == "bank-demo-1" and caller.scopes == {"eligibility:read"}


def test_the_token_endpoint_signs_rs256_with_the_private_key() -> None:
    client = client_for(jwt_public_key=PUBLIC_PEM, jwt_private_key=PRIVATE_PEM)
    response = token_request(
        client, grant_type="client_credentials", basic=f"platform:{PLATFORM_SECRET}"
    )
    assert call(client, response.json()["access_token"]).status_code == 200


def test_a_wrong_secret_is_401_invalid_client() -> None:
    response = token_request(
        client_for(), grant_type="client_credentials", basic="platform:wrong-secret-0123456789"
    )
    oauth_refusal(response, 401, "invalid_client")
    assert response.headers["www-authenticate"].startswith("Basic")


def test_an_unknown_client_is_401_invalid_client() -> None:
    response = token_request(
        client_for(),
        grant_type="client_credentials",
        client_id="nobody",
        client_secret=PLATFORM_SECRET,
    )
    oauth_refusal(response, 401, "invalid_client")


def test_without_configured_clients_every_client_is_invalid() -> None:
    response = token_request(
        client_for(auth_clients=""),
        grant_type="client_credentials",
        basic=f"platform:{PLATFORM_SECRET}",
    )
    oauth_refusal(response, 401, "invalid_client")


def test_an_unsupported_grant_is_400() -> None:
    response = token_request(
        client_for(), grant_type="password", basic=f"platform:{PLATFORM_SECRET}"
    )
    oauth_refusal(response, 400, "unsupported_grant_type")


def test_a_scope_subset_is_granted() -> None:
    client = client_for()
    response = token_request(
        client,
        grant_type="client_credentials",
        scope="enterprises:read",
        basic=f"platform:{PLATFORM_SECRET}",
    )
    assert response.json()["scope"] == "enterprises:read"
    refusal(call(client, response.json()["access_token"]), 403, "match")


def test_a_blank_scope_grants_all_of_the_clients_scopes() -> None:
    response = token_request(
        client_for(),
        grant_type="client_credentials",
        scope=" ",
        basic=f"platform:{PLATFORM_SECRET}",
    )
    assert response.json()["scope"] == "enterprises:read match"


@pytest.mark.parametrize(
    ("asked", "granted"),
    [
        ("match push", "match"),
        (" ".join(Scope), "enterprises:read match"),  # "select all" in Swagger's Authorize
        ("enterprises:read catalogue:admin audit:read", "enterprises:read"),
    ],
)
def test_a_client_asking_for_more_is_granted_what_it_holds(asked: str, granted: str) -> None:
    client = client_for()
    response = token_request(
        client, grant_type="client_credentials", scope=asked, basic=f"platform:{PLATFORM_SECRET}"
    )
    assert response.status_code == 200, response.text
    assert response.json()["scope"] == granted  # RFC 6749 §3.3: the answer says what it grants
    caller = verify_token(response.json()["access_token"], make_settings())
    assert caller.scopes == frozenset(granted.split())
    assert call(client, response.json()["access_token"]).status_code == (
        200 if "match" in granted else 403
    )


@pytest.mark.parametrize("scope", ["catalogue:admin", "push audit:read", "match no-such-scope"])
def test_a_scope_beyond_the_client_is_400_invalid_scope(scope: str) -> None:
    response = token_request(
        client_for(),
        grant_type="client_credentials",
        scope=scope,
        basic=f"platform:{PLATFORM_SECRET}",
    )
    oauth_refusal(response, 400, "invalid_scope")


def test_a_secret_longer_than_bcrypt_reads_does_not_match() -> None:
    secret = "s" * 72
    clients = json.dumps(
        [
            {
                "client_id": "long",
                "secret_hash": hash_client_secret(secret, rounds=4),
                "scopes": ["match"],
            }
        ]
    )
    client = client_for(auth_clients=clients)
    ok = token_request(client, grant_type="client_credentials", basic=f"long:{secret}")
    assert ok.status_code == 200
    longer = token_request(client, grant_type="client_credentials", basic=f"long:{secret}x")
    oauth_refusal(longer, 401, "invalid_client")


def test_two_authentication_methods_are_400() -> None:
    response = token_request(
        client_for(),
        grant_type="client_credentials",
        client_secret=PLATFORM_SECRET,
        basic=f"platform:{PLATFORM_SECRET}",
    )
    oauth_refusal(response, 400, "invalid_request")


def test_a_json_body_is_400_invalid_request() -> None:
    response = client_for().post("/v1/auth/token", json={"grant_type": "client_credentials"})
    oauth_refusal(response, 400, "invalid_request")


def test_a_disabled_token_endpoint_is_404() -> None:
    response = token_request(
        client_for(enable_token_endpoint=False),
        grant_type="client_credentials",
        basic=f"platform:{PLATFORM_SECRET}",
    )
    refusal(response, 404, "/v1/auth/token")


@pytest.mark.parametrize(
    "raw", ["not json", "[{}]", '[{"client_id": "x", "secret_hash": "plain", "scopes": ["match"]}]']
)
def test_malformed_clients_stop_the_start_naming_the_setting(raw: str) -> None:
    with (
        pytest.raises(ValueError, match="POLICY_MATCH_AUTH_CLIENTS"),
        TestClient(make_app(make_settings(auth_clients=raw))),
    ):
        pass


def test_client_secrets_must_be_usable_with_bcrypt() -> None:
    with pytest.raises(ValueError):
        hash_client_secret("short")
    with pytest.raises(ValueError):
        hash_client_secret("x" * 73)


def test_openapi_offers_client_credentials_and_a_pasted_token() -> None:
    document = make_app(make_settings()).openapi()
    schemes = document["components"]["securitySchemes"]
    assert schemes["OAuth2"]["flows"]["clientCredentials"]["tokenUrl"] == "/v1/auth/token"
    assert "eligibility:read" in schemes["OAuth2"]["flows"]["clientCredentials"]["scopes"]
    assert schemes["BearerToken"]["scheme"] == "bearer"
    assert document["paths"]["/protected"]["get"]["security"] == [
        {"OAuth2": ["match"]},
        {"BearerToken": []},
    ]
    form = document["paths"]["/v1/auth/token"]["post"]["requestBody"]["content"]
    assert "grant_type" in form["application/x-www-form-urlencoded"]["schema"]["properties"]


def test_the_authorize_dialog_names_each_client_and_its_scopes_in_chinese_first() -> None:
    document = make_app(make_settings()).openapi()
    description = document["components"]["securitySchemes"]["OAuth2"]["description"]
    assert "`platform`:enterprises:read、match" in description
    assert "`bank-1`(银行 bank-demo-1):eligibility:read" in description
    assert "`platform`: enterprises:read, match" in description
    assert description.index("客户端") < description.index("client credentials")
    hidden = make_app(make_settings(enable_token_endpoint=False)).openapi()
    assert "platform" not in hidden["components"]["securitySchemes"]["OAuth2"]["description"]


def test_the_token_url_swagger_uses_is_a_setting() -> None:
    url = "https://idp.example.gov.cn/oauth2/token"
    document = make_app(make_settings(oauth_token_url=url)).openapi()
    flow = document["components"]["securitySchemes"]["OAuth2"]["flows"]["clientCredentials"]
    assert flow["tokenUrl"] == url
    with pytest.raises(ValueError, match="POLICY_MATCH_OAUTH_TOKEN_URL"):
        make_settings(oauth_token_url="ftp://idp/token")
