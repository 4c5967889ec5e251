"""Response shapes, declared for the OpenAPI document (the answers themselves are built in
service/matching/presentation.py)."""

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from service.api.answer_examples import INDICATOR
from service.policy.profile import enum_labels, vocabulary_schema
from service.push.attempt_errors import EXPLANATIONS

CATEGORIES = {category: texts["zh-Hans"] for category, texts in EXPLANATIONS.items()}
LANGUAGES = Field(
    json_schema_extra=enum_labels(
        {"zh-Hans": "简体中文", "zh-Hant": "繁体中文", "en": "英文"}, title="Language"
    )
)


# The next page of a list paged by `cursor` (signed: service/core/cursors.py).
NextCursor = Annotated[
    str | None, Field(description="opaque; pass as `cursor` for the next page; null: no more")
]


class FieldError(BaseModel):
    """One refused part of a request: where it is, what is wrong with it, and the error's type."""

    model_config = ConfigDict(populate_by_name=True)

    field: str = Field(
        description="出错的位置：请求体内的 JSON 路径，或参数名。A JSON path into the body "
        "($.profiles[3].uscc), or the parameter's name",
        examples=["$.county"],
    )
    in_: str = Field(
        alias="in",
        description="位置所在：body、query、path、header、catalogue 或 file"
        "（上传表格的某列或某格）。Where: body, query, path, header, catalogue (a policy "
        "file), or file (a column or cell of an uploaded spreadsheet)",
        examples=["body"],
    )
    message: str = Field(
        description="错误说明。What is wrong", examples=["Input should be a valid integer"]
    )
    type: str = Field(
        description="错误类型，如 int_type、missing、enum。The kind of error (pydantic's type, or "
        "ours: uscc, cursor, …)",
        examples=["int_type"],
    )


class DepartmentRef(BaseModel):
    """A unit as {code, name}."""

    code: str = Field(examples=["industry_it"])
    name: str = Field(examples=["市工业和信息化局"])


class ReasonOut(BaseModel):
    """One condition as checked for this profile."""

    field: str = Field(examples=["tier"])
    operator: str = Field(examples=["one_of"])
    expected: Any = Field(examples=[["provincial", "little_giant"]])
    actual: Any = Field(examples=["municipal"])
    passed: bool | None = Field(description="null when the profile leaves the field out")
    note: str | None = Field(None, description="why the plan sets this condition")
    actual_note: str | None = Field(
        None, description="how the value was read, e.g. a tier recognition that has expired"
    )


class MeasureHead(BaseModel):
    """What every client shows of a measure."""

    measure_id: str = Field(examples=["loan-interest-subsidy"])
    clause: str = Field(examples=["二(二)5"])
    kind: str = Field(examples=["loan_interest_subsidy"])
    title: str
    finance: bool = Field(description="banks may ask who is eligible")
    lead_department: DepartmentRef
    departments: list[DepartmentRef]
    valid_from: date
    valid_until: date
    county_discretion: bool = Field(
        description="the plan leaves the measure to 有条件的县(市、区): the county decides "
        "whether and how it is offered"
    )


class MeasureResult(MeasureHead):
    """A measure as decided for one profile."""

    county_discretion_note: str | None = Field(
        None,
        description="present where county_discretion is true: says plainly that the firm's "
        "county people's government decides",
        examples=[
            "方案支持有条件的县（市、区）实施本措施，是否实施、如何实施由台山市人民政府决定，请向其咨询。"
        ],
    )
    county_government: str = Field(examples=["台山市人民政府"])
    reasons: list[ReasonOut]


class NearMiss(MeasureResult):
    """Not yet eligible; `unmet` is the least that would have to change."""

    unmet: list[ReasonOut]
    missing_fields: list[str] | None = Field(
        None, description="fields on the way to eligibility that the profile does not give yet"
    )


class Undetermined(MeasureResult):
    """Cannot be decided until the missing fields are given."""

    missing_fields: list[str] = Field(examples=[["has_bank_loan"]])


class IndicatorTarget(BaseModel):
    """An indicator's target, in words and as a test of the rule language."""

    text: str = Field(examples=["有效发明专利不少于2项"])
    field: str = Field(examples=["invention_patents"])
    operator: str = Field(examples=["at_least"])
    value: Any = Field(examples=[2])


