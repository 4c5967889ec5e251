"""A real OpenID Connect provider on loopback, small enough to read: discovery, an authorization
endpoint that signs the user in at once, a token endpoint that checks the client, the redirect
URI and the PKCE verifier against the challenge (S256), and its JWK set. Tokens are RS256.

`Idp.scope` is what the signed-in user's access token grants; `Idp.tamper` spoils one claim of
the next tokens, to see the console refuse them. `Idp.pkce_checked` counts verifiers checked.
"""

import base64
import hashlib
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import orjson
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jose import jwk, jws

CLIENT_ID = "policy-match-console"
CLIENT_SECRET = "console-client-secret-0001"
KID = "idp-key-1"


def b64(data: bytes) -> str:
    """base64url without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class Idp:
    """The provider's address, its user's scopes, and what it saw."""

    url: str = ""
    subject: str = "staff-0042"
    scope: str = "push audit:read"
    tamper: dict[str, Any] = field(default_factory=dict)
    pkce_checked: int = 0
    refused: list[str] = field(default_factory=list)
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    key: Any = None

    def sign(self, claims: dict[str, Any]) -> str:
        """A JWT of `claims` under the provider's key."""
        pem = self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        return str(
            jws.sign(claims, jwk.construct(pem, "RS256"), algorithm="RS256", headers={"kid": KID})
        )

    def public_jwk(self) -> dict[str, Any]:
        """The provider's key as its JWK set lists it."""
        numbers = self.key.public_key().public_numbers()
        length = (numbers.n.bit_length() + 7) // 8
        return {
            "kty": "RSA",
            "kid": KID,
            "use": "sig",
            "alg": "RS256",
            "n": b64(numbers.n.to_bytes(length, "big")),
            "e": b64(numbers.e.to_bytes(3, "big").lstrip(b"\0")),
        }

    def tokens(self, nonce: str) -> dict[str, Any]:
        """The token endpoint's answer for the signed-in user."""
        now = int(time.time())
        access = {
            "sub": self.subject,
            "scope": self.scope,
            "aud": "policy-match",
            "iss": self.url,
            "iat": now,
            "exp": now + 600,
        }
        identity = {
            "sub": self.subject,
            "aud": CLIENT_ID,
            "iss": self.url,
            "iat": now,
            "exp": now + 600,
            "nonce": nonce,
        }
        for name, value in self.tamper.items():  # "id.nonce": "x", "access.aud": "y"
            which, _, claim = name.partition(".")
            (identity if which == "id" else access)[claim] = value
        return {
            "access_token": self.sign(access),
            "id_token": self.sign(identity),
            "token_type": "Bearer",
            "expires_in": 600,
        }


def _handler(idp: Idp) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _json(self, status: int, body: Any) -> None:
            data = orjson.dumps(body)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            if parts.path == "/.well-known/openid-configuration":
                self._json(
                    200,
                    {
                        "issuer": idp.url,
                        "authorization_endpoint": f"{idp.url}/authorize",
                        "token_endpoint": f"{idp.url}/token",
                        "jwks_uri": f"{idp.url}/jwks",
                        "code_challenge_methods_supported": ["S256"],
                        "response_types_supported": ["code"],
                    },
                )
            elif parts.path == "/jwks":
                self._json(200, {"keys": [idp.public_jwk()]})
            elif parts.path == "/authorize":
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                if (
                    query.get("client_id") != CLIENT_ID
                    or query.get("response_type") != "code"
                    or query.get("code_challenge_method") != "S256"
                    or not query.get("code_challenge")
                    or "openid" not in query.get("scope", "").split()
                ):
                    idp.refused.append("authorize")
                    self._json(400, {"error": "invalid_request"})
                    return
                code = secrets.token_urlsafe(16)
                idp.codes[code] = query
                back = {"code": code, "state": query["state"]}
                self.send_response(302)
                self.send_header("Location", f"{query['redirect_uri']}?{urlencode(back)}")
                self.end_headers()
            else:
                self._json(404, {"error": "not_found"})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
            if self.headers.get("Authorization") != f"Basic {basic}":
                idp.refused.append("client")
                self._json(401, {"error": "invalid_client"})
                return
            asked = idp.codes.pop(form.get("code", ""), None)
            verifier = form.get("code_verifier", "")
            challenge = b64(hashlib.sha256(verifier.encode()).digest())
            if (
                asked is None
                or form.get("grant_type") != "authorization_code"
                or form.get("redirect_uri") != asked["redirect_uri"]
                or challenge != asked["code_challenge"]
            ):
                idp.refused.append("grant")
                self._json(400, {"error": "invalid_grant"})
                return
            idp.pkce_checked += 1
            self._json(200, idp.tokens(asked["nonce"]))

    return Handler


def start_idp() -> Iterator[Idp]:
    """The provider on a free loopback port, until the generator is closed."""
    idp = Idp(key=rsa.generate_private_key(public_exponent=65537, key_size=2048))
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(idp))
    idp.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield idp
    finally:
        server.shutdown()
        server.server_close()
