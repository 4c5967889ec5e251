"""The OpenAPI document, written for its readers and for client generators.

- Tags have Chinese names with the English after them (`Tag`), each described in both.
- Every operation has a lowerCamel `operationId` and a bilingual summary (its decorator's), and
  its description is the decorator's `description` (Chinese) followed by its docstring (English).
- Every 4xx and 5xx is problem+json of the `Problem` schema (RFC 9457), declared on each
  operation whose shape makes it possible (`declare_problems`); the token endpoint's own
  refusals are `OAuthError` (RFC 6749 §5.2).
- Each answer declares the headers the code sends with it (`SENT_HEADERS`), and each 2xx
  answer has an example (service/api/answer_examples.py).
"""

import inspect
from enum import StrEnum
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel
from starlette.routing import Route

from service.api.answer_examples import BY_OPERATION, BY_SCHEMA
from service.api.schemas import OAuthError, Problem
from service.api.security_docs import document_security
from service.policy.profile import Profile

REF = "#/components/schemas/{model}"
HEADER_REF = "#/components/headers/{name}"


class Tag(StrEnum):
    """The groups of operations, Chinese name first."""

    MATCHING = "匹配 Matching"
    CATALOGUE = "政策目录 Catalogue"
    REGISTRY = "企业库 Registry"
    BANKS = "银行 Banks"
    PUSH = "推送 Push"
    CATALOGUE_ADMIN = "目录管理 Catalogue admin"
    PLAN = "方案进度 Plan"
    AUTH = "认证 Auth"
    HEALTH = "运维 Health"


OPENAPI_TAGS = [
    {
        "name": Tag.MATCHING,
        "description": "按方案匹配企业画像：符合、差一点符合、尚不能判断的措施。"
        "Profiles against the plan: measures matched, nearly matched, undetermined",
    },
    {
        "name": Tag.CATALOGUE,
        "description": "方案的措施、单位和代码表，无需令牌。"
        "The measures of the plan, its units and code lists, open to all",
    },
    {
        "name": Tag.REGISTRY,
        "description": "企业画像登记库：保存、历史版本和匹配结果。"
        "The registry of enterprise profiles: stored versions and their matches",
    },
    {
        "name": Tag.BANKS,
        "description": "银行查询符合金融措施且已授权的企业；披露记录供审计。"
        "Which consenting firms are eligible for a finance measure; the audit of disclosures",
    },
    {
        "name": Tag.PUSH,
        "description": "订阅：新符合或不再符合的措施在发生时签名推送（Standard Webhooks），"
        "同样的事件也可按事件流读取。Subscriptions: measures newly matched or lost, POSTed as "
        "they happen and signed (Standard Webhooks); the same events as a feed",
    },
    {
        "name": Tag.CATALOGUE_ADMIN,
        "description": "让修改后的政策目录生效，并重新匹配已保存的企业。"
        "Put an edited catalogue in force; the re-match of stored firms",
    },
    {
        "name": Tag.PLAN,
        "description": "方案的量化目标与登记库企业的对照（登记库不是官方认定名单）。"
        "The plan's quantitative targets against the stored firms (the registry, not the "
        "official recognition list)",
    },
    {
        "name": Tag.AUTH,
        "description": "开发用的令牌端点（OAuth 2.0 客户端凭证）。"
        "Development token endpoint (OAuth 2.0 client credentials)",
    },
    {"name": Tag.HEALTH, "description": "存活与就绪检查。Liveness and readiness"},
]

_TITLES = {
    400: "请求无法读取（如请求体不是 JSON）。Malformed request (for example, the body is not JSON)",
    401: "没有有效的令牌。No valid bearer token",
    403: "令牌缺少所需范围，或调用方无权查看。The token lacks the scope, or the caller is outside "
    "its remit",
    404: "不存在。Not found",
    409: "与已保存的内容冲突。Conflicts with what is stored",
    410: "已清理：游标早于保留的事件。Gone: the cursor points before what is retained (older "
    "events were pruned)",
    412: "已保存的版本不符合 If-Match 或 If-None-Match 的条件。"
    "If-Match or If-None-Match does not hold for the stored version",
    413: "请求体过大。Body too large",
    415: "请求体不是 application/json。Body is not application/json",
    422: "内容无效；`errors` 按 JSON 路径列出每个字段。Invalid document; `errors` names each "
    "field by JSON path",
    429: "请求过多；Retry-After 说明何时重试。Too many requests; Retry-After says when to try "
    "again",
    503: "数据库繁忙或无法连接；Retry-After 说明何时重试。The database is busy or unreachable; "
    "Retry-After says when to try again",
}
SUCCESS = "成功。Successful response"

