"""POST /v1/auth/token: the development token endpoint (OAuth 2.0 client credentials).

Errors use the OAuth shape of RFC 6749 §5.2 (`error`, `error_description`) and are still
problem+json (`type`, `title`, `status`, `detail`), so both kinds of client can read them.
"""

import base64
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any, Literal
from urllib.parse import parse_qs, unquote_plus

import orjson
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from service.api.body import read_at_most
from service.api.clients import Scope, TokenClient, authenticate_client
from service.api.deps import current_settings
from service.api.openapi import REF, problems
from service.api.openapi_texts import Tag
from service.api.problems import request_language
from service.api.request_ids import problem_instance
from service.api.tokens import check_settings, issue_token
from service.core.errors import PROBLEM_BASE, PROBLEM_JSON, NotFound
from service.core.i18n import Language, Text, message, translate
from service.core.settings import Settings, get_settings
from service.policy.profile import enum_labels

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
FORM = "application/x-www-form-urlencoded"
_TITLES = {
    "invalid_request": message("Invalid request"),
    "invalid_client": message("Invalid client"),
    "unsupported_grant_type": message("Unsupported grant type"),
    "invalid_scope": message("Invalid scope"),
}


@asynccontextmanager
async def _refuse_unusable_settings(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = getattr(app.state, "settings", None) or get_settings()
    check_settings(settings)
    yield


router = APIRouter(prefix="/v1/auth", tags=[Tag.AUTH], lifespan=_refuse_unusable_settings)


class TokenResponse(BaseModel):
    """A bearer token, as RFC 6749 §5.1 answers it."""

    access_token: str
    token_type: Annotated[
        Literal["bearer"], Field(json_schema_extra=enum_labels({"bearer": "持有者令牌"}))
    ] = "bearer"
    expires_in: int = Field(description="seconds until the token expires", examples=[3600])
    scope: str = Field(description="the scopes granted, space-separated", examples=["match"])


class OAuthError(Exception):
    """A refusal in the shape of RFC 6749 §5.2 (the `error` code is never translated)."""

    def __init__(self, error: str, description: Text) -> None:
        super().__init__(str(description))
        self.error, self.description = error, description
        self.status = 401 if error == "invalid_client" else 400

    def response(self, language: Language) -> Response:
        """The refusal as problem+json carrying `error` and `error_description`, in `language`."""
        description = translate(self.description, language)
        body = {
            "type": PROBLEM_BASE + self.error.replace("_", "-"),
            "title": _TITLES[self.error].translate(language),
            "status": self.status,
            "detail": description,
            "instance": problem_instance(),
            "error": self.error,
            "error_description": description,
        }
        headers = {**NO_STORE, "Content-Language": language, "Vary": "Accept-Language"}
        if self.status == 401:
            headers["WWW-Authenticate"] = 'Basic realm="policy-match"'
        return Response(orjson.dumps(body), self.status, headers, media_type=PROBLEM_JSON)


FORM_LIMIT = 8192  # a client-credentials form is a few hundred bytes


async def _form(request: Request) -> dict[str, str]:
    if request.headers.get("content-type", "").partition(";")[0].strip().lower() != FORM:
        raise OAuthError("invalid_request", message("the body must be {form}", form=FORM))
    try:
        body = await read_at_most(request, FORM_LIMIT)
        fields = parse_qs(body.decode(), keep_blank_values=True, max_num_fields=16)
    except ValueError as e:  # also UnicodeDecodeError
        raise OAuthError("invalid_request", message("the body is not a readable form")) from e
    repeated = sorted(name for name, values in fields.items() if len(values) > 1)
    if repeated:
        raise OAuthError(
            "invalid_request",
            message("parameter {name} is given more than once", name=repeated[0]),
        )
    return {name: values[0] for name, values in fields.items()}


def _basic(header: str) -> tuple[str, str]:
    scheme, _, encoded = header.partition(" ")
    try:
        if scheme.lower() != "basic":
            raise ValueError(scheme)
        client_id, colon, secret = base64.b64decode(encoded, validate=True).decode().partition(":")
    except ValueError as e:  # binascii.Error and UnicodeDecodeError included
        raise OAuthError(
            "invalid_client", message("the Authorization header is not HTTP Basic")
        ) from e
    if not colon:
        raise OAuthError(
            "invalid_client", message("HTTP Basic credentials must be client_id:secret")
        )
    return unquote_plus(client_id), unquote_plus(secret)  # form-encoded: RFC 6749 §2.3.1


def _client_credentials(request: Request, form: dict[str, str]) -> tuple[str, str]:
    header = request.headers.get("authorization")
    if header is None:
        if not form.get("client_id") or "client_secret" not in form:
            raise OAuthError(
                "invalid_client",
                message(
                    "client authentication is required: HTTP Basic, "
                    "or client_id and client_secret in the form"
                ),
            )
        return form["client_id"], form["client_secret"]
    if "client_secret" in form:
        raise OAuthError(
            "invalid_request", message("use one client authentication method, not two")
        )
    client_id, secret = _basic(header)
    if form.get("client_id", client_id) != client_id:
        raise OAuthError("invalid_request", message("client_id differs from the Basic credentials"))
    return client_id, secret


def _granted(client: TokenClient, requested: str | None) -> frozenset[str]:
    """The scopes to grant: those asked for that the client holds (all it holds if none asked).

    RFC 6749 §3.3 lets the server grant less than asked, and the answer's `scope` says what was
    granted: ticking "select all" in Swagger UI's Authorize then works for every client. A
    scope that does not exist is a mistake worth saying (invalid_scope), and so is asking for
    nothing the client holds.
    """
    asked = frozenset((requested or "").split())
    if not asked:
        return frozenset(client.scopes)
    unknown = sorted(asked - set(Scope))
    if unknown:
        raise OAuthError(
            "invalid_scope", message("no such scope: {scopes}", scopes=" ".join(unknown))
        )
    granted = asked & client.scopes
    if not granted:
        raise OAuthError(
            "invalid_scope",
            message(
                "none of the scopes asked for is granted to this client: {scopes}",
                scopes=" ".join(sorted(asked)),
            ),
        )
    return granted


_FORM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["grant_type"],
    "properties": {
        "grant_type": {
            "type": "string",
            "enum": ["client_credentials"],
            "x-enum-varnames": ["CLIENT_CREDENTIALS"],
            "x-enum-descriptions": ["客户端凭证模式"],
        },
        "scope": {"type": "string", "description": "space-separated: " + " ".join(Scope)},
        "client_id": {"type": "string", "description": "unless sent as HTTP Basic"},
        "client_secret": {"type": "string", "format": "password"},
    },
}


