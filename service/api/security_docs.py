"""How the API's security is documented: OAuth 2.0 client credentials or a pasted bearer token.

Only documentation: the schemes are declared here and attached to each protected operation of
the OpenAPI document; verifying tokens is service/api/auth.py's work.
"""

from collections.abc import Iterable
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.openapi.models import OAuthFlowClientCredentials, OAuthFlows
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.security import HTTPBearer, OAuth2
from starlette.routing import BaseRoute

from service.api.clients import Scope

TOKEN_URL = "/v1/auth/token"

SCOPE_DESCRIPTIONS = {
    Scope.MATCH: "Match profiles: POST /v1/match, POST /v1/match/batch",
    Scope.ENTERPRISES_READ: "Read stored enterprises and their matches",
    Scope.ENTERPRISES_WRITE: "Store or delete enterprise profiles",
    Scope.ELIGIBILITY_READ: "Banks: which consenting enterprises are eligible for a measure",
    Scope.PUSH: "Subscriptions and the push feed",
    Scope.CATALOGUE_ADMIN: "Reload or publish a policy catalogue",
    Scope.AUDIT_READ: "Auditors: list what the bank query disclosed, to whom and when",
    Scope.STATS_READ: "GET /v1/plan/progress: the plan's targets against the stored firms",
}

_oauth2 = OAuth2(
    flows=OAuthFlows(
        clientCredentials=OAuthFlowClientCredentials(
            tokenUrl=TOKEN_URL, scopes={str(s): d for s, d in SCOPE_DESCRIPTIONS.items()}
        )
    ),
    scheme_name="OAuth2",
    description="OAuth 2.0 client credentials; in development tokens come from " + TOKEN_URL,
    auto_error=False,
)
_bearer = HTTPBearer(scheme_name="BearerToken", description="A JWT pasted in", auto_error=False)


def secured(scope: str) -> dict[str, Any]:
    """`openapi_extra` for a route that calls authorize() itself rather than by dependency."""
    return {"security": [{_oauth2.scheme_name: [Scope(scope)]}, {_bearer.scheme_name: []}]}


def document_security(document: dict[str, Any], routes: Iterable[BaseRoute]) -> None:
    """Add the security schemes, and each protected operation's scope, to an OpenAPI document."""
    schemes = document.setdefault("components", {}).setdefault("securitySchemes", {})
    for scheme in (_oauth2, _bearer):
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
                operation["security"] = [{_oauth2.scheme_name: [scope]}, {_bearer.scheme_name: []}]


def _required_scope(dependant: Dependant) -> str | None:
    for dependency in dependant.dependencies:
        scope = getattr(dependency.call, "required_scope", None) or _required_scope(dependency)
        if scope:
            return str(scope)
    return None
