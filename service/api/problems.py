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
    errors_detail,
    field_errors,
    problem_document,
)
from service.core.i18n import DEFAULT_LANGUAGE, Language, Text, message, negotiate_language

_HTTP_TITLES = {404: message("Not found"), 405: message("Method not allowed")}


def request_language(request: Request) -> Language:
    """The language Accept-Language picks for this request's answer."""
    return negotiate_language(request.headers.get("accept-language"))


def problem(
    status: int,
    title: Text,
    detail: Text,
    slug: str,
    *,
    errors: Sequence[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    language: Language = DEFAULT_LANGUAGE,
    request: Request | None = None,
) -> Response:
    """A problem+json response, its texts in `language` (which Content-Language names);
    `instance` is the request's id."""
    instance = problem_instance(None if request is None else request.scope)
    body = problem_document(
        status, title, detail, slug, errors, language=language, instance=instance
    )
    answer = Response(orjson.dumps(body), status, headers=headers, media_type=PROBLEM_JSON)
    answer.headers["Content-Language"] = language
    answer.headers["Vary"] = "Accept-Language"
    return answer


def problem_response(error: ServiceError, language: Language = DEFAULT_LANGUAGE) -> Response:
    """A service error as its problem+json answer in `language`; `instance` is the request's id."""
    return problem(
        error.status,
        error.title,
        error.detail,
        error.slug,
        errors=error.errors,
        headers=error.headers,
        language=language,
    )


async def _service_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ServiceError)
    return problem_response(exc, request_language(request))


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    language = request_language(request)
    raw = exc.errors()
    if any(e.get("type") == "json_invalid" for e in raw):
        return problem_response(
            MalformedJson(message("the request body is not valid JSON")), language
        )
    errors = field_errors(raw)
    return problem(
        422,
        Unprocessable.title,
        errors_detail(errors),
        Unprocessable.slug,
        errors=errors,
        language=language,
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    title = _HTTP_TITLES.get(exc.status_code, message("HTTP error"))
    detail: Text = exc.detail if isinstance(exc.detail, str) else title
    headers = getattr(exc, "headers", None)
    if exc.status_code == 404 and detail == "Not Found":
        detail = message("no endpoint at {path}", path=request.url.path)
    if exc.status_code == 405:
        methods = route_table(request.app).methods(request.url.path)
        detail = message(
            "{method} is not served at {path}, only {methods}",
            method=request.method,
            path=request.url.path,
            methods=", ".join(methods),
        )
        headers = {"Allow": ", ".join(methods)}
    slug = title.msgid.lower().replace(" ", "-")
    return problem(
        exc.status_code, title, detail, slug, headers=headers, language=request_language(request)
    )


async def _client_gone(request: Request, exc: Exception) -> Response:
    # The client closed the connection while sending its body: nobody reads this answer.
    return problem(
        400,
        message("Client disconnected"),
        message("the request body was not received whole"),
        "client-disconnected",
        language=request_language(request),
    )


async def _database_unavailable(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, OperationalError | ProgrammingError)
    detail: Text
    if schema_missing(exc):
        detail = UNMIGRATED
    elif isinstance(exc, ProgrammingError):
        raise exc  # a fault of ours: logged, and answered 500, by the outermost handler
    elif getattr(exc.orig, "sqlstate", None) == QUERY_CANCELED:
        detail = message(
            "the database took too long to answer (statement timeout); try again shortly"
        )
    else:
        detail = message("the database cannot be reached; try again shortly")
    return problem(
        503,
        Unavailable.title,
        detail,
        Unavailable.slug,
        headers={"Retry-After": "5"},
        language=request_language(request),
    )


async def _out_of_range(request: Request, exc: Exception) -> Response:
    # A value the checks let through that the database's column types cannot hold.
    return problem(
        422,
        Unprocessable.title,
        message("a value of the request is out of the range the database holds"),
        Unprocessable.slug,
        language=request_language(request),
    )


async def _unexpected(request: Request, exc: Exception) -> Response:
    return problem(
        500,
        ServiceError.title,
        message("an unexpected error occurred; it has been logged"),
        "internal",
        language=request_language(request),
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