def _refusal(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {PROBLEM_JSON: {"schema": {"$ref": REF.format(model="OAuthError")}}},
    }


@router.post(
    "/token",
    operation_id="issueAccessToken",
    summary=(
        "用客户端凭证换取令牌（开发用） · Exchange client credentials for a bearer token "
        "(development)"
    ),
    description=(
        "按 OAuth 2.0 客户端凭证模式（RFC 6749 §4.4）发放令牌。表单字段："
        "`grant_type=client_credentials`，可选的 `scope`（空格分隔，须为该客户端拥有的范围，"
        "默认全部），以及客户端凭证（HTTP Basic，或表单中的 `client_id` 和 `client_secret`）。"
        "拒绝时按 RFC 6749 §5.2 答复（`error`、`error_description`）。客户端来自 "
        "`POLICY_MATCH_AUTH_CLIENTS`；`POLICY_MATCH_ENABLE_TOKEN_ENDPOINT` 为 false "
        "时及生产环境中不可用（404）。"
    ),
    response_model=TokenResponse,
    responses={
        400: _refusal(
            "请求无效、授权类型不支持或范围无效。"
            "invalid_request, unsupported_grant_type or invalid_scope"
        ),
        401: _refusal("客户端未知或密钥错误。invalid_client: unknown client or wrong secret"),
        **problems(404),
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                FORM: {
                    "schema": _FORM_SCHEMA,
                    "example": {
                        "grant_type": "client_credentials",
                        "scope": "match",
                        "client_id": "demo-platform",
                        "client_secret": "demo-platform-secret-0001",
                    },
                }
            },
        }
    },
)
async def issue_access_token(
    request: Request, settings: Annotated[Settings, Depends(current_settings)]
) -> Response:
    """Issue a bearer token to a client of POLICY_MATCH_AUTH_CLIENTS (RFC 6749 §4.4).

    Form fields: `grant_type=client_credentials`, optional `scope` (space-separated; default:
    all of the client's scopes), and the client's credentials as HTTP Basic or as `client_id`
    and `client_secret` fields. Of the scopes asked for, those the client holds are granted and
    named in the answer's `scope` (RFC 6749 §3.3); none of them held is `invalid_scope`:

        curl -s -u demo-platform:demo-platform-secret-0001 \\
             -d grant_type=client_credentials -d scope=match \\
             http://localhost:8000/v1/auth/token

    answers `{"access_token": "eyJ…", "token_type": "bearer", "expires_in": 3600, "scope":
    "match"}`; send it as `Authorization: Bearer eyJ…`. Clients come from
    `POLICY_MATCH_AUTH_CLIENTS`; when it is empty there are none. Disabled (404) when
    `POLICY_MATCH_ENABLE_TOKEN_ENDPOINT` is false, and always in production.
    """
    if not settings.enable_token_endpoint:
        raise NotFound(message("no endpoint at {path}", path=request.url.path))
    try:
        form = await _form(request)
        grant_type = form.get("grant_type")
        if not grant_type:
            raise OAuthError("invalid_request", message("grant_type is required"))
        if grant_type != "client_credentials":
            raise OAuthError(
                "unsupported_grant_type", message("only client_credentials is supported")
            )
        client_id, secret = _client_credentials(request, form)
        client = await run_in_threadpool(
            authenticate_client, client_id=client_id, client_secret=secret, settings=settings
        )
        if client is None:
            raise OAuthError("invalid_client", message("unknown client or wrong client secret"))
        scopes = _granted(client, form.get("scope"))
    except OAuthError as refusal:
        return refusal.response(request_language(request))
    access_token, expires_in = issue_token(
        subject=client.client_id, scopes=scopes, bank_id=client.bank_id, settings=settings
    )
    body = TokenResponse(
        access_token=access_token, expires_in=expires_in, scope=" ".join(sorted(scopes))
    )
    return Response(body.model_dump_json(), headers=NO_STORE, media_type="application/json")
