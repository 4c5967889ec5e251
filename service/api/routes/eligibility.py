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
from sqlalchemy.engine import Engine

from service.api.auth import Auditor, Caller, EligibilityReader
from service.api.deps import CatalogueDep, CursorKeysDep, EngineDep, LanguageDep
from service.api.exports import (
    SHEET_ANSWER,
    FormatParam,
    answer_format,
    sheet_content,
    spreadsheet_answer,
)
from service.api.openapi import problems
from service.api.openapi_texts import Tag
from service.api.paging import owner, page
from service.api.ratelimit import Limited, spend
from service.api.responses import json_answer
from service.api.schemas import DisclosureList, EligibleEnterprises
from service.banks.disclosure_export import DISCLOSURE_COLUMNS, disclosure_rows
from service.banks.disclosures import list_disclosures, record_disclosure
from service.banks.eligibility_sql import eligible_page
from service.banks.eligible_export import (
    ELIGIBLE_COLUMNS,
    disclosed_firms,
    eligible_rows,
    record_export,
)
from service.core.clock import today
from service.core.cursors import INT32_MAX, NOT_OURS, CursorKeys, bad_cursor, cursor_number
from service.core.database import run_long_write, run_read, run_write
from service.core.errors import Forbidden, NotFound
from service.core.i18n import Language, message
from service.core.spreadsheets import SheetFormat
from service.policy.catalogue import Catalogue, Measure
from service.policy.examples import EXAMPLE_USCC, FULL_PROFILE
from service.policy.uscc import USCC_PATTERN

router = APIRouter(prefix="/v1", tags=[Tag.BANKS])

MAX_PAGE = 500
DISCLOSURES = "/v1/disclosures"
_POSITION = frozenset({"d", "a"})
ELIGIBLE_CSV = (
    "\ufeff统一社会信用代码,企业名称,所在县(市、区),梯度层级\r\n"
    f"{EXAMPLE_USCC},{FULL_PROFILE['name']},台山市,省级专精特新中小企业\r\n"
)
DISCLOSURES_CSV = (
    "\ufeff记录编号,披露时间(UTC),调用方,银行,措施,符合日期,目录版本,披露企业数,统一社会信用代码\r\n"
    "42,2026-11-30T08:00:00Z,demo-bank-1,bank-demo-1,loan-interest-subsidy,2026-11-30,"
    f"3f2a9c,1,{EXAMPLE_USCC}\r\n"
)


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
        "也可一次导出全部（`format=csv|xlsx` 或 `Accept: text/csv` 等）：同样的四个字段，"
        "表头为中文，整份导出记为一条披露记录，在发送第一个字节之前写入。"
    ),
    response_model=EligibleEnterprises,
    responses={
        200: {"description": SHEET_ANSWER, "content": sheet_content(ELIGIBLE_CSV)},
        **problems(400, 401, 403, 404, 406, 422, 429, 503),
    },
)
async def eligible_enterprises(
    request: Request,
    caller: EligibilityReader,
    engine: EngineDep,
    catalogue: CatalogueDep,
    keys: CursorKeysDep,
    language: LanguageDep,
    measure_id: Annotated[str, Path(max_length=100, examples=["loan-interest-subsidy"])],
    export: FormatParam = None,
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
    Or the whole list at once, as CSV or .xlsx (`format`, or `Accept`): the same four fields
    under Chinese headers, recorded as one disclosure before the first byte is sent; `limit` and
    `cursor` are for JSON pages only.
    """
    fmt = answer_format(request.headers.get("accept"), export)
    spend(request, Limited.BANK_QUERY, caller)
    measure = _measure_for(catalogue, measure_id, caller)
    if fmt is not None:
        return await _export(engine, catalogue, measure, caller, fmt, language)
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


async def _export(
    engine: Engine,
    catalogue: Catalogue,
    measure: Measure,
    caller: Caller,
    fmt: SheetFormat,
    language: Language,
) -> Response:
    """Every eligible firm as a spreadsheet, recorded (and committed) before it is written."""
    day = today()
    disclosure_id, _ = await run_long_write(
        engine,
        lambda connection: record_export(
            connection, catalogue, measure, day, caller=caller.subject, bank_id=caller.bank_id
        ),
    )
    rows = eligible_rows(disclosed_firms(engine, disclosure_id), catalogue.vocabularies, language)
    return await spreadsheet_answer(
        fmt,
        ELIGIBLE_COLUMNS,
        rows,
        language=language,
        sheet=message("Eligible enterprises"),
        file_stem=f"eligible-{measure.measure_id}-{day.isoformat()}",
        headers={"X-Catalogue-Version": catalogue.version},
    )


@router.get(
    "/disclosures",
    operation_id="listDisclosures",
    summary=(
        "银行查询的披露记录（审计） · What the bank query disclosed, to whom and when (auditors)"
    ),
    description=(
        "从新到旧；每条记录写明调用方、所属银行、措施、日期和每一家企业。"
        "也可按同样的筛选条件导出为 CSV 或 .xlsx（`format` 或 `Accept`）：每家被披露的企业一行。"
    ),
    response_model=DisclosureList,
    responses={
        200: {"description": SHEET_ANSWER, "content": sheet_content(DISCLOSURES_CSV)},
        **problems(400, 401, 403, 406, 422),
    },
)
async def disclosures(
    request: Request,
    caller: Auditor,
    engine: EngineDep,
    keys: CursorKeysDep,
    language: LanguageDep,
    export: FormatParam = None,
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
    """Newest first; each names the caller, its bank, the measure, the day and every firm.

    Or, with the same filters, as CSV or .xlsx (`format`, or `Accept`): a row per firm of each
    disclosure (one with no credit code for a disclosure that named none; with `uscc`, that
    firm's row of each disclosure naming it). `limit` and `cursor` are for JSON pages only.
    """
    fmt = answer_format(request.headers.get("accept"), export)
    if fmt is not None:
        rows = disclosure_rows(engine, bank_id=bank_id, measure_id=measure_id, uscc=uscc)
        return await spreadsheet_answer(
            fmt,
            DISCLOSURE_COLUMNS,
            rows,
            language=language,
            sheet=message("Disclosures"),
            file_stem=f"disclosures-{today().isoformat()}",
            headers={},
        )
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
