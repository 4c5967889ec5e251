"""Signing in to the console as a person does: the sign-in page's form, with its CSRF token."""

import json
import re

from fastapi.testclient import TestClient
from httpx import Response

from service.api.clients import hash_client_secret
from service.cli.clients import DEMO_CLIENTS

# The demo clients, hashed cheaply (bcrypt's 4 rounds: the suite signs in often)
DEMO_AUTH_CLIENTS = json.dumps(
    [
        {
            "client_id": client_id,
            "secret_hash": hash_client_secret(secret, rounds=4),
            "scopes": scopes,
            **({"bank_id": bank} if bank else {}),
        }
        for client_id, secret, scopes, bank in DEMO_CLIENTS
    ]
)
SECRETS = {client_id: secret for client_id, secret, _, _ in DEMO_CLIENTS}
DEMO_SCOPES = {client_id: set(scopes) for client_id, _, scopes, _ in DEMO_CLIENTS}


def form_token(html: str, name: str = "csrf_token") -> str:
    """The value of a form's hidden field `name` in a page."""
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, html[:2000]
    return found.group(1)


def sign_in(
    client: TestClient, client_id: str, secret: str | None = None, next: str | None = None
) -> Response:
    """Open the sign-in page and send its form (the answer is not followed)."""
    page = client.get("/console/sign-in", params={"next": next} if next else None)
    assert page.status_code == 200, page.text
    form = page.text.partition('id="sign-in-form"')[2]  # not the sign-out form of a session
    answer: Response = client.post(
        "/console/sign-in",
        data={
            "client_id": client_id,
            "client_secret": SECRETS[client_id] if secret is None else secret,
            "csrf_token": form_token(form),
            "next": form_token(form, "next"),
        },
        follow_redirects=False,
    )
    return answer


def page_csrf(client: TestClient, path: str = "/console/") -> str:
    """The session's CSRF token, as a signed-in page's forms carry it."""
    return form_token(client.get(path).text)
