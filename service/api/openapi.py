"""OpenAPI pieces for bodies we read ourselves, and the problem+json responses of each route."""

import inspect
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from service.api.schemas import Problem
from service.api.security_docs import document_security
from service.policy.profile import Profile

REF = "#/components/schemas/{model}"
_TITLES = {
    400: "Malformed request: the body is not JSON, or a cursor was edited, is another "
    "caller's or list's, or has expired",
    401: "No valid bearer token",
    403: "The token lacks the scope, or the caller is outside its remit",
    404: "Not found",
    409: "Conflicts with what is stored",
    410: "Gone: the cursor points before what is retained (older events were pruned)",
    412: "If-Match or If-None-Match does not hold for the stored version",
    413: "Body too large",
    415: "Body is not application/json",
    422: "Invalid document; `errors` names each field by JSON path",
    429: "Too many requests",
    503: "The database is busy or unreachable; Retry-After says when to try again",
}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The `responses=` entry declaring problem+json answers for these statuses."""
    return {
        status: {
            "description": _TITLES[status],
            "content": {
                "application/problem+json": {"schema": {"$ref": REF.format(model="Problem")}}
            },
        }
        for status in statuses
    }


# Tags of the operations that read or write the database: they can answer 503.
_STORED = frozenset({"enterprises", "banks", "push", "catalogue admin", "plan"})


def declare_problems(document: dict[str, Any]) -> None:
    """Declare, on every operation, the problem+json answers its shape makes possible.

    A secured operation can answer 401 and 403; one with parameters or a JSON body, 422 (our
    problem+json, in place of FastAPI's default); one with a JSON body, 400 and 415; one
    with a path parameter, 404; one that uses the database, 503; any body can be 413.
    """
    for path, item in document.get("paths", {}).items():
        for operation in item.values():
            statuses: set[int] = set()
            if operation.get("security"):
                statuses |= {401, 403}
            body = operation.get("requestBody", {}).get("content", {})
            if body:
                statuses.add(413)
            if "application/json" in body:
                statuses |= {400, 415, 422}
            if operation.get("parameters"):
                statuses.add(422)
            if "{" in path:
                statuses.add(404)
            if _STORED & set(operation.get("tags", ())):
                statuses.add(503)
            responses = operation.setdefault("responses", {})
            for status, response in problems(*statuses).items():
                declared = responses.get(str(status), {}).get("content", {})
                if "application/problem+json" not in declared:
                    responses[str(status)] = response
    schemas = document.get("components", {}).get("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)


def json_body(schema: str, examples: dict[str, Any]) -> dict[str, Any]:
    """`openapi_extra` declaring a JSON request body of a component schema, with examples."""
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"$ref": REF.format(model=schema)},
                    "examples": examples,
                }
            },
        }
    }


def _batch_schema() -> dict[str, Any]:
    return {
        "title": "BatchRequest",
        "type": "object",
        "required": ["profiles"],
        "additionalProperties": False,
        "properties": {
            "profiles": {
                "type": "array",
                "maxItems": 1000,
                "items": {"$ref": REF.format(model="Profile")},
                "description": "each profile is validated on its own; a bad one fails alone",
            }
        },
    }


class DirectRoute(Route):
    """A plain Starlette route that, like FastAPI's own, leaves itself in `scope["route"]`
    when chosen (the HTTP metrics read the template there)."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request, this route named in its scope."""
        scope["route"] = self
        await super().handle(scope, receive, send)


def serve_directly(app: FastAPI, router: APIRouter) -> None:
    """Serve a router's routes as plain Starlette routes, ahead of FastAPI's own handling.

    For hot routes whose endpoint takes only the Request and does its own reading: FastAPI
    keeps documenting them, the requests skip its per-request dependency machinery.
    """
    for route in router.routes:
        assert isinstance(route, APIRoute)
        parameters = list(inspect.signature(route.endpoint).parameters)
        assert parameters == ["request"], (
            f"{route.path}: only (request) endpoints, not {parameters}"
        )
        direct = DirectRoute(
            route.path, route.endpoint, methods=list(route.methods or ()), name=route.name
        )
        app.router.routes.insert(0, direct)


def install_openapi(app: FastAPI) -> None:
    """Generate the document once, with the schemas of the bodies we parse ourselves."""

    def build() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        document = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
            webhooks=app.webhooks.routes,
            tags=app.openapi_tags,
        )
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        profile = Profile.model_json_schema(ref_template=REF)
        schemas.update(profile.pop("$defs", {}))
        schemas["Profile"] = profile
        schemas["BatchRequest"] = _batch_schema()
        schemas["Problem"] = Problem.model_json_schema(ref_template=REF)
        document_security(document, app.routes)
        declare_problems(document)
        app.openapi_schema = document
        return document

    app.openapi = build  # type: ignore[method-assign]
