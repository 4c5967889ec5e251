"""The enterprise profile as the contract defines it, validated field by field."""

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    Strict,
    StrictBool,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from service.core.settings import get_settings
from service.policy.uscc import USCC_PATTERN, uscc_problem
from service.policy.vocabulary import Vocabularies, vocabularies

Tier = Literal["none", "innovative", "municipal", "provincial", "little_giant"]
RdInstitution = Literal["none", "municipal", "provincial", "national"]
StandardsRole = Literal["none", "participant", "lead"]
ListingStage = Literal["none", "planning", "tutoring", "filed", "listed"]
# the highest government quality award held (中国质量奖 / 广东省政府质量奖 / 江门市政府质量奖); a
# 提名奖 alone is not an award held here: its holder may still apply for the award itself
QualityAwardLevel = Literal["none", "municipal", "provincial", "national"]


def _valid_uscc(code: str) -> str:
    if code in get_settings().uscc_allowlist:
        return code
    problem = uscc_problem(code)
    if problem:
        raise ValueError(f"not a valid unified social credit code: {problem}")
    return code


_CODES: dict[str, frozenset[str]] = {}  # each list's codes, read once per process


def _codes(list_name: str) -> frozenset[str]:
    codes = _CODES.get(list_name)
    if codes is None:
        codes = _CODES[list_name] = frozenset(vocabularies().codes(list_name))
    return codes


def _in_vocabulary(list_name: str, what: str) -> AfterValidator:
    # the codes are read when a profile is first validated, not when this module is imported
    def check(code: str) -> str:
        if code not in _codes(list_name):
            listed = ", ".join(vocabularies().codes(list_name))
            raise ValueError(f"{code!r} is not {what}; expected one of {listed}")
        return code

    return AfterValidator(check)


@dataclass(frozen=True, slots=True)
class VocabularySchema:
    """The JSON schema of a code from one list of the vocabularies: an enum of its codes.

    Written when the schema is asked for (the OpenAPI document), so that importing the profile
    reads no settings and no file.
    """

    list_name: str
    description: str
    nullable: bool = False

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        """The enum of the list's codes (or null, when nullable), with the description."""
        enum: list[str | None] = list(vocabularies().codes(self.list_name))
        schema: dict[str, Any] = {"type": "string", "enum": enum, "description": self.description}
        vocabulary_labels(self.list_name)(schema)
        if self.nullable:
            schema = {"anyOf": [schema, {"type": "null"}], "description": self.description}
        return schema


def vocabulary_schema(list_name: str, description: str, nullable: bool = False) -> VocabularySchema:
    """The JSON schema of a code from one list of the vocabularies: an enum of its codes."""
    return VocabularySchema(list_name, description, nullable)


def enum_labels(
    labels: Mapping[str, str], names: Mapping[str, str] | None = None, title: str | None = None
) -> Callable[[dict[str, Any]], None]:
    """`json_schema_extra` naming each value of an enum for generated code and for readers.

    `x-enum-varnames` (a value's upper-case code, or the name given) is what a client generator
    calls the member; `x-enum-descriptions` is its label, in Chinese. A `title` names the enum
    itself where it has no property of its own (inside `anyOf` with null, or a list's items).
    """

    def extend(schema: dict[str, Any]) -> None:
        if title is not None:
            schema.setdefault("title", title)
        if "const" in schema:  # a one-value Literal: an enum of one, for generators
            schema["enum"] = [schema["const"]]
        values = [v for v in schema["enum"] if v is not None]
        named = names or {}
        schema["x-enum-varnames"] = [
            named.get(v) or re.sub(r"\W", "_", str(v)).upper() for v in values
        ]
        schema["x-enum-descriptions"] = [labels[v] for v in values]

    return extend


def _member_name(code: str, english: str) -> str:
    # a code that is no identifier (a GB/T 2260 number) is named by its place: 440781 TAISHAN
    return code.upper() if code.isidentifier() else english.split()[0].upper()