HEADERS: dict[str, dict[str, Any]] = {
    "X-Request-ID": {
        "description": "本次请求的编号：调用方给出的（合规时）或服务生成的，日志中同样记录。"
        "The request's id: the caller's own when it is a sane token, else generated; logged",
        "schema": {"type": "string", "pattern": "^[A-Za-z0-9._:-]{1,128}$"},
        "example": "5532489245bc4b359d0b5454524625b5",
    },
    "Content-Language": {
        "description": "答复的语言（由 Accept-Language 选择）。The language of the answer",
        "schema": {
            "type": "string",
            "enum": ["zh-Hans", "zh-Hant", "en"],
            "x-enum-varnames": ["ZH_HANS", "ZH_HANT", "EN"],
            "x-enum-descriptions": ["简体中文", "繁体中文", "英文"],
        },
        "example": "zh-Hans",
    },
    "X-Catalogue-Version": {
        "description": "作出答复的政策目录版本（内容哈希）。The catalogue version (content hash) "
        "that answered",
        "schema": {"type": "string"},
        "example": "55308d083be889e8",
    },
    "ETag": {
        "description": '企业画像的版本，如 "3"；用于 If-Match。The profile\'s version, '
        'e.g. "3"; send it as If-Match',
        "schema": {"type": "string"},
        "example": '"3"',
    },
    "Last-Modified": {
        "description": "该版本保存的时间。When this version was stored",
        "schema": {"type": "string"},
        "example": "Sun, 01 Jun 2025 08:31:12 GMT",
    },
    "Location": {
        "description": "新建资源的地址。Where the new resource is",
        "schema": {"type": "string", "format": "uri-reference"},
        "example": "/v1/subscriptions/sub_4f1c2a9b0d3e5f6a7b8c9d0e",
    },
    "Retry-After": {
        "description": "多少秒后再试。Seconds to wait before trying again",
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
        "example": "5",
    },
    "RateLimit-Policy": {
        "description": "超出的限额：数量;w=窗口秒数。The budget exceeded: amount;w=window seconds",
        "schema": {"type": "string"},
        "example": "600;w=60",
    },
}

# What the code sends with each 2xx answer (every answer has X-Request-ID; a 429 has
# Retry-After and RateLimit-Policy; a 503, Retry-After): responses.catalogue_answer sends the
# language and catalogue version, the registry its ETag, a creation its Location.
CATALOGUE = ("Content-Language", "X-Catalogue-Version")
STORED_PROFILE = ("ETag", "Last-Modified")
SENT_HEADERS: dict[str, dict[str, tuple[str, ...]]] = {
    "matchProfile": {"200": CATALOGUE},
    "matchBatch": {"200": CATALOGUE},
    "listMeasures": {"200": CATALOGUE},
    "getMeasure": {"200": CATALOGUE},
    "listDepartments": {"200": CATALOGUE},
    "getVocabularies": {"200": CATALOGUE},
    "getEnterpriseMatches": {"200": CATALOGUE},
    "getPlanProgress": {"200": CATALOGUE},
    "listEligibleEnterprises": {"200": ("X-Catalogue-Version",)},
    "putEnterprise": {"200": STORED_PROFILE, "201": (*STORED_PROFILE, "Location")},
    "getEnterprise": {"200": STORED_PROFILE},
    "deleteEnterprise": {"204": ("ETag",)},
    "createSubscription": {"201": ("Location",)},
    "reloadCatalogue": {"202": ("Location",)},
}
_ERROR_HEADERS = {"429": ("Retry-After", "RateLimit-Policy"), "503": ("Retry-After",)}


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
_STORED = frozenset({Tag.REGISTRY, Tag.BANKS, Tag.PUSH, Tag.CATALOGUE_ADMIN, Tag.PLAN})


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


# Each parameter's Chinese, by name (the same name means the same thing on every operation),
# and the English for those the code leaves undescribed.
PARAMETERS: dict[str, tuple[str, str]] = {
    "as_of": ("判断或统计的日期（YYYY-MM-DD）", "the day asked about"),
    "accept-language": ("答复语言", "the language of the answer"),
    "limit": ("每页条数", "items per page"),
    "cursor": ("上一页的 `next_cursor`", "the previous page's `next_cursor`"),
    "after": ("上一页的 `next_cursor`", "the previous page's `next_cursor`"),
    "measure_id": ("措施编号", "the measure's id"),
    "subscription_id": ("订阅编号", "the subscription's id"),
    "event_id": ("事件编号", "the event's id"),
    "run_id": ("重新匹配的编号", "the re-match run's id"),
    "bank_id": ("只看这家银行的记录", "only this bank's records"),
    "uscc": ("统一社会信用代码", "unified social credit code"),
    "county": ("只看这个县（市、区）", "only this county (GB/T 2260 code)"),
    "kind": ("只看这些类别的措施", "only measures of these kinds"),
    "clause": ("只看这些条款的措施", "only measures of these clauses"),
    "department": ("只看这个单位参与的措施", "only measures this unit serves"),
    "finance": ("只看金融类措施（false：只看其他）", "only finance measures (or only others)"),
    "in_force_on": ("只看这一天有效的措施", "only measures in force that day"),
    "include_synthetic": ("是否计入合成（演示）企业", "count the synthetic (demo) firms too"),
    "if-match": ("只在这个版本上写入或删除（ETag）", "write only over this version"),
    "if-none-match": ("只在尚未保存时创建（`*`）", "`*`: create only"),
    "webhook-id": ("事件编号", "the event's id"),
    "webhook-timestamp": ("签名时间（Unix 秒）", "when it was signed"),
    "webhook-signature": ("签名", "the signature"),
}


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
                names = ("X-Request-ID", *sent.get(status, ()), *_ERROR_HEADERS.get(status, ()))
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
        direct = Route(
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
        document_security(document, app.routes)
        declare_problems(document)
        describe_in_two_languages(document, app)
        describe_parameters(document)
        declare_examples(document)
        declare_headers(document)
        app.openapi_schema = document
        return document

    app.openapi = build  # type: ignore[method-assign]
