"""The OpenAPI document, written for its readers and for client generators.

- Tags have Chinese names with the English after them (`Tag`), each described in both; these
  words, the error titles, the headers and a glossary of parameters are in openapi_texts.py.
- Every operation has a lowerCamel `operationId` and a bilingual summary (its decorator's), and
  its description is the decorator's `description` (Chinese) followed by its docstring (English).
- Every 4xx and 5xx is problem+json of the `Problem` schema (RFC 9457), declared on each
  operation whose shape makes it possible (`declare_problems`); the token endpoint's own
  refusals are `OAuthError` (RFC 6749 §5.2).
- Each answer declares the headers the code sends with it (`SENT_HEADERS`), and each 2xx
  answer has an example (service/api/answer_examples.py).
"""

import inspect
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from service.api.answer_examples import BY_OPERATION, BY_SCHEMA
from service.api.openapi_texts import HEADERS, PARAMETERS, PROBLEM_TITLES, SUCCESS, Tag
from service.api.schemas import OAuthError, Problem
from service.api.security_docs import document_security
from service.policy.profile import Profile

REF = "#/components/schemas/{model}"
HEADER_REF = "#/components/headers/{name}"


# What the code sends with each 2xx answer (every answer has X-Request-ID and Content-Language;
# a 429 has Retry-After and RateLimit-Policy; a 503, Retry-After): responses.catalogue_answer
# sends the language and catalogue version, the registry its ETag, a creation its Location.
CATALOGUE = ("Content-Language", "X-Catalogue-Version")
STORED_PROFILE = ("ETag", "Last-Modified")
# catalogue reads carry their ETag, and so does a 304 (with the headers a 200 would have)
CATALOGUE_READ: dict[str, tuple[str, ...]] = {
    "200": (*CATALOGUE, "ETag"),
    "304": (*CATALOGUE, "ETag"),
}
SENT_HEADERS: dict[str, dict[str, tuple[str, ...]]] = {
    "matchProfile": {"200": CATALOGUE},
    "matchBatch": {"200": CATALOGUE},
    "listMeasures": CATALOGUE_READ,
    "getMeasure": CATALOGUE_READ,
    "listDepartments": CATALOGUE_READ,
    "getVocabularies": CATALOGUE_READ,
    "getEnterpriseMatches": {"200": CATALOGUE},
    "getPlanProgress": {"200": CATALOGUE},
    "listEligibleEnterprises": {"200": ("X-Catalogue-Version",)},
    "putEnterprise": {"200": STORED_PROFILE, "201": (*STORED_PROFILE, "Location")},
    "getEnterprise": {"200": STORED_PROFILE, "304": STORED_PROFILE},
    "deleteEnterprise": {"204": ("ETag",)},
    "createSubscription": {"201": ("Location",)},
    "reloadCatalogue": {"202": ("Location",)},
    "createEnterpriseImport": {"202": ("Location",)},
}
# request_ids.RequestContext gives every answer its id and, unless it names one, its language
ALWAYS_SENT = ("X-Request-ID", "Content-Language")
_ERROR_HEADERS = {"429": ("Retry-After", "RateLimit-Policy"), "503": ("Retry-After",)}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The `responses=` entry declaring problem+json answers for these statuses."""
    return {
        status: {
            "description": PROBLEM_TITLES[status],
            "content": {
                "application/problem+json": {"schema": {"$ref": REF.format(model="Problem")}}
            },
        }
        for status in statuses
    }


# Tags of the operations that read or write the database: they can answer 503.
_STORED = frozenset({Tag.REGISTRY, Tag.BANKS, Tag.PUSH, Tag.CATALOGUE_ADMIN, Tag.PLAN})


def declare_problems(document: dict[str, Any]) -> None:
    """Declare, on every operation, the problem+json answers its shape makes possible.

    A secured operation can answer 401, 403 and 503; one with parameters or a JSON body, 422 (our
    problem+json, in place of FastAPI's default); one with a JSON body, 400 and 415; one
    with a path parameter, 404; one that uses the database, 503; any body can be 413.
    """
    for path, item in document.get("paths", {}).items():
        for operation in item.values():
            statuses: set[int] = set()
            if operation.get("security"):  # 503: the identity provider's keys unreadable
                statuses |= {401, 403, 503}
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


def describe_parameters(document: dict[str, Any]) -> None:
    """Put each parameter's Chinese before its English (written where the code declares it)."""
    for section in ("paths", "webhooks"):
        for item in document.get(section, {}).values():
            for operation in item.values():
                for parameter in operation.get("parameters", ()):
                    english = parameter.get("description") or ""
                    chinese, default = PARAMETERS.get(parameter["name"].lower(), ("", ""))
                    if chinese and chinese not in english:
                        parameter["description"] = f"{chinese}。{english or default}"


def declare_headers(document: dict[str, Any]) -> None:
    """Declare on each answer the headers sent with it; the headers themselves, once."""
    document.setdefault("components", {})["headers"] = HEADERS
    for item in document.get("paths", {}).values():
        for operation in item.values():
            sent = SENT_HEADERS.get(operation.get("operationId", ""), {})
            for status, response in operation.get("responses", {}).items():
                names = tuple(
                    dict.fromkeys(
                        (*ALWAYS_SENT, *sent.get(status, ()), *_ERROR_HEADERS.get(status, ()))
                    )
                )
                response["headers"] = {
                    name: {"$ref": HEADER_REF.format(name=name)} for name in names
                }


def declare_examples(document: dict[str, Any]) -> None:
    """Give each JSON 2xx answer without one the example of its schema (or its operation)."""
    for item in document.get("paths", {}).values():
        for operation in item.values():
            for status, response in operation.get("responses", {}).items():
                media = response.get("content", {}).get("application/json")
                if not status.startswith("2") or media is None:
                    continue
                if "example" in media or "examples" in media:
                    continue
                example = _example(media.get("schema", {}), operation.get("operationId", ""))
                if example is not None:
                    media["example"] = example


def _example(schema: dict[str, Any], operation_id: str) -> Any:
    name = schema.get("$ref", "").rpartition("/")[2]
    items = schema.get("items", {}).get("$ref", "").rpartition("/")[2]
    if name in BY_SCHEMA:
        return BY_SCHEMA[name]
    if items in BY_SCHEMA:
        return [BY_SCHEMA[items]]
    return BY_OPERATION.get(operation_id)


def describe_in_two_languages(document: dict[str, Any], app: FastAPI) -> None:
    """Each operation's description: its decorator's (Chinese), then its docstring (English).

    Also the default answer's description in both languages, where FastAPI gave its own.
    """
    for section, routes in (("paths", app.routes), ("webhooks", app.webhooks.routes)):
        for context in iter_route_contexts(list(routes)):
            route = context.original_route
            if not isinstance(route, APIRoute):
                continue
            english = inspect.cleandoc(route.endpoint.__doc__ or "")
            for method in context.methods or ():
                paths = document.get(section, {})
                operation = paths.get(context.path_format, {}).get(method.lower())
                if operation is None:
                    continue
                chinese = operation.get("description", "")
                if english and chinese != english:
                    operation["description"] = f"{chinese}\n\n{english}"
                for response in operation.get("responses", {}).values():
                    if response.get("description") == "Successful Response":
                        response["description"] = SUCCESS


def _component(schemas: dict[str, Any], name: str, model: type[BaseModel]) -> None:
    schema = model.model_json_schema(ref_template=REF)
    schemas.update(schema.pop("$defs", {}))
    schemas[name] = schema


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
                "description": "每家企业的画像分别校验，无效的只影响它自己。"
                "Each profile is validated on its own; a bad one fails alone",
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
            servers=app.servers,
        )
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        _component(schemas, "Profile", Profile)
        schemas["BatchRequest"] = _batch_schema()
        _component(schemas, "Problem", Problem)
        _component(schemas, "OAuthError", OAuthError)
        document_security(document, app.routes, getattr(app.state, "settings", None))
        declare_problems(document)
        describe_in_two_languages(document, app)
        describe_parameters(document)
        declare_examples(document)
        declare_headers(document)
        app.openapi_schema = document
        return document

    app.openapi = build  # type: ignore[method-assign]
