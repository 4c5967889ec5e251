"""The error hierarchy: what the service answers on purpose, each as RFC 9457 problem+json
(service/api/problems.py turns them into answers; nothing here knows about HTTP frameworks).

ServiceError            the base: a status, a title and a detail
├── BadRequest          400  a request that cannot be read
│   ├── MalformedJson   400  a body that is not JSON (the same type at every endpoint)
│   └── BadCursor       400  a cursor tampered with, another caller's or list's, or expired
├── Unauthorized        401  no token, or one that does not verify
├── Forbidden           403  a token without the scope, or a caller outside its remit
├── NotFound            404  no such measure, enterprise or subscription
├── NotAcceptable       406  Accept names no format the operation answers in
├── Conflict            409  the request contradicts what is stored
│   └── TooManySubscriptions 409  the caller holds as many subscriptions as it may
├── Gone                410  a feed cursor before what is retained (pruned)
├── PreconditionFailed  412  If-Match / If-None-Match do not hold for what is stored
├── PayloadTooLarge     413  a body over the configured limit
├── UnsupportedMedia    415  a body that is not JSON
├── Unprocessable       422  a body that is JSON but not a valid document (fields named)
├── TooManyRequests     429  the caller is over its rate limit; Retry-After says when
├── Unavailable         503  the database is busy, slow (statement timeout) or unreachable
└── SheetRefused        422  an import file refused whole: nothing is stored from it
    ├── UnsupportedSheet      415  not an .xlsx, .csv or .jsonl file
    ├── NotAWorkbook          422  an .xlsx that is no workbook (not a zip, no sheet in it)
    ├── UnknownEncoding       422  a CSV in neither UTF-8 nor GB18030
    ├── WorkbookTooLarge      413  a zip bomb: uncompressed size or ratio over the bound
    ├── MergedCells           422  a sheet with merged cells
    ├── BadHeader             422  unknown or duplicated columns (each named in `errors`)
    └── TooManyRows           413  more rows than an import reads
"""

from collections.abc import Sequence
from typing import Any

from service.core.i18n import Language, Message, Text, joined, message, translate
from service.core.validation_messages import validation_message

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://policy-match.jiangmen.gov.cn/problems/"


