"""Exports over HTTP: which format a request asks for, the file streamed out, and its OpenAPI.

A list operation that can answer as a spreadsheet takes `format=csv|xlsx`, or reads `Accept`
(`text/csv`, or the .xlsx media type); `format` wins when both are given. `Accept` is not
declared as a parameter (OpenAPI ignores one): the answer's media types document it. Without
either the answer is the operation's JSON (an export-only operation: CSV). `Accept` that allows
nothing the operation makes gets 406. The rows are written by service/core/spreadsheets.py: CSV
as they are read, an .xlsx into a temporary file first (in the thread pool), then read out.
"""

from collections.abc import Iterable, Sequence
from typing import Annotated, Any, Literal

from anyio.to_thread import run_sync
from fastapi import Query
from fastapi.responses import StreamingResponse
from pydantic import WithJsonSchema

from service.core.errors import NotAcceptable
from service.core.i18n import Language, Message, message
from service.core.spreadsheets import Cell, SheetFormat, csv_chunks, file_chunks, write_xlsx

JSON = "application/json"
FormatParam = Annotated[
    Literal["csv", "xlsx"] | None,
    WithJsonSchema(
        {
            "type": "string",
            "enum": [f.value for f in SheetFormat],
            "x-enum-varnames": [f.name for f in SheetFormat],
            "x-enum-descriptions": ["CSV（UTF-8，带 BOM）", "Excel 工作簿（.xlsx）"],
        }
    ),
    Query(
        alias="format",
        description="answer as a spreadsheet: `csv` (UTF-8 with a BOM) or `xlsx`; overrides "
        "`Accept`",
        examples=["csv"],
    ),
]


def answer_format(
    accept: str | None, given: str | None, *, json: bool = True
) -> SheetFormat | None:
    """The format to answer in (None: JSON): `format=` when given, else the best `Accept`
    allows, else JSON where the operation has it and CSV where it has not."""
    if given is not None:
        return SheetFormat(given)
    offered: list[tuple[str, SheetFormat | None]] = [(JSON, None)] if json else []
    offered += [(f.media_type, f) for f in SheetFormat]
    if not accept or not accept.strip():
        return offered[0][1]
    ranges = _ranges(accept)
    best, chosen = 0.0, None
    for media_type, fmt in offered:
        weight = _weight(media_type, ranges)
        if weight > best:
            best, chosen = weight, (fmt,)
    if chosen is None:
        raise NotAcceptable(
            message(
                "Accept allows none of {offered}; ask for one of them, or give format=csv or "
                "format=xlsx",
                offered=", ".join(media_type for media_type, _ in offered),
            )
        )
    return chosen[0]


def _ranges(accept: str) -> list[tuple[str, float]]:
    """The media ranges of an Accept header with their weights (RFC 9110 §12.5.1)."""
    ranges = []
    for part in accept.split(",")[:50]:
        media_range, *params = (p.strip() for p in part.split(";"))
        weight = 1.0
        for param in params:
            if param.lower().startswith("q="):
                try:
                    weight = min(max(float(param[2:]), 0.0), 1.0)
                except ValueError:
                    weight = 0.0
        ranges.append((media_range.lower(), weight))
    return ranges


def _weight(media_type: str, ranges: list[tuple[str, float]]) -> float:
    """The weight of the most specific range that covers `media_type` (0 where none does)."""
    kind = media_type.partition("/")[0]
    by_specificity = {media_type: 3, f"{kind}/*": 2, "*/*": 1}
    covering = [(by_specificity[r], w) for r, w in ranges if r in by_specificity]
    return max(covering)[1] if covering else 0.0


async def spreadsheet_answer(
    fmt: SheetFormat,
    columns: Sequence[Message],
    rows: Iterable[Sequence[Cell]],
    *,
    language: Language,
    sheet: Message,
    file_stem: str,
    headers: dict[str, str],
) -> StreamingResponse:
    """The rows as a CSV or .xlsx attachment, streamed; headers in `language`."""
    titles = [column.translate(language) for column in columns]
    if fmt is SheetFormat.CSV:
        chunks = csv_chunks(titles, rows)
    else:
        workbook = await run_sync(
            lambda: write_xlsx(titles, rows, sheet_name=sheet.translate(language)[:31])
        )
        chunks = file_chunks(workbook)
    disposition = f'attachment; filename="{file_stem}.{fmt.value}"'
    return StreamingResponse(
        chunks,
        media_type=fmt.media_type,
        headers={
            **headers,
            "Content-Disposition": disposition,
            "Content-Language": language,
            "Cache-Control": "no-store",
            "Vary": "Accept, Accept-Language",
        },
    )


WORKBOOK_CONTENT = {SheetFormat.XLSX.media_type: {"schema": {"type": "string", "format": "binary"}}}


def sheet_content(csv_example: str) -> dict[str, Any]:
    """OpenAPI `content` of the spreadsheet forms of an answer (CSV with an example, .xlsx)."""
    return {
        SheetFormat.CSV.media_type: {
            "schema": {"type": "string"},
            "example": csv_example,
        },
        **WORKBOOK_CONTENT,
    }


def workbook_answer(description: str) -> dict[str, Any]:
    """An OpenAPI response that is an .xlsx attachment."""
    return {"description": description, "content": WORKBOOK_CONTENT}


SHEET_ANSWER = (
    "成功。JSON，或按 `format`／`Accept` 给出 CSV（UTF-8，带 BOM，Excel 可直接打开中文）或 .xlsx "
    "附件，表头为中文（按 Accept-Language）。Successful: JSON, or as `format` or `Accept` asks, a "
    "CSV (UTF-8 with a BOM) or .xlsx attachment with headers in the caller's language"
)
