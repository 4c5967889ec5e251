"""The catalogue, open to all: GET /v1/measures, /v1/measures/{measure_id}, /v1/departments
(the code lists are in routes/vocabularies.py)."""

from datetime import date
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response
from pydantic import StringConstraints

from service.api.deps import CatalogueDep, LanguageDep, in_force_on_param
from service.api.openapi import problems
from service.api.openapi_texts import Tag
from service.api.paging import page
from service.api.responses import NOT_MODIFIED, IfNoneMatch, catalogue_read
from service.api.schemas import DepartmentList, MeasureList, MeasureOut
from service.core.errors import NotFound, Unprocessable, errors_detail
from service.core.i18n import Language, message
from service.matching.presentation import measure_detail
from service.policy.catalogue import Catalogue
from service.policy.profile import KindCode

router = APIRouter(prefix="/v1", tags=[Tag.CATALOGUE])
FilterText = Annotated[str, StringConstraints(max_length=64)]


def _json(payload: Any, version: str, language: Language, if_none_match: str | None) -> Response:
    return catalogue_read(orjson.dumps(payload), version, language, if_none_match)


def _check_filters(catalogue: Catalogue, clauses: list[str] | None, department: str | None) -> None:
    """422 naming the parameter for a clause or unit the plan does not name (an unknown code
    is a mistake, not a filter that matches nothing)."""
    not_a_clause = message("not a clause of the plan")
    errors: list[dict[str, Any]] = [
        {"field": "clause", "in": "query", "message": not_a_clause, "type": "enum"}
        for clause in clauses or []
        if clause not in catalogue.clauses
    ]
    if department is not None and department not in catalogue.departments:
        not_a_unit = message("not a unit the plan names (GET /v1/departments lists them)")
        errors.append({"field": "department", "in": "query", "message": not_a_unit, "type": "enum"})
    if errors:
        raise Unprocessable(errors_detail(errors), errors=errors)


@router.get(
    "/measures",
    operation_id="listMeasures",
    summary="措施列表 · List the measures of the plan",
    description="按方案顺序列出通过全部筛选条件的措施，无需令牌。",
    response_model=MeasureList,
    responses={**NOT_MODIFIED, **problems(422)},
)
async def list_measures(
    catalogue: CatalogueDep,
    language: LanguageDep,
    if_none_match: IfNoneMatch = None,
    kind: Annotated[
        list[KindCode] | None, Query(max_length=20, examples=["loan_interest_subsidy"])
    ] = None,
    clause: Annotated[list[FilterText] | None, Query(max_length=20, examples=["二(二)5"])] = None,
    department: Annotated[
        str | None,
        Query(
            max_length=64,
            description="a unit's code; matches any unit of the clause",
            examples=["natural_resources"],
        ),
    ] = None,
    in_force_on: Annotated[date | None, Depends(in_force_on_param)] = None,
    finance: Annotated[
        bool | None,
        Query(description="only finance measures (or only others)", examples=[True]),
    ] = None,
) -> Response:
    """Measures that pass every filter given, in the plan's order."""
    _check_filters(catalogue, clause, department)
    items = [
        measure_detail(catalogue, m, language)
        for m in catalogue.measures
        if (not kind or m.spec.kind in kind)
        and (not clause or m.spec.clause in clause)
        and (department is None or any(d.code == department for d in m.departments))
        and (in_force_on is None or m.in_force(in_force_on))
        and (finance is None or m.spec.finance == finance)
    ]
    payload = page(items, catalogue_version=catalogue.version, count=len(items))
    return _json(payload, catalogue.version, language, if_none_match)


@router.get(
    "/measures/{measure_id}",
    operation_id="getMeasure",
    summary="措施详情 · One measure, with the plan's words it rests on",
    description="一项措施的全部内容：条款、单位、引用的方案原文和条件。",
    response_model=MeasureOut,
    responses={**NOT_MODIFIED, **problems(404)},
)
async def get_measure(
    measure_id: Annotated[str, Path(max_length=100, examples=["loan-interest-subsidy"])],
    catalogue: CatalogueDep,
    language: LanguageDep,
    if_none_match: IfNoneMatch = None,
) -> Response:
    """A measure in full: clause, units, the quoted sentence and the conditions."""
    measure = catalogue.by_id.get(measure_id)
    if measure is None:
        raise NotFound(
            message(
                "no measure {id!r} in catalogue {version}", id=measure_id, version=catalogue.version
            )
        )
    detail = measure_detail(catalogue, measure, language)
    return _json(detail, catalogue.version, language, if_none_match)


@router.get(
    "/departments",
    operation_id="listDepartments",
    summary="牵头和责任单位 · The units the plan names, with the clauses each serves",
    description="方案点名的每个单位，以及它牵头和参与的条款。",
    response_model=DepartmentList,
    responses=NOT_MODIFIED,
)
async def list_departments(
    catalogue: CatalogueDep, language: LanguageDep, if_none_match: IfNoneMatch = None
) -> Response:
    """Every unit, the clauses it leads and those it serves."""
    items = []
    for code, department in catalogue.departments.items():
        serves = [c.clause for c in catalogue.clauses.values() if code in c.departments]
        leads = [c.clause for c in catalogue.clauses.values() if c.departments[0] == code]
        items.append(
            {
                "code": code,
                "name": department.name(language),
                "names": department.names(),
                "lead_of": leads,
                "clauses": serves,
            }
        )
    payload = page(items, catalogue_version=catalogue.version)
    return _json(payload, catalogue.version, language, if_none_match)
