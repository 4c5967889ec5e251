"""GET /v1/enterprises/matches: the registry's matches as a spreadsheet, for platform staff.

Every stored firm (of a county) with each measure (of a kind) it matches or nearly matches on
`as_of`, a row each, as CSV or .xlsx. The same scope as reading one firm's matches
(`enterprises:read`; banks refused). Mounted before /v1/enterprises/{uscc}, whose credit-code
path would otherwise take `matches`.
"""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from service.api.auth import EnterprisesReader
from service.api.deps import AS_OF_PARAMETER, CatalogueDep, EngineDep, LanguageDep, as_of_param
from service.api.exports import FormatParam, answer_format, sheet_content, spreadsheet_answer
from service.api.openapi import problems
from service.api.openapi_texts import Tag
from service.core.i18n import message
from service.core.spreadsheets import SheetFormat
from service.policy.examples import EXAMPLE_USCC, FULL_PROFILE
from service.policy.profile import CountyCode, KindCode
from service.registry.match_export import MATCH_COLUMNS, match_rows

router = APIRouter(prefix="/v1/enterprises", tags=[Tag.REGISTRY])

MATCHES_CSV = (
    "\ufeff统一社会信用代码,企业名称,所在县(市、区),结果,措施,条款,类别,措施名称,牵头部门\r\n"
    f"{EXAMPLE_USCC},{FULL_PROFILE['name']},台山市,符合,loan-interest-subsidy,二(二)5,贷款贴息,"
    "专精特新中小企业市级贷款贴息,市工业和信息化局\r\n"
)
SHEET_ONLY = (
    "成功：CSV（UTF-8，带 BOM）或 .xlsx 附件，表头为中文（按 Accept-Language）。Successful: a "
    "CSV (UTF-8 with a BOM) or .xlsx attachment, headers in the caller's language"
)


@router.get(
    "/matches",
    operation_id="exportEnterpriseMatches",
    summary=(
        "导出企业库的匹配结果（表格） · Every stored firm's matched and nearly matched measures, "
        "as CSV or .xlsx"
    ),
    description=(
        "每家已保存的企业、每项它在 `as_of`（默认今天）符合或差一点符合的措施一行：信用代码、名称、"
        "所在县（市、区）、结果、措施、条款、类别、措施名称和牵头部门。可按县和类别筛选；"
        "以 `format` 或 `Accept` 选择 CSV 或 .xlsx（默认 CSV）。"
    ),
    responses={
        200: {"description": SHEET_ONLY, "content": sheet_content(MATCHES_CSV)},
        **problems(401, 403, 406, 422, 503),
    },
    response_class=Response,
    openapi_extra={"parameters": [AS_OF_PARAMETER]},
)
async def export_enterprise_matches(
    request: Request,
    caller: EnterprisesReader,
    engine: EngineDep,
    catalogue: CatalogueDep,
    language: LanguageDep,
    as_of: Annotated[date, Depends(as_of_param)],
    county: Annotated[CountyCode | None, Query(max_length=6, examples=["440781"])] = None,
    kind: Annotated[
        KindCode | None, Query(max_length=64, examples=["loan_interest_subsidy"])
    ] = None,
    export: FormatParam = None,
) -> Response:
    """A row per stored firm and measure it matches or nearly matches on `as_of` (today), with
    the measure's clause, kind, title and lead department; filter by county and kind. CSV
    unless `format` or `Accept` asks for .xlsx."""
    fmt = answer_format(request.headers.get("accept"), export, json=False) or SheetFormat.CSV
    rows = match_rows(engine, catalogue, as_of, language, county=county, kind=kind)
    return await spreadsheet_answer(
        fmt,
        MATCH_COLUMNS,
        rows,
        language=language,
        sheet=message("Matches"),
        file_stem=f"matches-{as_of.isoformat()}",
        headers={"X-Catalogue-Version": catalogue.version},
    )
