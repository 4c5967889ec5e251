"""GET /v1/enterprises/import-template.xlsx: the workbook to fill in for an import.

Open to all, like the catalogue: it holds the profile's columns and the vocabularies' labels,
nothing about any firm (the console links it for staff who have no token in their browser).
Built once per process: the vocabularies are fixed while it runs.
"""

from functools import cache

from fastapi import APIRouter
from fastapi.responses import Response

from service.api.exports import workbook_answer
from service.api.openapi_texts import Tag
from service.core.spreadsheets import SheetFormat
from service.registry.import_template import template_workbook
from service.registry.sheet_columns import column_title, columns

router = APIRouter(prefix="/v1/enterprises", tags=[Tag.REGISTRY])
XLSX = SheetFormat.XLSX.media_type
FILE_NAME = "enterprise-import-template.xlsx"
CHINESE_NAME = "%E4%BC%81%E4%B8%9A%E5%AF%BC%E5%85%A5%E6%A8%A1%E6%9D%BF.xlsx"  # 企业导入模板.xlsx


@cache
def _template() -> bytes:
    return template_workbook({field: column_title(field) for field in columns()})


@router.get(
    "/import-template.xlsx",
    operation_id="getEnterpriseImportTemplate",
    summary="企业导入模板（.xlsx） · The workbook to fill in for an import",
    description=(
        "中文表头，每个代码字段（县、梯度层级、产业集群等）都有下拉选择，是/否 字段有下拉，"
        "数字和日期有格式与校验，表头冻结；“说明”表列出每一列的含义、是否必填和可填的值。无需令牌。"
    ),
    response_class=Response,
    responses={
        200: workbook_answer("导入模板（.xlsx 附件）。The template, as an .xlsx attachment")
    },
)
async def import_template() -> Response:
    """Chinese headers, a drop-down for every coded and yes/no column, number and date formats,
    the header row frozen, and an instructions sheet (说明). No token needed."""
    return Response(
        _template(),
        media_type=XLSX,
        headers={
            "Content-Disposition": (
                f"attachment; filename=\"{FILE_NAME}\"; filename*=UTF-8''{CHINESE_NAME}"
            ),
            "Cache-Control": "public, max-age=3600",
        },
    )
