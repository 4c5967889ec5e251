"""GET /console/progress and /console/progress.csv: the same numbers as GET /v1/plan/progress for
the same stored firms (SQLite and PostgreSQL), in three languages; bad parameters refused."""

import csv
import io
import json
import re
from collections.abc import Iterator
from html import unescape
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from service.console.progress_figures import safe_cell
from service.registry.demo import synthetic_profiles
from tests.conftest import NO_LANGUAGE, Token, serve
from tests.factories import import_quietly

ROW = re.compile(r'<tr data-target="([^"]+)">(.*?)</tr>', re.S)
FIELD = re.compile(r'data-field="(\w+)">([^<]*)<')
COUNTY = re.compile(r'data-county="(\d+)" data-count="(\d+)"')
QUARTER = re.compile(r'data-quarter="(\w+)" data-count="(\d+)"')


@pytest.fixture(scope="module")
def console(
    database: str, auth: Token, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    """The service with real firms (one deleted) and imported synthetic ones stored."""
    everyone = synthetic_profiles(120, seed=41)
    write = auth("enterprises:write")
    with serve(database) as client:
        for profile in everyone[:40]:
            body = profile.model_dump(mode="json", exclude_unset=True)
            answer = client.put(f"/v1/enterprises/{body['uscc']}", json=body, headers=write)
            assert answer.status_code == 201, answer.text
        gone = everyone[0].uscc
        assert client.delete(f"/v1/enterprises/{gone}", headers=write).status_code == 204
        lines = tmp_path_factory.mktemp("progress") / "demo.jsonl"
        lines.write_bytes(
            b"".join(
                orjson.dumps(p.model_dump(mode="json", exclude_unset=True)) + b"\n"
                for p in everyone[40:]
            )
        )
        assert import_quietly(lines, database, synthetic=True).stored == 80
        yield client


def _api(client: TestClient, auth: Token, include_synthetic: bool) -> dict[str, Any]:
    flag = str(include_synthetic).lower()
    answer = client.get(f"/v1/plan/progress?include_synthetic={flag}", headers=auth("stats:read"))
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def _number(text: str) -> float | None:
    text = text.strip().split(" ")[0]
    return None if text in ("—", "") else float(text)


def _tables(page: str) -> dict[str, dict[str, Any]]:
    """Each counted target's figures as the page's tables show them."""
    found: dict[str, dict[str, Any]] = {}
    for target_id, cells in ROW.findall(page):
        row = found.setdefault(target_id, {"counties": {}, "quarters": {}})
        row.update({name: _number(unescape(value)) for name, value in FIELD.findall(cells)})
        row["counties"].update({c: int(n) for c, n in COUNTY.findall(cells)})
        row["quarters"].update({q: int(n) for q, n in QUARTER.findall(cells)})
    return found


@pytest.mark.parametrize("include_synthetic", [False, True])
def test_the_page_shows_the_apis_numbers(
    console: TestClient, auth: Token, include_synthetic: bool
) -> None:
    api = _api(console, auth, include_synthetic)
    flag = "&include_synthetic=true" if include_synthetic else ""
    page = console.get(f"/console/progress?lang=zh-Hans{flag}")
    assert page.status_code == 200
    shown = _tables(page.text)
    counted = [item for item in api["items"] if item["counted"]]
    assert counted and sum(item["total"]["count"] for item in counted) > 0
    for item in api["items"]:
        row = shown[item["id"]]
        assert row["baseline"] == item["baseline"] and row["target"] == item["target"]
        if not item["counted"]:
            assert "count" not in row
            continue
        total = item["total"]
        assert row["count"] == total["count"] and row["unknown"] == total["unknown"]
        assert row["firms"] == total["firms"] and row["share_percent"] == total["share_percent"]
        assert row["counties"] == {c["county"]: c["count"] for c in item["by_county"]}
        # the quarter running is today's count
        assert list(row["quarters"].values())[-1] == total["count"]
    # the charts draw the same numbers
    data = json.loads(unescape(page.text.split('id="progress-charts">')[1].split("</script>")[0]))
    charts = {chart["id"]: chart for chart in data["charts"]}
    counts = [item for item in counted if item["total"]["firms"] is None]
    registry = charts["overall-counts"]["series"][1]["data"]
    assert registry == [item["total"]["count"] for item in counts]
    assert charts["county-counts"]["series"][0]["data"] == [
        c["count"] for c in counts[0]["by_county"]
    ]
    assert all(chart["series"] and chart["categories"] for chart in data["charts"])


def test_the_csv_holds_the_same_numbers(console: TestClient, auth: Token) -> None:
    api = _api(console, auth, True)
    answer = console.get("/console/progress.csv?include_synthetic=true&lang=zh-Hans")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert "attachment" in answer.headers["content-disposition"]
    assert answer.content.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs for UTF-8
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["部分", "目标编号", "目标"]
    overall = {r[1]: r for r in rows if r[0] == "全市合计"}
    county = {(r[1], r[3]): r for r in rows if r[0] == "分县（市、区）"}
    quarters = [r for r in rows if r[0] == "分季度"]
    for item in api["items"]:
        if not item["counted"]:
            assert item["id"] not in overall
            continue
        total = item["total"]
        assert int(overall[item["id"]][10]) == total["count"]
        assert int(overall[item["id"]][11]) == total["unknown"]
        for c in item["by_county"]:
            assert int(county[(item["id"], c["county"])][10]) == c["count"]
        last = [r for r in quarters if r[1] == item["id"]][-1]
        assert int(last[10]) == total["count"] and last[6] == api["as_of"]


@pytest.mark.parametrize(
    ("headers", "query", "words"),
    [
        (NO_LANGUAGE, "", ["目标进度", "登记库不是官方认定名单", "下载数据（CSV）", "随时间变化"]),
        (
            {"Accept-Language": "zh-Hant"},
            "",
            ["目標進度", "登記庫不是官方認定名單", "分縣（市、區）"],
        ),
        (NO_LANGUAGE, "?lang=en", ["Progress toward targets", "not the official recognition list"]),
    ],
)
def test_the_page_speaks_three_languages(
    console: TestClient, headers: dict[str, str], query: str, words: list[str]
) -> None:
    console.cookies.clear()  # no language remembered from an earlier switch
    page = console.get(f"/console/progress{query}", headers=headers)
    assert page.status_code == 200
    for word in words:
        assert word in page.text
    assert "Content-Security-Policy" in page.headers
    assert "<script>" not in page.text and "style=" not in page.text


def test_the_csv_speaks_the_pages_language(console: TestClient) -> None:
    answer = console.get("/console/progress.csv?lang=en")
    first = answer.content.decode("utf-8-sig").splitlines()[0]
    assert first.startswith("Section,Target id,Target,County code")
    assert answer.headers["content-language"] == "en"


@pytest.mark.parametrize(
    "query", ["include_synthetic=maybe", "include_synthetic=", "include_synthetic=2"]
)
def test_bad_parameters_are_refused_not_failed(console: TestClient, query: str) -> None:
    for path in ("/console/progress", "/console/progress.csv"):
        answer = console.get(f"{path}?{query}")
        assert answer.status_code == 422, answer.text
        assert "include_synthetic" in answer.text


def test_cells_a_spreadsheet_would_run_are_neutralised() -> None:
    assert safe_cell('=HYPERLINK("http://x")') == '\'=HYPERLINK("http://x")'
    assert safe_cell("+1+1") == "'+1+1"
    assert safe_cell("@SUM(A1)") == "'@SUM(A1)"
    assert safe_cell("-2+3") == "'-2+3"
    assert safe_cell(-3) == "-3" and safe_cell(-2.5) == "-2.5"  # numbers stay numbers
    assert safe_cell(None) == "" and safe_cell("江门") == "江门"