class IndicatorOut(BaseModel):
    """A target the plan sets for a firm, and where this firm stands against it.

    Guidance, not a condition: the plan's goals for the firms its measures serve.
    """

    model_config = ConfigDict(json_schema_extra={"examples": [INDICATOR]})

    id: str = Field(examples=["invention-patents"])
    title: str
    clause: str = Field(description="where the plan sets it: 一(二) is the plan's work targets")
    quote: str = Field(description="the plan's words, verbatim as issued (traditional script)")
    quote_zh_hans: str = Field(
        description="方案原文的简体版本（OpenCC 转换）。The quote in Simplified script (OpenCC)"
    )
    sentence: str = Field(description="the quote in the caller's language")
    target: IndicatorTarget
    measures: list[str] = Field(description="the measures whose support works towards it")
    actual: Any = Field(description="the firm's value; null when the profile leaves it out")
    status: Annotated[
        Literal["met", "not_met", "unknown"],
        Field(
            json_schema_extra=enum_labels({"met": "已达到", "not_met": "未达到", "unknown": "未知"})
        ),
    ]
    status_text: str = Field(description="the status in words, in the caller's language")


class MatchResponse(BaseModel):
    """The answer of POST /v1/match."""

    catalogue_version: str
    as_of: date
    county_government: str
    matched: list[MeasureResult]
    near_misses: list[NearMiss]
    undetermined: list[Undetermined]
    indicators: list[IndicatorOut] = Field(
        description="each target the plan sets for a firm, met or not: guidance, not a condition"
    )


class BatchItem(BaseModel):
    """One profile's answer in a batch, in the request's order."""

    index: int
    ok: bool
    uscc: str | None = None
    catalogue_version: str | None = None
    as_of: date | None = None
    county_government: str | None = None
    matched: list[MeasureResult] | None = None
    near_misses: list[NearMiss] | None = None
    undetermined: list[Undetermined] | None = None
    indicators: list[IndicatorOut] | None = None
    errors: list[FieldError] | None = Field(None, description="why this profile was refused")


class BatchResponse(BaseModel):
    """The answer of POST /v1/match/batch."""

    catalogue_version: str
    as_of: date
    results: list[BatchItem]


class Source(BaseModel):
    """Where the measure stands in the plan, quoted verbatim."""

    document: str
    document_title: str
    clause: str
    quote: list[str] = Field(
        description="the plan's words, verbatim as issued (traditional script)"
    )
    quote_zh_hans: list[str] = Field(
        description="方案原文的简体版本（OpenCC 转换）。The quote in Simplified script (OpenCC)"
    )


class InstrumentOut(BaseModel):
    """An instrument other than the plan, named with its number and date."""

    id: str = Field(examples=["sme-size-2011"])
    title: str
    number: str = Field(examples=["工信部联企业〔2011〕300号"])
    issued_by: str
    issued_on: date


class GateSourceOut(BaseModel):
    """Who sets a condition: the plan's sentence, or a named instrument."""

    kind: Annotated[
        Literal["plan", "instrument"],
        Field(json_schema_extra=enum_labels({"plan": "方案原文", "instrument": "其他文件"})),
    ]
    words: str | None = Field(None, description="the words of the plan's sentence that set it")
    id: str | None = None
    title: str | None = None
    number: str | None = None
    issued_by: str | None = None
    issued_on: date | None = None


class ConditionOut(BaseModel):
    """A condition as written."""

    field: str
    operator: str
    expected: Any
    note: str | None = None
    source: GateSourceOut | None = Field(None, description="in GET /v1/measures only")


class MeasureIndicator(BaseModel):
    """An indicator of the plan that a measure works towards."""

    id: str = Field(examples=["registered-trademarks"])
    title: str = Field(examples=["拥有2个以上注册商标"])
    target: str = Field(examples=["注册商标不少于2个"])


class MeasureOut(MeasureHead):
    """A measure in full."""

    summary: str
    kind_name: str
    clause_heading: str
    source: Source
    serves: str = Field(description="whom the plan's sentence serves, in plain words")
    county_discretion_note: str | None = Field(
        None, description="where county_discretion is true: the firm's county decides"
    )
    period_source: InstrumentOut | None = Field(
        None,
        description="the instrument that sets valid_from/valid_until where they are not the "
        "plan's own period (三(三): 从其规定); null: the plan's period",
    )
    eligibility: dict[str, Any] = Field(description="the condition tree as the policy file has it")
    conditions: list[ConditionOut]
    indicators: list[MeasureIndicator] = Field(
        description="the plan's targets for a firm that the measure works towards: guidance, "
        "not conditions (every match answer says where the firm stands against each)"
    )
    catalogue_version: str


