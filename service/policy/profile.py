"""The enterprise profile as the contract defines it, validated field by field."""

import re
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
        if self.nullable:
            schema = {"anyOf": [schema, {"type": "null"}], "description": self.description}
        return schema


def vocabulary_schema(list_name: str, description: str, nullable: bool = False) -> VocabularySchema:
    """The JSON schema of a code from one list of the vocabularies: an enum of its codes."""
    return VocabularySchema(list_name, description, nullable)


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

    uscc: Uscc | None = None
    # the pattern declares in the schema what _no_control_characters refuses
    name: (
        Annotated[str, Field(min_length=1, max_length=200, pattern=NO_CONTROL_CHARACTERS)] | None
    ) = None
    county: CountyCode
    industry_code: (
        Annotated[
            str,
            Field(pattern=r"^[A-T]([0-9]{2}|[0-9]{3}|[0-9]{4})?$", description="GB/T 4754-2017"),
        ]
        | None
    ) = None
    cluster: Annotated[
        ClusterCode | None,
        vocabulary_schema("clusters", "strategic industry cluster", nullable=True),
    ] = None
    sub_industry: Annotated[
        SubIndustryCode | None,
        vocabulary_schema("sub_industries", "segment of the digital pilot", nullable=True),
    ] = None
    tier: Tier | None = None
    key_little_giant: StrictBool | None = None
    tier_valid_until: IsoDate | None = None
    employees: Count | None = None
    revenue_cny: Yuan | None = None
    profit_cny: Annotated[int, Strict(), Field(ge=-(10**15), le=10**15), Integral] | None = None
    rd_expense_cny: Yuan | None = None
    invention_patents: Count | None = None
    trademarks: Count | None = None
    digital_level: Annotated[int, Strict(), Field(ge=0, le=4), Integral] | None = None
    rd_institution: RdInstitution | None = None
    university_partner: StrictBool | None = None
    fills_tech_gap: StrictBool | None = None
    standards_role: StandardsRole | None = None
    quality_award: StrictBool | None = None
    quality_award_level: (
        Annotated[
            QualityAwardLevel,
            Field(
                description="highest government quality award held: 市级 municipal, 省级 "
                "provincial, 国家级 national (提名奖 not counted); `quality_award` is true "
                "exactly when it is not `none`"
            ),
        ]
        | None
    ) = None
    listing_stage: ListingStage | None = None
    equity_board_listed: StrictBool | None = None
    has_bank_loan: StrictBool | None = None
    zyb_digital_loan: StrictBool | None = None
    guaranteed_loan: StrictBool | None = None
    tech_upgrade_project: StrictBool | None = None
    needs_land: StrictBool | None = None
    imports_exports: StrictBool | None = None
    needs_talent: StrictBool | None = None
    migrant_workers: Count | None = None
    bank_consents: (
        Annotated[
            list[Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]],
            Field(max_length=100),
        ]
        | None
    ) = None

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
