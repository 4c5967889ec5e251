"""Response shapes, declared for the OpenAPI document (answers are built in presentation.py)."""

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field


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


class MeasureResult(MeasureHead):
    """A measure as decided for one profile."""

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


class MatchResponse(BaseModel):
    """The answer of POST /v1/match."""

    catalogue_version: str
    as_of: date
    county_government: str
    matched: list[MeasureResult]
    near_misses: list[NearMiss]
    undetermined: list[Undetermined]


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
    errors: list[dict[str, Any]] | None = Field(None, description="why this profile was refused")


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
    quote: list[str]


class ConditionOut(BaseModel):
    """A condition as written."""

    field: str
    operator: str
    expected: Any
    note: str | None = None


class MeasureOut(MeasureHead):
    """A measure in full."""

    summary: str
    kind_name: str
    clause_heading: str
    source: Source
    eligibility: dict[str, Any] = Field(description="the condition tree as the policy file has it")
    conditions: list[ConditionOut]
    catalogue_version: str


class MeasureList(BaseModel):
    """Measures that pass the filters."""

    catalogue_version: str
    count: int
    items: list[MeasureOut]


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


class ProfileVersionOut(BaseModel):
    """One stored version of a profile."""

    version: int = Field(examples=[2])
    action: Literal["created", "updated", "deleted"]
    changed_by: str = Field(description="the `sub` of the token that wrote it")
    changed_at: datetime
    profile: dict[str, Any] | None = Field(description="null for a deletion")


class EnterpriseHistory(BaseModel):
    """A firm's profile versions, oldest first."""

    uscc: str
    versions: list[ProfileVersionOut]
    next_after: int | None = Field(description="pass as `after` for the next page; null: no more")


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
    enterprises: list[EligibleEnterprise]
    next_cursor: str | None = Field(description="opaque; pass as `cursor` for the next page")


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

    disclosures: list[DisclosureOut]
    next_cursor: str | None


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[dict[str, Any]] | None = None