class MeasureList(BaseModel):
    """Measures that pass the filters."""

    catalogue_version: str
    count: int
    items: list[MeasureOut]
    next_cursor: None = Field(description="every measure fits one page")


class DepartmentOut(BaseModel):
    """A unit of the plan and the clauses it serves."""

    code: str
    name: str
    names: dict[str, str]
    lead_of: list[str]
    clauses: list[str]


class DepartmentList(BaseModel):
    """Every unit the plan names."""

    catalogue_version: str
    items: list[DepartmentOut]
    next_cursor: None = Field(description="every unit fits one page")


class ProfileVersionOut(BaseModel):
    """One stored version of a profile."""

    version: int = Field(examples=[2])
    action: Annotated[
        Literal["created", "updated", "deleted"],
        Field(
            json_schema_extra=enum_labels({"created": "新建", "updated": "更新", "deleted": "删除"})
        ),
    ]
    changed_by: str = Field(description="the `sub` of the token that wrote it")
    changed_at: datetime
    profile: dict[str, Any] | None = Field(description="null for a deletion")


class EnterpriseHistory(BaseModel):
    """A firm's profile versions, oldest first."""

    uscc: str
    items: list[ProfileVersionOut]
    next_cursor: NextCursor


class EligibleEnterprise(BaseModel):
    """All a bank learns of an eligible firm."""

    uscc: str
    name: str | None
    county: str = Field(examples=["440781"])
    tier: str | None = Field(examples=["provincial"])


class EligibleEnterprises(BaseModel):
    """One page of the firms eligible for a measure."""

    measure_id: str
    as_of: date
    catalogue_version: str
    items: list[EligibleEnterprise]
    next_cursor: NextCursor


class DisclosureOut(BaseModel):
    """One answer of the bank query: who learned which firms were eligible, and when."""

    disclosure_id: int
    disclosed_at: datetime
    caller: str = Field(description="the `sub` of the token that asked")
    bank_id: str | None
    measure_id: str
    as_of: date
    catalogue_version: str
    enterprises: list[str] = Field(description="the credit codes disclosed")


class DisclosureList(BaseModel):
    """Disclosures, newest first."""

    items: list[DisclosureOut]
    next_cursor: NextCursor


# --- push -------------------------------------------------------------------------------------


