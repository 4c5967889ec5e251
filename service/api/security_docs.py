"""How the API's security is documented: OAuth 2.0 client credentials or a pasted bearer token.

Only documentation: the schemes are declared here and attached to each protected operation of
the OpenAPI document; verifying tokens is service/api/auth.py's work. The token URL and the
clients named in the Authorize dialog come from the settings (POLICY_MATCH_OAUTH_TOKEN_URL,
POLICY_MATCH_AUTH_CLIENTS).
"""

from collections.abc import Iterable
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.openapi.models import OAuthFlowClientCredentials, OAuthFlows
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.security import HTTPBearer, OAuth2
from starlette.routing import BaseRoute

from service.api.clients import Scope, token_clients
from service.core.settings import Settings, get_settings

OAUTH2 = "OAuth2"
BEARER = "BearerToken"

SCOPE_DESCRIPTIONS = {
    Scope.MATCH: "匹配企业画像 · Match profiles: POST /v1/match, POST /v1/match/batch",
    Scope.ENTERPRISES_READ: "读取企业档案 · Read stored enterprises and their matches",
    Scope.ENTERPRISES_WRITE: "保存或删除企业档案 · Store or delete enterprise profiles",
    Scope.ELIGIBILITY_READ: "银行:措施的合资格企业 · Banks: which consenting enterprises are "
    "eligible for a measure",
    Scope.PUSH: "订阅与推送 · Subscriptions and the push feed",
    Scope.CATALOGUE_ADMIN: "重新加载或发布措施目录 · Reload or publish a policy catalogue",
    Scope.AUDIT_READ: "审计:银行查询披露了什么 · Auditors: list what the bank query disclosed, "
    "to whom and when",
    Scope.STATS_READ: "方案目标进度 · GET /v1/plan/progress: the plan's targets against the "
    "stored firms",
}

_bearer = HTTPBearer(
    scheme_name=BEARER, description="粘贴 JWT 令牌 · A JWT pasted in", auto_error=False
)


def _clients_held(settings: Settings) -> tuple[list[str], list[str]]:
    """Lines naming each development client and the scopes it holds, in Chinese and English."""
    if not settings.enable_token_endpoint:
        return [], []
    zh, en = [], []
    for client in token_clients(settings).values():
        scopes = sorted(client.scopes)
        zh_bank = f"(银行 {client.bank_id})" if client.bank_id else ""
        en_bank = f" (bank {client.bank_id})" if client.bank_id else ""
        zh.append(f"- `{client.client_id}`{zh_bank}:{'、'.join(scopes)}")
        en.append(f"- `{client.client_id}`{en_bank}: {', '.join(scopes)}")
    return zh, en


def oauth2_description(settings: Settings) -> str:
    """What the Authorize dialog says: how to get a token, and which client holds which scopes."""
    url = settings.oauth_token_url
    zh_clients, en_clients = _clients_held(settings)
    zh = [
        f"OAuth 2.0 客户端凭证:填写客户端编号和密钥,勾选要申请的权限范围;令牌来自 {url}。"
        "全部勾选也可以:只授予该客户端持有的范围,答复的 `scope` 列出实际授予的范围。"
    ]
    en = [
        f"OAuth 2.0 client credentials: enter the client id and secret and tick the scopes to "
        f"ask for; tokens come from {url}. Ticking all is fine: only the scopes the client "
        "holds are granted, and the answer's `scope` names them."
    ]
    if zh_clients:
        zh += ["", "本服务的开发客户端及其权限范围:", *zh_clients]
        en += ["", "The development clients here, and the scopes each holds:", *en_clients]
    return "\n".join([*zh, "", *en])


def _oauth2(settings: Settings) -> OAuth2:
    flow = OAuthFlowClientCredentials(
        tokenUrl=settings.oauth_token_url,
        scopes={str(s): d for s, d in SCOPE_DESCRIPTIONS.items()},
    )
    return OAuth2(
        flows=OAuthFlows(clientCredentials=flow),
        scheme_name=OAUTH2,
        description=oauth2_description(settings),
        auto_error=False,
    )


def secured(scope: str) -> dict[str, Any]:
    """`openapi_extra` for a route that calls authorize() itself rather than by dependency."""
    return {"security": [{OAUTH2: [Scope(scope)]}, {BEARER: []}]}


def document_security(
    document: dict[str, Any], routes: Iterable[BaseRoute], settings: Settings | None = None
) -> None:
    """Add the security schemes, and each protected operation's scope, to an OpenAPI document."""
    schemes = document.setdefault("components", {}).setdefault("securitySchemes", {})
    for scheme in (_oauth2(settings or get_settings()), _bearer):
        schemes[scheme.scheme_name] = scheme.model.model_dump(
            mode="json", by_alias=True, exclude_none=True
        )
    # Included routers are kept whole (FastAPI ≥ 0.160): their routes, with the prefix they
    # were included under, come from iter_route_contexts.
    for context in iter_route_contexts(list(routes)):
        route = context.original_route
        if not isinstance(route, APIRoute):
            continue
        scope = _required_scope(route.dependant)
        if scope is None:
            continue
        for method in context.methods or ():
            operation = document["paths"].get(context.path_format, {}).get(method.lower())
            if operation is not None:
                operation["security"] = [{OAUTH2: [scope]}, {BEARER: []}]


def _required_scope(dependant: Dependant) -> str | None:
    for dependency in dependant.dependencies:
        scope = getattr(dependency.call, "required_scope", None) or _required_scope(dependency)
        if scope:
            return str(scope)
    return None
