"""Response shape of POST /v1/catalogue/preview, declared for the OpenAPI document."""

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from service.policy.profile import enum_labels

STATE_LABELS = {
    "matched": "符合",
    "near_miss": "差一点符合",
    "undetermined": "无法判断",
    "unmatched": "不符合",
    "absent": "未生效（不在该目录中或当日不在有效期内）",
}
State = Annotated[
    Literal["matched", "near_miss", "undetermined", "unmatched", "absent"],
    Field(json_schema_extra=enum_labels(STATE_LABELS, title="MeasureState")),
]
Change = Annotated[
    Literal["added", "removed", "changed"],
    Field(
        json_schema_extra=enum_labels(
            {"added": "新增", "removed": "删除", "changed": "修改"}, title="MeasureChange"
        )
    ),
]


class MovedFirm(BaseModel):
    """A firm the change moves, masked as the decision log masks it."""

    uscc: str = Field(examples=["91440703*********X"], description="credit code, masked")
    county: str = Field(examples=["440703"])
    name: str | None = Field(examples=["（*********公司"], description="name, masked; null if none")


class CountyFirms(BaseModel):
    """Firms of one county."""

    county: str = Field(examples=["440703"])
    county_name: str = Field(examples=["蓬江区"])
    firms: int


class MovedSide(BaseModel):
    """The firms that would gain (or lose) a measure: how many, by county, the first listed."""

    firms: int
    by_county: list[CountyFirms]
    first: list[MovedFirm] = Field(description="the first 20 by credit code")


class Transition(BaseModel):
    """Firms whose decision on the measure would go from one state to another."""

    from_: State = Field(alias="from")
    to: State
    firms: int


class MeasureImpactOut(BaseModel):
    """What one added, removed or changed measure does to the stored firms."""

    measure_id: str = Field(examples=["brand-cultivation-services"])
    title: str = Field(examples=["品牌培育和运营专业服务"])
    change: Change
    gained: MovedSide
    lost: MovedSide
    moved: list[Transition] = Field(description="every change of state, most firms first")


class CountyEvents(BaseModel):
    """Push events of one county."""

    county: str = Field(examples=["440703"])
    county_name: str = Field(examples=["蓬江区"])
    events: int


class PreviewEvents(BaseModel):
    """The push events the re-match would write, and their deliveries."""

    matched: int = Field(alias="measure.matched")
    unmatched: int = Field(alias="measure.unmatched")
    by_county: list[CountyEvents]
    deliveries: int = Field(
        description="to the active subscriptions whose filters pass, before caps"
    )
    subscriptions: int = Field(description="active subscriptions")


class CataloguePreview(BaseModel):
    """The impact of putting the policies folder in force: nothing was written."""

    catalogue_version: str = Field(description="the policies folder's catalogue")
    in_force_version: str = Field(description="the catalogue in force")
    changed: bool
    day: str = Field(examples=["2025-06-01"], json_schema_extra={"format": "date"})
    firms: int = Field(description="stored firms decided")
    stale_firms: int = Field(
        description="of them, whose stored matches are older than the catalogue in force or the "
        "day: re-matching them may also move measures this preview does not list"
    )
    measures: list[MeasureImpactOut]
    events: PreviewEvents
