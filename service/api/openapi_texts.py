"""The words of the OpenAPI document, Chinese first: tags, the titles of error answers, the
headers answers carry, and a glossary of parameters by name."""

from enum import StrEnum
from typing import Any


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

PROBLEM_TITLES = {
    400: "请求无法读取（如请求体不是 JSON，或游标被改动、属于其他调用方或列表、已过期）。"
    "Malformed request: the body is not JSON, or a cursor was edited, is another caller's or "
    "list's, or has expired",
    401: "没有有效的令牌。No valid bearer token",
    403: "令牌缺少所需范围，或调用方无权查看。The token lacks the scope, or the caller is outside "
    "its remit",
    404: "不存在。Not found",
    406: "无法提供所要求的格式：Accept 中没有本操作能给出的格式（JSON、CSV 或 .xlsx）。"
    "Accept names no format this operation answers in (JSON, CSV or .xlsx)",
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
    503: "数据库繁忙或无法连接，或无法读取身份提供方的公钥；Retry-After 说明何时重试。The database "
    "is busy or unreachable, or the identity provider's keys cannot be read; Retry-After says "
    "when to try again",
}
SUCCESS = "成功。Successful response"

# Each is declared only on the answers that always carry it, so each is `required` there.
HEADERS: dict[str, dict[str, Any]] = {
    "X-Request-ID": {
        "required": True,
        "description": "本次请求的编号：调用方给出的（合规时）或服务生成的，日志中同样记录。"
        "The request's id: the caller's own when it is a sane token, else generated; logged",
        "schema": {"type": "string", "pattern": "^[A-Za-z0-9._:-]{1,128}$"},
        "example": "5532489245bc4b359d0b5454524625b5",
    },
    "Content-Language": {
        "required": True,
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
        "required": True,
        "description": "作出答复的政策目录版本（内容哈希）。The catalogue version (content hash) "
        "that answered",
        "schema": {"type": "string"},
        "example": "55308d083be889e8",
    },
    "ETag": {
        "required": True,
        "description": '企业画像的版本，如 "3"；用于 If-Match。The profile\'s version, '
        'e.g. "3"; send it as If-Match',
        "schema": {"type": "string"},
        "example": '"3"',
    },
    "Last-Modified": {
        "required": True,
        "description": "该版本保存的时间。When this version was stored",
        "schema": {"type": "string"},
        "example": "Sun, 01 Jun 2025 08:31:12 GMT",
    },
    "Location": {
        "required": True,
        "description": "新建资源的地址。Where the new resource is",
        "schema": {"type": "string", "format": "uri-reference"},
        "example": "/v1/subscriptions/sub_4f1c2a9b0d3e5f6a7b8c9d0e",
    },
    "Retry-After": {
        "required": True,
        "description": "多少秒后再试。Seconds to wait before trying again",
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
        "example": "5",
    },
    "RateLimit-Policy": {
        "required": True,
        "description": "超出的限额：数量;w=窗口秒数。The budget exceeded: amount;w=window seconds",
        "schema": {"type": "string"},
        "example": "600;w=60",
    },
}

# Each parameter's Chinese, by name (the same name means the same thing on every operation),
# and the English for those the code leaves undescribed.
PARAMETERS: dict[str, tuple[str, str]] = {
    "as_of": ("判断或统计的日期（YYYY-MM-DD）", "the day asked about"),
    "view": (
        "答复的详略：full（默认）每项措施及其理由；compact 只有措施编号、须改变和缺少的字段、"
        "指标状态，不含理由（用于大批量）",
        "full or compact",
    ),
    "accept-language": ("答复语言", "the language of the answer"),
    "format": (
        "以表格导出：csv（UTF-8，带 BOM）或 xlsx；优先于 Accept",
        "csv or xlsx, for a spreadsheet",
    ),
    "limit": ("每页条数", "items per page"),
    "job_id": ("导入任务编号", "the import job's id"),
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
    "if-none-match": (
        "写入时 `*` 表示只在尚未保存时创建；读取时给出手上的 ETag，未变则答 304",
        "`*` on a write: create only; on a read, the ETag you hold: 304 while it is current",
    ),
    "webhook-id": ("事件编号", "the event's id"),
    "webhook-timestamp": ("签名时间（Unix 秒）", "when it was signed"),
    "webhook-signature": ("签名", "the signature"),
}
