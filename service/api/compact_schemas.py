"""The compact answers of POST /v1/match and /v1/match/batch (`view=compact`), declared for the
OpenAPI document (the answers are written in service/matching/compact_answer.py), and the
schemas of either view the routes answer with."""

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel

from service.api.answer_examples import REFUSED_ITEM
from service.api.schemas import BatchResponse, MatchResponse
from service.policy.examples import EXAMPLE_USCC
from service.policy.profile import enum_labels

COMPACT_EXAMPLE: dict[str, Any] = {  # FULL_PROFILE without has_bank_loan, shortened
    "view": "compact",
    "catalogue_version": "55308d083be889e8",
    "as_of": "2025-06-01",
    "matched": ["ladder-training-courses", "tier-little-giant-cultivation", "innovation-contests"],
    "near_misses": [
        {"measure_id": "guarantee-fee-subsidy", "unmet": ["guaranteed_loan"]},
        {"measure_id": "key-little-giant-funding", "unmet": ["tier", "key_little_giant"]},
    ],
    "undetermined": [
        {"measure_id": "loan-interest-subsidy", "missing_fields": ["has_bank_loan"]},
    ],
    "indicators": [
        {"id": "invention-patents", "actual": 1, "status": "not_met"},
        {"id": "registered-trademarks", "actual": 3, "status": "met"},
    ],
}

COMPACT_BATCH_EXAMPLE: dict[str, Any] = {
    "view": "compact",
    "catalogue_version": COMPACT_EXAMPLE["catalogue_version"],
    "as_of": COMPACT_EXAMPLE["as_of"],
    "results": [
        {"index": 0, "ok": True, "uscc": EXAMPLE_USCC, **COMPACT_EXAMPLE},
        REFUSED_ITEM,
    ],
}


def _one_of(schema: dict[str, Any]) -> None:
    """A union's `anyOf` as `oneOf`: exactly one of the views answers."""
    if "anyOf" in schema:
        schema["oneOf"] = schema.pop("anyOf")


class CompactNearMiss(BaseModel):
    """A measure not yet in reach: the fields that must change, and those not given yet."""

    measure_id: str = Field(examples=["key-little-giant-funding"])
    unmet: list[str] = Field(
        description="the profile fields whose values stand in the way", examples=[["tier"]]
    )
    missing_fields: list[str] | None = Field(
        None, description="fields on the way to eligibility that the profile does not give yet"
    )


class CompactUndetermined(BaseModel):
    """A measure that cannot be decided until the missing fields are given."""

    measure_id: str = Field(examples=["loan-interest-subsidy"])
    missing_fields: list[str] = Field(examples=[["has_bank_loan"]])


class CompactIndicator(BaseModel):
    """Where the firm stands against one of the plan's targets (words: GET /v1/measures)."""

    id: str = Field(examples=["invention-patents"])
    actual: Any = Field(description="the firm's value; null when the profile leaves it out")
    status: Annotated[
        Literal["met", "not_met", "unknown"],
        Field(
            json_schema_extra=enum_labels({"met": "已达到", "not_met": "未达到", "unknown": "未知"})
        ),
    ]


class CompactMatchResponse(BaseModel):
    """The answer of POST /v1/match?view=compact: ids and field names, no reasons."""

    model_config = ConfigDict(json_schema_extra={"examples": [COMPACT_EXAMPLE]})

    view: Literal["compact"]
    catalogue_version: str
    as_of: date
    matched: list[str] = Field(description="the ids of the measures the firm qualifies for")
    near_misses: list[CompactNearMiss]
    undetermined: list[CompactUndetermined]
    indicators: list[CompactIndicator]


class CompactBatchItem(BaseModel):
    """One profile's compact answer in a batch, in the request's order."""

    index: int
    ok: bool
    uscc: str | None = None
    view: Literal["compact"] | None = None
    catalogue_version: str | None = None
    as_of: date | None = None
    matched: list[str] | None = None
    near_misses: list[CompactNearMiss] | None = None
    undetermined: list[CompactUndetermined] | None = None
    indicators: list[CompactIndicator] | None = None
    errors: list[dict[str, Any]] | None = Field(None, description="why this profile was refused")


class CompactBatchResponse(BaseModel):
    """The answer of POST /v1/match/batch?view=compact."""

    model_config = ConfigDict(json_schema_extra={"examples": [COMPACT_BATCH_EXAMPLE]})

    view: Literal["compact"]
    catalogue_version: str
    as_of: date
    results: list[CompactBatchItem]


class MatchAnswer(RootModel[MatchResponse | CompactMatchResponse]):
    """The answer of POST /v1/match: the full view (default) or the compact one (`view`)."""

    model_config = ConfigDict(json_schema_extra=_one_of)


class BatchAnswer(RootModel[BatchResponse | CompactBatchResponse]):
    """The answer of POST /v1/match/batch: the full view (default) or the compact one.

    `anyOf`, not `oneOf`: a batch whose every profile was refused (or an empty one) reads the
    same in both views but for `view`, which the full view's schema does not forbid."""
