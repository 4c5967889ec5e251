"""The shapes of the files in policies/, as pydantic models (the first line of validation)."""

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from service.policy.rules import Condition
from service.policy.vocabulary import Names, Term

MEASURE_ID = r"^[a-z0-9]+(-[a-z0-9]+)*$"
DEFAULT_CASE_DAY = date(2025, 6, 1)
DEFAULT_CASE_COUNTY = "440703"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Erratum(_Strict):
    """A place where the received copy of the plan differs from the issued text."""

    stored: str = Field(min_length=1)
    issued: str = Field(min_length=1)
    why: str


class NearMissRule(_Strict):
    """How far from eligibility a measure may be and still be reported as a near miss."""

    max_unmet: int = Field(ge=1, le=5)
    fixed_fields: tuple[str, ...]


class Document(_Strict):
    """The plan the catalogue encodes."""

    id: str
    title: Names
    issued_by: str
    issued_on: date
    in_force_until: date  # the plan's own period ends (2024-2026年); 三(三) lets others govern
    source_file: str
    enquiries: str


class CountyDiscretion(_Strict):
    """What every result of a measure left to 有条件的县(市、区) says: the county decides.

    `answer` names the firm's county government (`{government}`); `listing` is for the
    catalogue, where no county is known.
    """

    answer: Names
    listing: Names


class CatalogueFile(_Strict):
    """catalogue.yaml."""

    document: Document
    errata: tuple[Erratum, ...] = ()
    near_miss: NearMissRule
    county_discretion: CountyDiscretion


class Department(Term):
    """A unit the plan names."""


class DepartmentsFile(_Strict):
    """departments.yaml."""

    departments: tuple[Department, ...] = Field(min_length=1)


class Clause(_Strict):
    """A clause of section 二 and its units, lead first."""

    clause: str
    heading: Names
    departments: tuple[str, ...] = Field(min_length=1)


class ClausesFile(_Strict):
    """clauses.yaml."""

    clauses: tuple[Clause, ...] = Field(min_length=1)


class Source(_Strict):
    """Where in the plan a measure stands."""

    quote: tuple[str, ...] = Field(min_length=1)


class Instrument(_Strict):
    """An instrument other than the plan that the measure names: it may set a gate or a period.

    Only instruments with a number and a date of issue qualify; a recognition's own criteria
    (who may be recognised) are not conditions of the plan's support and are not declared here.
    """

    id: str = Field(pattern=MEASURE_ID, max_length=40)
    title: Names
    number: str = Field(min_length=1, max_length=80)
    issued_by: Names
    issued_on: date


class Case(_Strict):
    """A test case written as data: a profile, a day, and the expected outcome."""

    name: str = Field(min_length=1)
    why: str = Field(min_length=10)
    as_of: date = DEFAULT_CASE_DAY
    profile: dict[str, Any]
    expect: Literal["matched", "near_miss", "undetermined", "not_matched"]
    unmet: tuple[str, ...] | None = None
    missing: tuple[str, ...] | None = None


class MeasureFile(_Strict):
    """One measure of the plan (policies/measures/<measure_id>.yaml)."""

    measure_id: str = Field(pattern=MEASURE_ID, max_length=80)
    clause: str
    kind: str
    finance: bool
    title: Names
    summary: Names
    source: Source
    valid_from: date
    valid_until: date
    # the instrument that sets valid_from / valid_until where they are not the plan's period
    # (三(三): 上级政府或现有政策有明确规定实施期限的,从其规定)
    period_source: str | None = None
    # 支持有条件的县(市、区)…: the county decides whether it offers the measure at all
    county_discretion: bool = False
    serves: Names  # whom the plan's sentence serves, in plain words (docs/fidelity.md)
    instruments: tuple[Instrument, ...] = ()
    eligibility: Condition
    cases: tuple[Case, ...] = Field(min_length=2)