def vocabulary_labels(list_name: str) -> Callable[[dict[str, Any]], None]:
    """`enum_labels` of one list of the vocabularies: its Chinese names, and member names.

    The list is read when a schema is written, not on import (as VocabularySchema).
    """
    singular = re.sub("ies$", "y", list_name).removesuffix("s")  # counties: County

    def extend(schema: dict[str, Any]) -> None:
        terms = vocabularies().terms(list_name)
        enum_labels(
            {t.code: t.zh_hans for t in terms},
            {t.code: _member_name(t.code, t.en) for t in terms},
            title=singular.replace("_", " ").title(),
        )(schema)

    return extend


CONTROL_CHARACTER = re.compile(r"[\x00-\x1f\x7f-\x9f]")
NO_CONTROL_CHARACTERS = r"^[^\x00-\x1f\x7f-\x9f]*$"
ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _iso_day_text(value: object) -> object:
    """Only a YYYY-MM-DD string is a day here: pydantic alone would read 0 as 1970-01-01."""
    if isinstance(value, date) or (isinstance(value, str) and ISO_DAY.fullmatch(value)):
        return value
    raise ValueError("a date in the format YYYY-MM-DD")


IsoDate = Annotated[
    date, BeforeValidator(_iso_day_text), WithJsonSchema({"type": "string", "format": "date"})
]

Uscc = Annotated[
    str,
    Field(
        min_length=18,
        max_length=18,
        description="统一社会信用代码 (GB 32100-2015)",
        json_schema_extra={"pattern": USCC_PATTERN},
    ),
    AfterValidator(_valid_uscc),
]
CountyCode = Annotated[
    str,
    _in_vocabulary("counties", "a county-level division of Jiangmen"),
    vocabulary_schema("counties", "GB/T 2260 code of the county-level division"),
]
ClusterCode = Annotated[str, _in_vocabulary("clusters", "a strategic industry cluster")]
KindCode = Annotated[
    str, _in_vocabulary("kinds", "a kind of measure"), vocabulary_schema("kinds", "kind of measure")
]
SubIndustryCode = Annotated[str, _in_vocabulary("sub_industries", "a sub-industry of 二(二)2")]


def _integral(value: object) -> object:
    """4.0 is the integer 4, as JSON Schema reads it; 4.5, "4" and true stay refused."""
    return int(value) if type(value) is float and value.is_integer() else value


Integral = BeforeValidator(_integral)  # last in each Annotated: it runs before the rest
Count = Annotated[int, Strict(), Field(ge=0, le=10**7), Integral]
Yuan = Annotated[int, Strict(), Field(ge=0, le=10**15), Integral]


