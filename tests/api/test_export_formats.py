"""Which format a request asks for: `format=`, then Accept with its weights, then the default."""

import pytest

from service.api.exports import answer_format
from service.core.errors import NotAcceptable
from service.core.spreadsheets import SheetFormat

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.mark.parametrize(
    ("accept", "given", "chosen"),
    [
        (None, None, None),
        ("", None, None),
        ("*/*", None, None),
        ("application/json", "csv", SheetFormat.CSV),
        ("text/csv", None, SheetFormat.CSV),
        ("TEXT/CSV; charset=utf-8", None, SheetFormat.CSV),
        (XLSX, None, SheetFormat.XLSX),
        ("text/*", None, SheetFormat.CSV),
        ("application/*", None, None),
        ("application/json;q=0.2, text/csv;q=0.8", None, SheetFormat.CSV),
        ("text/csv;q=0.5, */*;q=0.9", None, None),
        (f"text/html, {XLSX};q=0.1", None, SheetFormat.XLSX),
        ("application/json, text/csv;q=0", None, None),
    ],
)
def test_the_format_asked_for(
    accept: str | None, given: str | None, chosen: SheetFormat | None
) -> None:
    assert answer_format(accept, given) is chosen


def test_an_export_only_operation_answers_csv_by_default() -> None:
    assert answer_format(None, None, json=False) is SheetFormat.CSV
    assert answer_format("*/*", None, json=False) is SheetFormat.CSV
    assert answer_format(XLSX, None, json=False) is SheetFormat.XLSX


@pytest.mark.parametrize("accept", ["text/html", "application/pdf", "text/csv;q=0", "q=;;,"])
def test_accept_allowing_nothing_we_make_is_refused(accept: str) -> None:
    with pytest.raises(NotAcceptable):
        answer_format(accept, None)