class SubscriptionIn(BaseModel):
    """Where to POST events, and which ones (leave a filter out for every county or kind)."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(
        min_length=8,
        max_length=2000,
        description="http(s); not loopback, link-local or a cloud metadata address",
        examples=["https://platform.jiangmen.gov.cn/hooks/policy-match"],
    )
    counties: list[Annotated[str, vocabulary_schema("counties", "GB/T 2260 code")]] | None = Field(
        None,
        min_length=1,
        max_length=20,
        description="only events of firms in these counties (GB/T 2260 codes)",
        examples=[["440703", "440781"]],
    )
    kinds: list[Annotated[str, vocabulary_schema("kinds", "kind of measure")]] | None = Field(
        None,
        min_length=1,
        max_length=100,
        description="only events of measures of these kinds",
        examples=[["loan_interest_subsidy"]],
    )
    description: str | None = Field(None, max_length=200, examples=["request-response platform"])


class NotQueuedOut(BaseModel):
    """The latest run of events not queued for a subscription: read them from the feed."""

    since: datetime = Field(description="when the first of them was not queued")
    first_sequence: int = Field(description="feed position of the first event not queued")
    last_sequence: int = Field(description="feed position of the last event not queued so far")
    catch_up_cursor: str = Field(
        description="`after` for GET /v1/push-events: the feed from the first event not queued"
    )


class SubscriptionCapacity(BaseModel):
    """How much a subscription may have pending, and what it missed for being full."""

    max_pending: int = Field(
        description="deliveries that may be pending at once; events past it are not queued",
        examples=[10000],
    )
    events_not_queued: int = Field(
        description="events not queued for it (it was full) since it was made", examples=[0]
    )
    not_queued: NotQueuedOut | None = Field(
        description="the latest run of them, to read from the feed (null: none yet)"
    )


class SubscriptionOut(BaseModel):
    """A subscription (its secret is shown only when it is made)."""

    id: str = Field(examples=["sub_4f1c2a9b0d3e5f6a7b8c9d0e"])
    url: str
    counties: list[str] | None
    kinds: list[str] | None
    description: str | None
    state: Annotated[
        Literal["active", "paused", "ended"],
        Field(
            json_schema_extra=enum_labels(
                {"active": "生效中", "paused": "已暂停", "ended": "已结束"}
            )
        ),
    ] = Field(
        description="paused: its host has not resolved for PUSH_UNRESOLVED_PAUSE_SECONDS (a "
        "day); fed nothing until resumed (POST /v1/subscriptions/{id}/resume)"
    )
    ended_reason: str | None = Field(description="deleted by whom, or the receiver's 410")
    ended_at: datetime | None
    created_at: datetime
    created_by: str
    unresolved_since: datetime | None = Field(
        None, description="since when every attempt found its host not resolving; null if it does"
    )
    paused_at: datetime | None = None
    paused_reason: str | None = Field(
        None, description="why it is paused, and how many pending deliveries were cancelled"
    )
    catch_up_cursor: str | None = Field(
        None,
        description="set when paused: GET /v1/push-events?after= this cursor lists every event "
        "from the first it was not delivered",
        examples=["eyJlIjo0MX0"],
    )
    deliveries: dict[str, int] | None = Field(
        None, description="deliveries by state: pending, delivered, dead, cancelled"
    )
    capacity: SubscriptionCapacity | None = Field(
        None, description="its cap of pending deliveries, and events not queued for being full"
    )


class SubscriptionCreated(SubscriptionOut):
    """A new subscription, with the secret that signs its deliveries: keep it, it is not shown
    again."""

    secret: str = Field(
        description="whsec_ + base64 key: verify `webhook-signature` with it",
        examples=["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
    )


class SubscriptionList(BaseModel):
    """Every subscription, newest first."""

    items: list[SubscriptionOut]
    next_cursor: None = Field(description="every subscription fits one page")


class PushEventOut(BaseModel):
    """A measure newly matched, or no longer matched, by a stored firm."""

    event_id: str = Field(examples=["evt_0b8e6f2c4d1a4e3b9f7a6c5d4e3f2a1b"])
    type: Annotated[
        Literal["measure.matched", "measure.unmatched"],
        Field(
            json_schema_extra=enum_labels(
                {"measure.matched": "新符合一项措施", "measure.unmatched": "不再符合一项措施"}
            )
        ),
    ]
    occurred_at: datetime
    uscc: str
    county: str = Field(examples=["440781"])
    measure_id: str = Field(examples=["loan-interest-subsidy"])
    clause: str | None = Field(examples=["二(二)5"])
    kind: str = Field(examples=["loan_interest_subsidy"])
    lead_department: DepartmentRef | None
    catalogue_version: str
    cause: Annotated[
        Literal["profile_stored", "enterprise_deleted", "rematch"],
        Field(
            json_schema_extra=enum_labels(
                {
                    "profile_stored": "保存了企业画像",
                    "enterprise_deleted": "删除了企业",
                    "rematch": "重新匹配",
                }
            )
        ),
    ] = Field(
        description="a store of the profile, its deletion, or a re-match after a new "
        "catalogue or a new day"
    )
    sequence: int = Field(
        description="the event's place in the feed: orders a firm's events whatever order "
        "retries deliver them in",
        examples=[4217],
    )


class PushEventFeed(BaseModel):
    """Events in the order they happened."""

    items: list[PushEventOut]
    next_cursor: str = Field(
        description="pass as `after` to continue; when `items` is empty, poll again with it"
    )


class AttemptOut(BaseModel):
    """One POST of a delivery."""

    attempt: int
    worker: str
    started_at: datetime
    duration_ms: int
    status_code: int | None
    error: str | None = Field(
        description="the category and a fixed text (never the raw connection error), or "
        "`HTTP 503` for an answer that is not 2xx",
        examples=["timeout: no complete answer within 10 s"],
    )
    category: (
        Annotated[
            Literal[
                "dns", "refused_target", "connect", "tls", "timeout", "protocol", "status", "secret"
            ],
            Field(json_schema_extra=enum_labels(CATEGORIES, title="Category")),
        ]
        | None
    ) = Field(None, description="why the attempt failed; null if acknowledged")
    explanation: dict[Annotated[Literal["zh-Hans", "zh-Hant", "en"], LANGUAGES], str] | None = (
        Field(None, description="what the category means, in zh-Hans, zh-Hant and en")
    )
    outcome: Annotated[
        Literal["delivered", "retry", "dead", "gone", "stale"],
        Field(
            json_schema_extra=enum_labels(
                {
                    "delivered": "已送达",
                    "retry": "稍后重试",
                    "dead": "已放弃",
                    "gone": "接收方答复 410，订阅结束",
                    "stale": "租约已过期，由其他进程接手",
                }
            )
        ),
    ]


class DeliveryOut(BaseModel):
    """An event's delivery to one subscription."""

    subscription_id: str
    state: Annotated[
        Literal["pending", "delivered", "dead", "cancelled"],
        Field(
            json_schema_extra=enum_labels(
                {
                    "pending": "待投递",
                    "delivered": "已送达",
                    "dead": "已放弃",
                    "cancelled": "已取消",
                }
            )
        ),
    ]
    attempts: int
    next_attempt_at: datetime | None = Field(description="when pending")
    delivered_at: datetime | None
    last_status: int | None
    last_error: str | None
    attempt_log: list[AttemptOut]


