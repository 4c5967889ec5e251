"""The bank query, GET /v1/measures/{measure_id}/eligible-enterprises, and its audit listing.

The measure's eligibility runs inside the database (service/banks/eligibility_sql.py), with the
consent filter in the same query and keyset pages. A bank (a token with `bank_id`) may ask only
about finance measures and sees only firms that consented to it, and of each only uscc, name,
county and tier. Every answer is recorded before it is sent; auditors list the records.
"""

from datetime import date
from typing import Annotated

import orjson
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from service.api.auth import Auditor, Caller, EligibilityReader
from service.api.deps import CatalogueDep, CursorKeysDep, EngineDep
from service.api.openapi import problems
from service.api.openapi_texts import Tag
from service.api.paging import owner, page
from service.api.ratelimit import Limited, spend
from service.api.responses import json_answer
from service.api.schemas import DisclosureList, EligibleEnterprises
from service.banks.disclosures import list_disclosures, record_disclosure
from service.banks.eligibility_sql import eligible_page
from service.core.clock import today
from service.core.cursors import INT32_MAX, NOT_OURS, CursorKeys, bad_cursor, cursor_number
from service.core.database import run_read, run_write
from service.core.errors import Forbidden, NotFound
from service.core.i18n import message
from service.policy.catalogue import Catalogue, Measure
from service.policy.examples import EXAMPLE_USCC
from service.policy.uscc import USCC_PATTERN

router = APIRouter(prefix="/v1", tags=[Tag.BANKS])

MAX_PAGE = 500
DISCLOSURES = "/v1/disclosures"
_POSITION = frozenset({"d", "a"})


def _measure_for(catalogue: Catalogue, measure_id: str, caller: Caller) -> Measure:
    measure = catalogue.by_id.get(measure_id)
    if measure is None:
        raise NotFound(
            message(
                "no measure {id!r} in catalogue {version}", id=measure_id, version=catalogue.version
            )
        )
    if caller.is_bank and not measure.spec.finance:
        raise Forbidden(
            message(
                "banks may ask only about finance measures; {id} is not one "
                "(GET /v1/measures?finance=true lists them)",
                id=measure_id,
            )
        )
    return measure


def _scope(measure_id: str) -> str:
    return f"/v1/measures/{measure_id}/eligible-enterprises"


def _page_start(
    keys: CursorKeys, cursor: str | None, measure_id: str, caller: Caller
) -> tuple[date, str | None]:
    """The day and the last credit code of the previous page (a new query: today, none).

    The cursor is signed for this caller and this measure: the day inside cannot be edited."""
    if cursor is None:
        return today(), None
    position = keys.open(
        cursor,
        parameter="cursor",
        scope=_scope(measure_id),
        caller=owner(caller),
        required=_POSITION,
    )
    try:
        return date.fromisoformat(position["d"]), str(position["a"])
    except (TypeError, ValueError):
        raise bad_cursor("cursor", NOT_OURS) from None


