"""Errors answered as RFC 9457 problem+json: the service's own (service/core/errors.py) and
FastAPI's, Starlette's and the database's, each turned into its answer by a handler here."""

from collections.abc import Sequence
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from sqlalchemy.exc import DataError, OperationalError, ProgrammingError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from service.api.request_ids import problem_instance
from service.api.route_table import route_table
from service.core.database import QUERY_CANCELED, UNMIGRATED, schema_missing
from service.core.errors import (
    PROBLEM_JSON,
    MalformedJson,
    ServiceError,
    Unavailable,
    Unprocessable,
    field_errors,
    problem_document,
)


def problem(
    status: int,
    title: str,
    detail: str,
    slug: str,
    *,
    errors: Sequence[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    request: Request | None = None,
) -> Response:
    """A problem+json response; `instance` is the request's id."""
    instance = problem_instance(None if request is None else request.scope)
    body = problem_document(status, title, detail, slug, errors, instance=instance)
    return Response(orjson.dumps(body), status, headers=headers, media_type=PROBLEM_JSON)


def problem_response(error: ServiceError) -> Response:
    """A service error as its problem+json answer; `instance` is the request's id."""
    body = orjson.dumps(error.document(problem_instance()))
    return Response(body, error.status, headers=error.headers, media_type=PROBLEM_JSON)


async def _service_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ServiceError)
    return problem_response(exc)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    raw = exc.errors()
    if any(e.get("type") == "json_invalid" for e in raw):
        return problem_response(MalformedJson("the request body is not valid JSON"))
    errors = field_errors(raw)
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
    return problem(422, Unprocessable.title, detail, Unprocessable.slug, errors=errors)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    titles = {404: "Not found", 405: "Method not allowed"}
    title = titles.get(exc.status_code, "HTTP error")
    detail = exc.detail if isinstance(exc.detail, str) else title
    headers = getattr(exc, "headers", None)
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"no endpoint at {request.url.path}"
    if exc.status_code == 405:
        methods = route_table(request.app).methods(request.url.path)
        detail = f"{request.method} is not served at {request.url.path}, only {', '.join(methods)}"
        headers = {"Allow": ", ".join(methods)}
    return problem(exc.status_code, title, detail, title.lower().replace(" ", "-"), headers=headers)


async def _client_gone(request: Request, exc: Exception) -> Response:
    # The client closed the connection while sending its body: nobody reads this answer.
    return problem(
        400, "Client disconnected", "the request body was not received whole", "client-disconnected"
    )


async def _database_unavailable(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, OperationalError | ProgrammingError)
    if schema_missing(exc):
        detail = UNMIGRATED
    elif isinstance(exc, ProgrammingError):
        raise exc  # a fault of ours: logged, and answered 500, by the outermost handler
    elif getattr(exc.orig, "sqlstate", None) == QUERY_CANCELED:
        detail = "the database took too long to answer (statement timeout); try again shortly"
    else:
        detail = "the database cannot be reached; try again shortly"
    return problem(503, Unavailable.title, detail, Unavailable.slug, headers={"Retry-After": "5"})


async def _out_of_range(request: Request, exc: Exception) -> Response:
    # A value the checks let through that the database's column types cannot hold.
    return problem(
        422,
        Unprocessable.title,
        "a value of the request is out of the range the database holds",
        Unprocessable.slug,
    )


async def _unexpected(request: Request, exc: Exception) -> Response:
    return problem(
        500,
        "Internal error",
        "an unexpected error occurred; it has been logged",
        "internal",
        request=request,
    )


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error as problem+json."""
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(ClientDisconnect, _client_gone)
    app.add_exception_handler(OperationalError, _database_unavailable)
    app.add_exception_handler(ProgrammingError, _database_unavailable)
    app.add_exception_handler(DataError, _out_of_range)
    app.add_exception_handler(Exception, _unexpected)
