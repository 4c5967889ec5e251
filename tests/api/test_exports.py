"""Spreadsheet exports on SQLite and PostgreSQL: the bank's eligible firms, the registry's
matches and the disclosure log, as CSV and .xlsx, with their scopes and their audit (issue 16)."""

import csv
import io
import uuid
from typing import Any

import openpyxl
from fastapi.testclient import TestClient

from tests.api.test_banks import LOAN, bank, eligible
from tests.conftest import NO_LANGUAGE, Token
from tests.factories import PROBLEM, firm, put

CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ELIGIBLE_HEADERS = ["统一社会信用代码", "企业名称", "所在县(市、区)", "梯度层级"]
AUDITOR = "audit:read"


def csv_rows(content: bytes) -> list[list[str]]:
    """A CSV answer as Excel would read it: UTF-8 after the BOM."""
    assert content.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def xlsx_rows(content: bytes) -> list[list[Any]]:
    """The first sheet of an .xlsx answer, opened with openpyxl."""
    workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    sheet = workbook.worksheets[0]
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def disclosures_of(client: TestClient, auth: Token, bank_id: str) -> list[dict[str, Any]]:
    """The disclosure records of one bank, newest first (JSON)."""
    answer = client.get("/v1/disclosures", params={"bank_id": bank_id}, headers=auth(AUDITOR))
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