@router.get(
    "/measures/{measure_id}/eligible-enterprises",
    operation_id="listEligibleEnterprises",
    summary=(
        "符合某项措施的企业 · The stored enterprises eligible for a measure today (banks: "
        "consenting firms only)"
    ),
    description=(
        "按统一社会信用代码排序，每页 `limit` 家，沿 `next_cursor` 翻页直到它为 null。"
        "银行只能查询金融类措施，只看到授权给本行的企业，且只得到信用代码、名称、所在县（市、区）"
        "和梯度层级。每一页在答复前都会记录（谁、何时、哪项措施、哪些企业）。"
    ),
    response_model=EligibleEnterprises,
    responses=problems(400, 401, 403, 404, 422, 429, 503),
)
async def eligible_enterprises(
    request: Request,
    caller: EligibilityReader,
    engine: EngineDep,
    catalogue: CatalogueDep,
    keys: CursorKeysDep,
    measure_id: Annotated[str, Path(max_length=100, examples=["loan-interest-subsidy"])],
    limit: Annotated[
        int, Query(ge=1, le=MAX_PAGE, description="firms per page", examples=[100])
    ] = 100,
    cursor: Annotated[
        str | None,
        Query(
            max_length=200,
            description="`next_cursor` of the previous page; a query keeps the day it began on. "
            "Signed for the caller and the measure; good for 24 hours (no example: only the "
            "service makes one)",
        ),
    ] = None,
) -> Response:
    """Firms in credit-code order, `limit` at a time; follow `next_cursor` until it is null.

    Each page is recorded (who asked, when, the measure and the firms) before it is answered.
    """
    spend(request, Limited.BANK_QUERY, caller)
    measure = _measure_for(catalogue, measure_id, caller)
    day, after = _page_start(keys, cursor, measure_id, caller)
    rows = await run_read(
        engine,
        lambda connection: eligible_page(
            connection,
            catalogue,
            measure,
            day,
            bank_id=caller.bank_id,
            after=after,
            limit=limit + 1,
        ),
    )
    firms = [
        {"uscc": r.uscc, "name": r.name, "county": r.county, "tier": r.tier} for r in rows[:limit]
    ]
    await run_write(
        engine,
        lambda connection: record_disclosure(
            connection,
            caller=caller.subject,
            bank_id=caller.bank_id,
            measure_id=measure_id,
            as_of=day,
            catalogue_version=catalogue.version,
            usccs=[f["uscc"] for f in firms],
        ),
    )
    next_cursor = (
        keys.seal(
            {"d": day.isoformat(), "a": firms[-1]["uscc"]},
            scope=_scope(measure_id),
            caller=owner(caller),
        )
        if len(rows) > limit
        else None
    )
    body = page(
        firms,
        next_cursor,
        measure_id=measure_id,
        as_of=day.isoformat(),
        catalogue_version=catalogue.version,
    )
    return Response(
        orjson.dumps(body),
        media_type="application/json",
        headers={"X-Catalogue-Version": catalogue.version, "Cache-Control": "no-store"},
    )


@router.get(
    "/disclosures",
    operation_id="listDisclosures",
    summary=(
        "银行查询的披露记录（审计） · What the bank query disclosed, to whom and when (auditors)"
    ),
    description="从新到旧；每条记录写明调用方、所属银行、措施、日期和每一家企业。",
    response_model=DisclosureList,
    responses=problems(400, 401, 403, 422),
)
async def disclosures(
    caller: Auditor,
    engine: EngineDep,
    keys: CursorKeysDep,
    bank_id: Annotated[str | None, Query(max_length=64, examples=["bank-demo-1"])] = None,
    measure_id: Annotated[
        str | None, Query(max_length=100, examples=["loan-interest-subsidy"])
    ] = None,
    uscc: Annotated[
        str | None,
        Query(
            pattern=USCC_PATTERN,
            description="only disclosures naming this firm",
            examples=[EXAMPLE_USCC],
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, examples=[100])] = 100,
    cursor: Annotated[
        str | None,
        Query(
            max_length=200,
            description="`next_cursor` of the previous page; signed for the caller, good for "
            "24 hours",
        ),
    ] = None,
) -> Response:
    """Newest first; each names the caller, its bank, the measure, the day and every firm."""
    before = None
    if cursor is not None:
        position = keys.open(
            cursor,
            parameter="cursor",
            scope=DISCLOSURES,
            caller=owner(caller),
            required=frozenset({"b"}),
        )
        before = cursor_number(position, "b", INT32_MAX, "cursor")
    records = await run_read(
        engine,
        lambda connection: list_disclosures(
            connection,
            bank_id=bank_id,
            measure_id=measure_id,
            uscc=uscc,
            before=before,
            limit=limit,
        ),
    )
    next_cursor = (
        keys.seal({"b": records[-1].disclosure_id}, scope=DISCLOSURES, caller=owner(caller))
        if len(records) == limit
        else None
    )
    return json_answer(page([r.as_json() for r in records], next_cursor))
