"""Response shapes of GET /v1/plan/progress, declared for the OpenAPI document."""

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from service.policy.profile import enum_labels


class TallyOut(BaseModel):
    """Stored firms counted against a target."""

    firms: int | None = Field(description="for a share: the firms it is a share of; else null")
    count: int = Field(description="the firms that meet it (of `firms`, for a share)")
    unknown: int = Field(
        description="the firms whose profile does not say (of `firms`, for a share)"
    )
    share_percent: float | None = Field(
        description="count / firms × 100, for a share with firms; else null"
    )


class CountyTallyOut(TallyOut):
    """A target's tally in one county."""

    county: str = Field(examples=["440781"])
    county_name: str = Field(examples=["台山市"])


class PlacedQuote(BaseModel):
    """Another place where the plan sets the same target."""

    clause: str
    quote: str


class TargetProgress(BaseModel):
    """One target of the plan: its words and numbers, and the stored firms counted against it."""

    id: str = Field(examples=["little-giants"])
    title: str = Field(examples=["国家级专精特新“小巨人”企业数量"])
    clause: str = Field(examples=["一(二)"])
    quote: str = Field(description="the plan's words, verbatim as issued (traditional script)")
    sentence: str = Field(description="the quote in the caller's language")
    also: list[PlacedQuote]
    goal: Annotated[
        Literal["reach", "raise"],
        Field(json_schema_extra=enum_labels({"reach": "达到数量", "raise": "提高比例"})),
    ] = Field(description="reach a number, or raise a share (提高) where the plan gives none")
    unit: str = Field(examples=["家"])
    baseline: int | None = Field(examples=[24], description="the plan's 现有 figure")
    baseline_on: date | None = Field(examples=["2024-01-30"])
    target: float | None = Field(examples=[48])
    target_max: float | None = Field(description="the top of a range (1-2 a year, 3-5 brands)")
    or_more: bool = Field(description="以上: the target or more")
    per_year: bool = Field(description="a target for each year of the plan")
    year: int = Field(examples=[2026])
    note: str | None
    counted: bool = Field(description="whether the registry can count it")
    what: str | None = Field(description="what is counted, in words")
    not_counted: str | None = Field(description="why the registry cannot count it")
    total: TallyOut | None
    by_county: list[CountyTallyOut]


class PlanProgress(BaseModel):
    """Every target of the plan against the stored firms on a day."""

    as_of: date
    county: str | None
    include_synthetic: bool
    catalogue_version: str
    document: str = Field(examples=["江府辦函〔2024〕13號"])
    document_title: str
    notice: str = Field(description="the registry is not the official recognition list")
    items: list[TargetProgress]
    next_cursor: None = Field(description="every target fits one page")