class Profile(BaseModel):
    """An enterprise profile; every field but `county` may be left out (then it is unknown)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    uscc: Uscc | None = Field(
        None, description="统一社会信用代码（18位，含校验位）。Unified social credit code"
    )
    # the pattern declares in the schema what _no_control_characters refuses
    name: (
        Annotated[str, Field(min_length=1, max_length=200, pattern=NO_CONTROL_CHARACTERS)] | None
    ) = Field(None, description="企业名称。The enterprise's registered name")
    county: CountyCode = Field(
        description="所在县（市、区），GB/T 2260 代码；唯一必填的字段。"
        "The county-level division (GB/T 2260 code); the one required field"
    )
    industry_code: (
        Annotated[
            str,
            Field(pattern=r"^[A-T]([0-9]{2}|[0-9]{3}|[0-9]{4})?$", description="GB/T 4754-2017"),
        ]
        | None
    ) = Field(
        None,
        description="国民经济行业分类代码（GB/T 4754-2017），如 C3311。"
        "Industry classification code (GB/T 4754-2017), e.g. C3311",
    )
    cluster: Annotated[
        ClusterCode | None,
        vocabulary_schema("clusters", "strategic industry cluster", nullable=True),
    ] = Field(
        None,
        description="所属战略性产业集群；null 表示不属于任何集群。"
        "Strategic industry cluster; null: none",
    )
    sub_industry: Annotated[
        SubIndustryCode | None,
        vocabulary_schema("sub_industries", "segment of the digital pilot", nullable=True),
    ] = Field(
        None,
        description="数字化转型城市试点的细分行业（方案二(二)2）；null 表示不属于。"
        "Segment of the digital-transformation city pilot (二(二)2); null: none",
    )
    tier: Annotated[Tier, Field(json_schema_extra=vocabulary_labels("tiers"))] | None = Field(
        None,
        description="优质中小企业梯度培育层级：未获认定、创新型中小企业、市级或省级专精特新中小企业、"
        "国家级专精特新“小巨人”企业。Tier of recognition as a quality SME",
    )
    key_little_giant: StrictBool | None = Field(
        None, description="是否重点“小巨人”企业。Whether a key 'little giant'"
    )
    tier_valid_until: IsoDate | None = Field(
        None,
        description="梯度认定的有效期截止日（YYYY-MM-DD），过期的认定按未获认定处理。"
        "Last day the tier recognition is valid; an expired one counts as none",
    )
    employees: Count | None = Field(None, description="从业人员数（人）。Number of employees")
    revenue_cny: Yuan | None = Field(
        None, description="上年度营业收入（元）。Last year's operating revenue, in yuan"
    )
    profit_cny: Annotated[int, Strict(), Field(ge=-(10**15), le=10**15), Integral] | None = Field(
        None,
        description="上年度利润总额（元），可为负。"
        "Last year's total profit, in yuan (may be negative)",
    )
    rd_expense_cny: Yuan | None = Field(
        None, description="上年度研发费用（元）。Last year's R&D expenditure, in yuan"
    )
    invention_patents: Count | None = Field(
        None, description="有效发明专利数（项）。Valid invention patents held"
    )
    trademarks: Count | None = Field(
        None, description="注册商标数（个）。Registered trademarks held"
    )
    digital_level: Annotated[int, Strict(), Field(ge=0, le=4), Integral] | None = Field(
        None,
        description="中小企业数字化水平等级（0-4，0 为未评测）。"
        "Digitalisation level of SMEs (0-4; 0: not assessed)",
    )
    rd_institution: (
        Annotated[RdInstitution, Field(json_schema_extra=vocabulary_labels("rd_institutions"))]
        | None
    ) = Field(
        None,
        description="最高一级的研发机构：无、市级、省级、国家级。"
        "Highest level of R&D institution the firm has",
    )
    university_partner: StrictBool | None = Field(
        None,
        description="是否与高校或科研院所开展产学研合作。"
        "Whether it cooperates with a university or research institute",
    )
    fills_tech_gap: StrictBool | None = Field(
        None,
        description="是否填补国内技术空白或替代进口。"
        "Whether its technology fills a domestic gap or substitutes imports",
    )
    standards_role: (
        Annotated[StandardsRole, Field(json_schema_extra=vocabulary_labels("standards_roles"))]
        | None
    ) = Field(
        None,
        description="在标准制修订中的角色：未参与、参与制修订、主导制修订。"
        "Its part in drafting standards",
    )
    quality_award: StrictBool | None = Field(
        None,
        description="是否获得政府质量奖（提名奖不算），与 `quality_award_level` 一致。"
        "Whether it holds a government quality award (a nomination does not count)",
    )
    quality_award_level: (
        Annotated[
            QualityAwardLevel,
            Field(
                description="highest government quality award held: 市级 municipal, 省级 "
                "provincial, 国家级 national (提名奖 not counted); `quality_award` is true "
                "exactly when it is not `none`",
                json_schema_extra=vocabulary_labels("quality_award_levels"),
            ),
        ]
        | None
    ) = Field(
        None,
        description="获得的最高一级政府质量奖：江门市、广东省政府质量奖或中国质量奖。"
        "Highest government quality award held",
    )
    listing_stage: (
        Annotated[ListingStage, Field(json_schema_extra=vocabulary_labels("listing_stages"))] | None
    ) = Field(
        None,
        description="上市进程：无上市计划、拟上市、辅导期、已申报、已上市。"
        "Stage on the way to listing",
    )
    equity_board_listed: StrictBool | None = Field(
        None,
        description="是否在区域性股权市场挂牌。Whether listed on a regional equity market",
    )
    has_bank_loan: StrictBool | None = Field(
        None, description="是否有银行贷款。Whether it has a bank loan"
    )
    zyb_digital_loan: StrictBool | None = Field(
        None,
        description="是否有“政银保”数字化转型贷款。"
        "Whether it has a government-bank-insurance digital transformation loan",
    )
    guaranteed_loan: StrictBool | None = Field(
        None,
        description="是否有经融资担保机构担保的贷款。"
        "Whether it has a loan guaranteed by a financing guarantee institution",
    )
    tech_upgrade_project: StrictBool | None = Field(
        None,
        description="是否有技术改造项目。Whether it has a technical transformation project",
    )
    needs_land: StrictBool | None = Field(None, description="是否有用地需求。Whether it needs land")
    imports_exports: StrictBool | None = Field(
        None, description="是否有进出口业务。Whether it imports or exports"
    )
    needs_talent: StrictBool | None = Field(
        None, description="是否有人才引进需求。Whether it needs to attract talent"
    )
    migrant_workers: Count | None = Field(
        None, description="外来务工人员数（人）。Number of migrant workers employed"
    )
    bank_consents: (
        Annotated[
            list[Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]],
            Field(max_length=100),
        ]
        | None
    ) = Field(
        None,
        description="企业授权可查询其资格的银行编号；银行只看到授权给本行的企业。"
        "Banks (bank_id) the firm consents to: a bank sees only firms that consented to it",
    )

    @field_validator("quality_award_level")
    @classmethod
    def _award_level_agrees(cls, level: str | None, info: ValidationInfo) -> str | None:
        held = info.data.get("quality_award")
        if level is not None and held is not None and held != (level != "none"):
            raise ValueError(
                f"quality_award is {str(held).lower()} but quality_award_level is {level!r}: "
                "a level other than none means an award is held"
            )
        return level

    @field_validator("*", mode="before")
    @classmethod
    def _no_control_characters(cls, value: Any) -> Any:
        """No string of a profile may hold a control character (C0, NUL and tab and newline
        included, DEL, C1): PostgreSQL refuses NUL, and none belongs in a name or a code."""
        texts = value if isinstance(value, list) else [value]
        for text in texts:
            if isinstance(text, str) and CONTROL_CHARACTER.search(text):
                raise ValueError(
                    "control characters (such as NUL, tab or a line break) are not allowed"
                )
        return value

    def facts(self) -> dict[str, Any]:
        """The fields the caller gave, as plain values; absent means unknown.

        `quality_award` and `quality_award_level` say one thing twice: each is read from the
        other where only one is given (no award held means level `none`).
        """
        values = self.__dict__
        # null is a value only where the contract allows it; elsewhere it means "not given".
        facts = {
            k: values[k]
            for k in self.model_fields_set
            if values[k] is not None or k in NULLABLE_FIELDS
        }
        level, held = facts.get("quality_award_level"), facts.get("quality_award")
        if level is not None and held is None:
            facts["quality_award"] = level != "none"
        elif held is False and level is None:
            facts["quality_award_level"] = "none"
        return facts


NULLABLE_FIELDS = frozenset({"cluster", "sub_industry", "tier_valid_until"})


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """What a condition may say about one profile field."""

    name: str
    type: type
    allowed: tuple[Any, ...] | None = None


def field_specs(vocab: Vocabularies) -> dict[str, FieldSpec]:
    """Every profile field a condition may test, with its type and allowed values."""
    enums: dict[str, tuple[Any, ...]] = {
        "tier": get_args(Tier),
        "rd_institution": get_args(RdInstitution),
        "standards_role": get_args(StandardsRole),
        "listing_stage": get_args(ListingStage),
        "quality_award_level": get_args(QualityAwardLevel),
        "county": vocab.codes("counties"),
        "cluster": (*vocab.codes("clusters"), None),
        "sub_industry": (*vocab.codes("sub_industries"), None),
    }
    specs = {}
    for name, info in Profile.model_fields.items():
        if name in ("uscc", "name", "bank_consents"):
            continue  # identity and consent are never conditions of eligibility
        if name in enums:
            specs[name] = FieldSpec(name, str, enums[name])
        else:
            base = next(t for t in _flatten(info.annotation) if t is not type(None))
            specs[name] = FieldSpec(name, base)
    return specs


def _flatten(annotation: Any) -> list[Any]:
    args = get_args(annotation)
    if not args:
        return [annotation]
    if getattr(annotation, "__metadata__", None) is not None:
        return _flatten(args[0])
    return [t for a in args for t in _flatten(a)]
