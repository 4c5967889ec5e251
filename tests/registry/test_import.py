"""`policy-match import`: CSV and JSON Lines into the registry, bad rows reported by line."""

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from service.cli import main
from service.core.database import make_engine
from service.core.errors import BadHeader, UnsupportedSheet
from service.core.settings import get_settings
from service.core.tables import CONSENT, ENTERPRISE
from service.registry.demo import write_demo_file
from tests.factories import (
    count_enterprises,
    firm,
    import_quietly,
    new_uscc,
    real_catalogue,
    wrong_check_digit,
)

CATALOGUE = real_catalogue()
HEADER = "uscc,name,county,tier,tier_valid_until,cluster,employees,has_bank_loan,bank_consents\n"


def test_csv_keeps_good_rows_and_names_bad_ones_by_line(database: str, tmp_path: Path) -> None:
    good, also_good, bad_tier = new_uscc(), new_uscc(), new_uscc()
    path = tmp_path / "firms.csv"
    path.write_text(
        HEADER
        + f"{good},甲公司,440781,provincial,2026-12-31,null,120,是,bank-a;bank-b\n"
        + f"{bad_tier},乙公司,440781,galactic,,,12,true,\n"
        + f"{also_good},,440703,,,,,,\n"
        + f"{wrong_check_digit(good)},丙公司,440781,none,,,7,maybe,\n",
        encoding="utf-8",
    )
    report = import_quietly(path, database)
    engine = make_engine(database)
    assert (report.created, report.updated, report.unchanged) == (2, 0, 0)
    assert [b.line for b in report.bad] == [3, 5]
    assert any("(tier):" in p for p in report.bad[0].said("en"))
    assert {p.split(":")[0] for p in report.bad[1].said("en")} == {
        "Unified social credit code (uscc)",
        "Has a bank loan (has_bank_loan)",
    }
    assert report.bad[1].cells[0] == wrong_check_digit(good)  # the row as it was written
    with engine.connect() as connection:
        row = connection.execute(
            select(ENTERPRISE.c.profile, ENTERPRISE.c.cluster_given).where(
                ENTERPRISE.c.uscc == good
            )
        ).one()
        banks = connection.execute(
            select(CONSENT.c.bank_id).where(CONSENT.c.uscc == good)
        ).scalars()
        assert sorted(banks) == ["bank-a", "bank-b"]
        sparse = connection.execute(
            select(ENTERPRISE.c.profile).where(ENTERPRISE.c.uscc == also_good)
        ).scalar_one()
    engine.dispose()
    assert row.profile["cluster"] is None and row.cluster_given
    assert row.profile["has_bank_loan"] is True and row.profile["employees"] == 120
    assert sparse == {"uscc": also_good, "county": "440703"}  # empty cells: not given


@pytest.mark.slow
def test_jsonl_import_through_the_command(
    database: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    first, second = firm(), firm()
    path = tmp_path / "firms.jsonl"
    path.write_text(
        json.dumps(first) + "\n\n" + "{not json\n" + json.dumps(second) + "\n" + "[1, 2]\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("POLICY_MATCH_DATABASE_URL", database)
    get_settings.cache_clear()
    try:
        errors = tmp_path / "bad.jsonl"
        status = main(
            ["--lang", "en", "import", str(path), "--no-progress", "--errors", str(errors)]
        )
        out, err = capsys.readouterr()
        assert status == 1
        assert "stored 2 enterprises (2 created, 0 updated, 0 unchanged); 2 bad rows" in out
        assert "line 3: not valid JSON" in err and "line 5: not a JSON object" in err
        assert [json.loads(x)["line"] for x in errors.read_text().splitlines()] == [3, 5]
        assert main(["--lang", "en", "import", str(path), "--no-progress"]) == 1
        assert "0 created, 0 updated, 2 unchanged" in capsys.readouterr().out
        assert (
            count_enterprises(database, ENTERPRISE.c.uscc.in_([first["uscc"], second["uscc"]])) == 2
        )
    finally:
        get_settings.cache_clear()


@pytest.mark.slow
def test_the_demo_data_goes_through_import(database: str, tmp_path: Path) -> None:
    path = tmp_path / "demo.jsonl"
    write_demo_file(path, count=300, seed=5)
    report = import_quietly(path, database, synthetic=True)
    assert (report.created, report.bad) == (300, [])
    assert count_enterprises(database, ENTERPRISE.c.synthetic.is_(True)) >= 300
    counties = {json.loads(x)["county"] for x in path.read_text().splitlines()}
    tiers = {json.loads(x)["tier"] for x in path.read_text().splitlines()}
    assert len(counties) == 7 and len(tiers) == 5


def test_an_unknown_file_type_or_column_is_refused(database: str, tmp_path: Path) -> None:
    odd = tmp_path / "firms.ods"
    odd.write_bytes(b"PK")
    with pytest.raises(UnsupportedSheet, match=r"\.xlsx, \.csv or \.jsonl"):
        import_quietly(odd, database)
    header = tmp_path / "firms.csv"
    header.write_text(f"uscc,county,turnover\n{new_uscc()},440781,12\n", encoding="utf-8")
    with pytest.raises(BadHeader, match="turnover") as refused:
        import_quietly(header, database)
    assert refused.value.errors and refused.value.errors[0]["column"] == 3