class PushEventDetail(BaseModel):
    """An event and what became of its deliveries."""

    event: PushEventOut
    deliveries: list[DeliveryOut]


class RematchRunOut(BaseModel):
    """A re-match of the stored firms: its progress, then how many gained or lost each measure."""

    id: int
    reason: str = Field(examples=["catalogue_published"])
    catalogue_version: str
    day: date
    state: Annotated[
        Literal["queued", "running", "done"],
        Field(
            json_schema_extra=enum_labels(
                {"queued": "排队中", "running": "运行中", "done": "已完成"}
            )
        ),
    ]
    requested_by: str
    requested_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    firms_total: int | None
    firms_done: int
    firms_changed: int
    events: int
    gained: dict[str, int] = Field(description="firms that newly match each measure")
    lost: dict[str, int] = Field(description="firms that no longer match each measure")


class RematchList(BaseModel):
    """The latest re-match runs, newest first."""

    items: list[RematchRunOut]
    next_cursor: None = Field(description="the 20 latest runs, on one page")


class CatalogueReload(BaseModel):
    """What a reload found: the catalogue now in force and the re-match it queued."""

    catalogue_version: str
    previous_version: str
    changed: bool
    measures_added: list[str]
    measures_removed: list[str]
    measures_changed: list[str]
    rematch: RematchRunOut | None


class Problem(BaseModel):
    """RFC 9457 problem details: every 4xx and 5xx of the API."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": "https://policy-match.jiangmen.gov.cn/problems/validation-failed",
                    "title": "Validation failed",
                    "status": 422,
                    "detail": "$.employees: Input should be a valid integer",
                    "errors": [
                        {
                            "field": "$.employees",
                            "in": "body",
                            "message": "Input should be a valid integer",
                            "type": "int_type",
                        }
                    ],
                }
            ]
        }
    )

    type: str = Field(
        description="问题类型的 URI，每种错误一个。A URI naming the kind of problem",
        json_schema_extra={"format": "uri"},
    )
    title: str = Field(description="问题类型的简短说明。A short summary of the kind of problem")
    status: int = Field(description="HTTP 状态码。The HTTP status code", ge=400, le=599)
    detail: str = Field(description="这一次出了什么问题。What went wrong this time")
    instance: str | None = Field(
        None,
        description="本次请求的标识（X-Request-ID）。The request's id: urn:uuid:… for one made "
        "here, else the X-Request-ID given",
        json_schema_extra={"format": "uri-reference"},
    )
    errors: list[FieldError] | None = Field(
        None, description="每个被拒绝的字段或参数。Each refused field or parameter"
    )


OAuthErrorCode = Literal[
    "invalid_request", "invalid_client", "unsupported_grant_type", "invalid_scope"
]


class OAuthError(BaseModel):
    """A refusal of the token endpoint: RFC 6749 §5.2, carried as problem+json (RFC 9457)."""

    error: Annotated[
        OAuthErrorCode,
        Field(
            json_schema_extra=enum_labels(
                {
                    "invalid_request": "请求无效",
                    "invalid_client": "客户端认证失败",
                    "unsupported_grant_type": "不支持的授权类型",
                    "invalid_scope": "范围无效",
                }
            )
        ),
    ] = Field(description="RFC 6749 §5.2 的错误码。The RFC 6749 §5.2 error code")
    error_description: str = Field(description="错误说明。What is wrong, in words")
    type: str = Field(description="问题类型的 URI。A URI naming the kind of problem")
    title: str
    status: int = Field(description="HTTP 状态码：400 或 401。The HTTP status code: 400 or 401")
    detail: str = Field(description="同 error_description。As error_description")
    instance: str | None = Field(
        None,
        description="本次请求的标识（X-Request-ID）。The request's id: urn:uuid:… for one made "
        "here, else the X-Request-ID given",
        json_schema_extra={"format": "uri-reference"},
    )