def test_a_banks_csv_opens_with_chinese_intact_and_is_one_disclosure(
    registry: TestClient, auth: Token
) -> None:
    mine, other = bank(), bank()
    shown = [
        eligible(bank_consents=[mine], name="（合成）开平市鑫源卫浴有限公司", county="440783"),
        eligible(bank_consents=[other, mine], name="（合成）鹤山市粤华五金厂"),
    ]
    hidden = [
        eligible(bank_consents=[other]),
        eligible(),
        eligible(bank_consents=[mine], has_bank_loan=False),
    ]
    for body in [*shown, *hidden]:
        assert put(registry, auth, body).status_code == 201

    answer = registry.get(
        LOAN,
        params={"format": "csv"},
        headers=auth("eligibility:read", bank_id=mine, **NO_LANGUAGE),
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert answer.headers["content-disposition"].startswith('attachment; filename="eligible-')
    header, *rows = csv_rows(answer.content)
    assert header == ELIGIBLE_HEADERS
    by_code = {b["uscc"]: b for b in shown}
    assert [r[0] for r in rows] == sorted(by_code)
    assert all(len(r) == 4 for r in rows)
    for uscc, name, county, tier in rows:
        assert name == by_code[uscc]["name"]
        assert county == {"440783": "开平市", "440781": "台山市"}[by_code[uscc]["county"]]
        assert tier == "省级专精特新中小企业"

    [record] = disclosures_of(registry, auth, mine)
    assert record["enterprises"] == sorted(by_code)
    assert record["measure_id"] == "loan-interest-subsidy"
    assert record["catalogue_version"] == answer.headers["x-catalogue-version"]


def test_an_export_that_finds_no_firm_is_recorded_too(registry: TestClient, auth: Token) -> None:
    nobody = bank()
    answer = registry.get(LOAN, headers=auth("eligibility:read", bank_id=nobody, Accept=CSV))
    assert answer.status_code == 200, answer.text
    assert csv_rows(answer.content) == [["Unified social credit code", "Enterprise name",
                                         "County (city, district)", "Tier"]]  # fmt: skip
    [record] = disclosures_of(registry, auth, nobody)
    assert record["enterprises"] == []


def test_accept_or_format_chooses_the_answer(registry: TestClient, auth: Token) -> None:
    mine = bank()
    body = eligible(bank_consents=[mine])
    put(registry, auth, body)
    headers = auth("eligibility:read", bank_id=mine, **NO_LANGUAGE)

    workbook = registry.get(LOAN, headers={**headers, "Accept": XLSX})
    assert workbook.status_code == 200, workbook.text
    assert workbook.headers["content-type"] == XLSX
    assert xlsx_rows(workbook.content) == [
        ELIGIBLE_HEADERS,
        [body["uscc"], body["name"], "台山市", "省级专精特新中小企业"],
    ]
    overridden = registry.get(
        LOAN, params={"format": "xlsx"}, headers={**headers, "Accept": "application/json"}
    )
    assert overridden.headers["content-type"] == XLSX
    weighed = registry.get(
        LOAN, headers={**headers, "Accept": "application/json;q=0.5, text/csv;q=0.9"}
    )
    assert weighed.headers["content-type"].startswith(CSV)
    for accept in ("application/json", "*/*", "application/*"):
        pages = registry.get(LOAN, headers={**headers, "Accept": accept})
        assert pages.headers["content-type"] == "application/json", accept
        assert pages.json()["items"][0]["uscc"] == body["uscc"]
    assert len(disclosures_of(registry, auth, mine)) == 6  # every answer is one record

    refused = registry.get(
        LOAN, headers={**headers, "Accept": "text/html", "Accept-Language": "en"}
    )
    assert refused.status_code == 406
    assert refused.headers["content-type"] == PROBLEM
    assert "format=csv" in refused.json()["detail"]
    assert len(disclosures_of(registry, auth, mine)) == 6  # refused before anything was read
    unknown = registry.get(LOAN, params={"format": "pdf"}, headers=headers)
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "format"


def test_a_cell_that_would_be_a_formula_is_neutralised(registry: TestClient, auth: Token) -> None:
    mine = bank()
    names = ['=HYPERLINK("http://evil.example","点击")', "+86 台山", "-1+1", "@SUM(A1)"]
    firms = [eligible(bank_consents=[mine], name=name) for name in names]
    for body in firms:
        assert put(registry, auth, body).status_code == 201
    headers = auth("eligibility:read", bank_id=mine)
    expected = {b["uscc"]: b["name"] for b in firms}

    _, *rows = csv_rows(registry.get(LOAN, params={"format": "csv"}, headers=headers).content)
    assert {r[0]: r[1] for r in rows} == {u: "'" + n for u, n in expected.items()}

    content = registry.get(LOAN, params={"format": "xlsx"}, headers=headers).content
    sheet = openpyxl.load_workbook(io.BytesIO(content)).worksheets[0]
    cells = {row[0].value: row[1] for row in sheet.iter_rows(min_row=2)}
    assert {u: c.value for u, c in cells.items()} == expected  # kept exactly, as text
    assert all(c.data_type == "s" for c in cells.values())


def test_the_registrys_matches_export_for_staff(registry: TestClient, auth: Token) -> None:
    taishan = firm(tier="provincial", tier_valid_until="2026-12-31", has_bank_loan=True)
    near = firm(tier="provincial", tier_valid_until="2026-12-31", has_bank_loan=False)
    kaiping = firm(county="440783", tier="provincial", tier_valid_until="2026-12-31")
    for body in (taishan, near, kaiping):
        assert put(registry, auth, body).status_code == 201
    reader = auth("enterprises:read", **NO_LANGUAGE)
    params = {"county": "440781", "kind": "loan_interest_subsidy", "as_of": "2026-06-01"}

    answer = registry.get("/v1/enterprises/matches", params=params, headers=reader)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    header, *rows = csv_rows(answer.content)
    assert header == [
        "统一社会信用代码",
        "企业名称",
        "所在县(市、区)",
        "结果",
        "措施",
        "条款",
        "类别",
        "措施名称",
        "牵头部门",
    ]
    mine = {r[0]: r for r in rows if r[0] in (taishan["uscc"], near["uscc"], kaiping["uscc"])}
    assert set(mine) == {taishan["uscc"], near["uscc"]}  # the county filter
    assert {r[2] for r in rows} == {"台山市"} and {r[6] for r in rows} == {"贷款贴息"}
    assert mine[taishan["uscc"]][3:] == [
        "符合",
        "loan-interest-subsidy",
        "二(二)5",
        "贷款贴息",
        "专精特新中小企业市级贷款贴息",
        "市工业和信息化局",
    ]
    assert mine[near["uscc"]][3] == "差一点符合"

    workbook = registry.get(
        "/v1/enterprises/matches", params={**params, "format": "xlsx"}, headers=reader
    )
    assert workbook.headers["content-type"] == XLSX
    assert xlsx_rows(workbook.content)[0] == header
    json_only = registry.get(
        "/v1/enterprises/matches", headers={**reader, "Accept": "application/json"}
    )
    assert json_only.status_code == 406
    bad_county = registry.get("/v1/enterprises/matches", params={"county": "1"}, headers=reader)
    assert bad_county.status_code == 422
    assert bad_county.json()["errors"][0]["field"] == "county"


def test_scopes_guard_every_export(registry: TestClient, auth: Token) -> None:
    matches = "/v1/enterprises/matches"
    assert registry.get(matches).status_code == 401
    assert (
        registry.get(matches, headers=auth("eligibility:read", bank_id=bank())).status_code == 403
    )
    assert registry.get(matches, headers=auth("match")).status_code == 403
    # a bank holding enterprises:read is still a bank: refused
    assert (
        registry.get(matches, headers=auth("enterprises:read", bank_id=bank())).status_code == 403
    )
    log = "/v1/disclosures"
    for headers in (auth("enterprises:read"), auth("eligibility:read", bank_id=bank())):
        assert registry.get(log, params={"format": "csv"}, headers=headers).status_code == 403
    assert registry.get(LOAN, params={"format": "csv"}, headers=auth(AUDITOR)).status_code == 403


def test_the_disclosure_log_export_for_auditors(registry: TestClient, auth: Token) -> None:
    mine = bank()
    firms = sorted((eligible(bank_consents=[mine]) for _ in range(3)), key=lambda b: b["uscc"])
    for body in firms:
        put(registry, auth, body)
    banker = auth("eligibility:read", bank_id=mine, subject=f"bank-{uuid.uuid4().hex[:6]}")
    registry.get(LOAN, params={"format": "csv"}, headers=banker)  # one record, three firms
    registry.get(LOAN, params={"limit": 1}, headers=banker)  # one record, one firm
    nobody = f"bank-{uuid.uuid4().hex[:8]}"
    registry.get(LOAN, headers=auth("eligibility:read", bank_id=nobody))  # none of mine

    answer = registry.get(
        "/v1/disclosures",
        params={"bank_id": mine, "format": "csv"},
        headers=auth(AUDITOR, **NO_LANGUAGE),
    )
    assert answer.status_code == 200, answer.text
    header, *rows = csv_rows(answer.content)
    assert header[0] == "记录编号" and header[-1] == "统一社会信用代码"
    assert all(r[3] == mine for r in rows)
    newest, oldest = rows[0][0], rows[-1][0]
    assert [r[-1] for r in rows if r[0] == newest] == [firms[0]["uscc"]]
    assert [r[-1] for r in rows if r[0] == oldest] == [b["uscc"] for b in firms]
    assert {r[7] for r in rows if r[0] == oldest} == {"3"}

    one_firm = registry.get(
        "/v1/disclosures",
        params={"uscc": firms[1]["uscc"]},
        headers=auth(AUDITOR, Accept=XLSX),
    )
    assert one_firm.headers["content-type"] == XLSX
    _, *cells = xlsx_rows(one_firm.content)
    assert [c[-1] for c in cells] == [firms[1]["uscc"]]
    assert cells[0][7] == 3  # the count stays a number
    empty = registry.get(
        "/v1/disclosures", params={"bank_id": nobody, "format": "csv"}, headers=auth(AUDITOR)
    )
    [_, row] = csv_rows(empty.content)
    assert row[3] == nobody and row[7] == "0" and row[-1] == ""