class ServiceError(Exception):
    """Base of every error the service answers on purpose."""

    status = 500
    title: Message = message("Internal error")
    slug = "internal"

    def __init__(
        self,
        detail: Text,
        *,
        errors: Sequence[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(str(detail))
        self.detail = detail
        self.errors = list(errors) if errors else None
        self.headers = headers

    def document(self, language: Language = "en", instance: str | None = None) -> dict[str, Any]:
        """This error as its problem+json document, in `language` (`instance`: the request)."""
        return problem_document(
            self.status,
            self.title,
            self.detail,
            self.slug,
            self.errors,
            language=language,
            instance=instance,
        )


class BadRequest(ServiceError):
    """The request cannot be read."""

    status, title, slug = 400, message("Bad request"), "bad-request"


class MalformedJson(BadRequest):
    """The request body is not valid JSON."""

    status, title, slug = 400, message("Malformed JSON"), "malformed-json"


class BadCursor(BadRequest):
    """A page cursor that was edited, given to another caller or list, or has expired."""

    status, title, slug = 400, message("Bad cursor"), "bad-cursor"


class Unauthorized(ServiceError):
    """No valid bearer token."""

    status, title, slug = 401, message("Unauthorized"), "unauthorized"

    def __init__(self, detail: Text) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="policy-match"'})


class Forbidden(ServiceError):
    """A valid token that does not grant this."""

    status, title, slug = 403, message("Forbidden"), "forbidden"


class NotFound(ServiceError):
    """No such resource."""

    status, title, slug = 404, message("Not found"), "not-found"


class NotAcceptable(ServiceError):
    """406: `Accept` names nothing the operation answers in (JSON, CSV or .xlsx)."""

    status, title, slug = 406, message("Not acceptable"), "not-acceptable"


class Conflict(ServiceError):
    """The request contradicts stored state."""

    status, title, slug = 409, message("Conflict"), "conflict"


class TooManySubscriptions(Conflict):
    """The caller already holds PUSH_MAX_SUBSCRIPTIONS_PER_CALLER subscriptions."""

    status, title, slug = 409, message("Too many subscriptions"), "too-many-subscriptions"


class Gone(ServiceError):
    """What was asked for has been pruned (older than the retention)."""

    status, title, slug = 410, message("Gone"), "gone"


class PreconditionFailed(ServiceError):
    """A conditional write whose condition does not hold for the stored version."""

    status, title, slug = 412, message("Precondition failed"), "precondition-failed"


class PayloadTooLarge(ServiceError):
    """The body is over the limit."""

    status, title, slug = 413, message("Payload too large"), "payload-too-large"


class UnsupportedMedia(ServiceError):
    """The body is not JSON."""

    status, title, slug = 415, message("Unsupported media type"), "unsupported-media-type"


class Unprocessable(ServiceError):
    """The body is JSON but not valid; `errors` names each field."""

    status, title, slug = 422, message("Validation failed"), "validation-failed"


class TooManyRequests(ServiceError):
    """The caller has spent its budget of requests for now."""

    status, title, slug = 429, message("Too many requests"), "too-many-requests"


class Unavailable(ServiceError):
    """The service cannot answer now; Retry-After says when to try again."""

    status, title, slug = 503, message("Service unavailable"), "unavailable"


class SheetRefused(ServiceError):
    """An import file refused whole, naming the cause; nothing is stored from it."""

    status, title, slug = 422, message("Import file refused"), "sheet-refused"


class UnsupportedSheet(SheetRefused):
    """The file is not an .xlsx workbook, a CSV or JSON Lines."""

    status, title, slug = 415, message("Unsupported import file"), "unsupported-sheet"


class NotAWorkbook(SheetRefused):
    """An .xlsx file that is not a workbook: not a zip, or no worksheet in it."""

    status, title, slug = 422, message("Not a workbook"), "not-a-workbook"


class UnknownEncoding(SheetRefused):
    """A CSV file that is neither UTF-8 (with or without BOM) nor GB18030."""

    status, title, slug = 422, message("Unknown text encoding"), "unknown-encoding"


class WorkbookTooLarge(SheetRefused):
    """A workbook whose zip declares more than the bound uncompressed, or compresses too well."""

    status, title, slug = 413, message("Workbook too large"), "workbook-too-large"


class MergedCells(SheetRefused):
    """A sheet with merged cells: which row a merged value belongs to cannot be known."""

    status, title, slug = 422, message("Merged cells"), "merged-cells"


class BadHeader(SheetRefused):
    """A header row with unknown or duplicated columns, each an `errors` item: `field` the
    header as written, `in` "file", `column` its number from 1, `type` unknown_column or
    duplicated_column."""

    status, title, slug = 422, message("Bad header row"), "bad-header"


class TooManyRows(SheetRefused):
    """A sheet or file with more rows than an import reads."""

    status, title, slug = 413, message("Too many rows"), "too-many-rows"


def problem_document(
    status: int,
    title: Text,
    detail: Text,
    slug: str,
    errors: Sequence[dict[str, Any]] | None = None,
    *,
    language: Language = "en",
    instance: str | None = None,
) -> dict[str, Any]:
    """A problem+json document in `language`: type, title, status, detail and, when given,
    `instance` (the request's id) and `errors` (each item's `message` translated)."""
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + slug,
        "title": translate(title, language),
        "status": status,
        "detail": translate(detail, language),
    }
    if instance is not None:
        body["instance"] = instance
    if errors is not None:
        body["errors"] = translated_errors(errors, language)
    return body


def translated_errors(errors: Sequence[dict[str, Any]], language: Language) -> list[dict[str, Any]]:
    """`errors` items with each `message` in `language`."""
    return [
        {**item, "message": translate(item["message"], language)} if "message" in item else item
        for item in errors
    ]


def json_path(loc: Sequence[int | str]) -> str:
    """A pydantic location as a JSON path: ('body', 'profiles', 3, 'uscc') -> $.profiles[3].uscc."""
    path = "$"
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def field_errors(raw: Sequence[Any], prefix: Sequence[int | str] = ()) -> list[dict[str, Any]]:
    """Pydantic errors as problem+json `errors` items, each naming its field by JSON path."""
    items = []
    for error in raw:
        loc = tuple(error.get("loc", ()))
        where = loc[0] if loc and loc[0] in ("body", "query", "path", "header") else "body"
        if loc and loc[0] == where:
            loc = loc[1:]
        items.append(
            {
                "field": json_path((*prefix, *loc)) if where == "body" else ".".join(map(str, loc)),
                "in": where,
                "message": validation_message(error),
                "type": error.get("type", "invalid"),
            }
        )
    return items


def errors_detail(errors: Sequence[dict[str, Any]], shown: int = 5) -> Text:
    """The detail of a 422: the first `shown` items as `field: message`, to translate."""
    return joined(
        message("{field}: {message}", field=e["field"], message=e["message"])
        for e in errors[:shown]
    )
