"""What the database refuses: control characters never reach it, an import stores the rows it
does not refuse and names the one it does by line, and no error shows a row's values (issue 11,
items 6 and 7), on both backends."""

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from bench.common import bench_token, free_port, server_log, start_server, stop_server
from service.cli import main
from service.core.database import make_engine
from service.core.migrate import upgrade_database
from service.core.settings import get_settings
from service.core.tables import ENTERPRISE
from service.policy.examples import FULL_PROFILE
from tests.conftest import Token
from tests.factories import count_enterprises, firm, import_quietly, put

REVENUE = 987_654_321  # distinctive, to be looked for in every line
NAME = "独一无二测试机械有限公司"


def _refusing(uscc: str, dialect: str) -> list[str]:
    """Statements making the database refuse to store the firm `uscc` (an unexpected error)."""
    if dialect == "sqlite":
        return [
            f"CREATE TRIGGER refuse_one BEFORE INSERT ON enterprise WHEN NEW.uscc = '{uscc}' "
            "BEGIN SELECT RAISE(ABORT, 'refused by a test trigger'); END"
        ]
    return [
        "CREATE FUNCTION refuse_one() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF NEW.uscc = '{uscc}' THEN RAISE EXCEPTION 'refused by a test trigger'; END IF; "
        "RETURN NEW; END $$",
        "CREATE TRIGGER refuse_one BEFORE INSERT ON enterprise FOR EACH ROW "
        "EXECUTE FUNCTION refuse_one()",
    ]


@contextmanager
def refused(database: str, uscc: str) -> Iterator[None]:
    """While inside, the database refuses to store `uscc`."""
    engine = make_engine(database)
    with engine.begin() as connection:
        for statement in _refusing(uscc, engine.dialect.name):
            connection.execute(text(statement))
    try:
        yield
    finally:
        with engine.begin() as connection:
            if engine.dialect.name == "sqlite":
                connection.execute(text("DROP TRIGGER refuse_one"))
            else:
                connection.execute(text("DROP TRIGGER refuse_one ON enterprise"))
                connection.execute(text("DROP FUNCTION refuse_one()"))
        engine.dispose()


def _secrets(row: dict[str, object]) -> list[str]:
    return [str(row["uscc"]), NAME, str(REVENUE)]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "甲\x00公司"),
        ("name", "甲\t公司"),
        ("name", "甲\n公司"),
        ("name", "甲\x7f公司"),
        ("name", "甲\x85公司"),
        ("industry_code", "C\x0038"),
        ("county", "440703\x00"),
    ],
)
def test_a_control_character_is_refused_naming_the_field(
    client: TestClient, auth: Token, field: str, value: str
) -> None:
    answer = put(client, auth, firm(**{field: value}))
    assert answer.status_code == 422, answer.text
    assert [e["field"] for e in answer.json()["errors"]] == [f"$.{field}"]
    batch = client.post(
        "/v1/match/batch",
        json={"profiles": [FULL_PROFILE, {**FULL_PROFILE, field: value}]},
        headers=auth("match"),
    )
    assert batch.status_code == 200  # a bad profile is reported in its place
    results = batch.json()["results"]
    assert results[0]["ok"] and not results[1]["ok"]
    assert results[1]["errors"][0]["field"] == f"$.profiles[1].{field}"
    consents = put(client, auth, firm(bank_consents=["bank-a", "bank\x00b"]))
    assert consents.json()["errors"][0]["field"] == "$.bank_consents"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("industry_code", "C٣٨٥٧"),
        ("industry_code", "C３８５７"),
        ("tier_valid_until", "٢٠٢٦-01-01"),
    ],
)
def test_digits_are_ascii_digits(client: TestClient, auth: Token, field: str, value: str) -> None:
    answer = put(client, auth, firm(**{field: value}))
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["field"] == f"$.{field}"


def test_a_nul_in_a_name_refuses_that_row_and_stores_the_other_nine(
    database: str, tmp_path: Path
) -> None:
    rows = [firm() for _ in range(10)]
    rows[3]["name"] = "丁\x00公司"
    path = tmp_path / "firms.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    report = import_quietly(path, database)
    assert report.stored == 9
    assert [(b.line, b.said("en")[0][:23]) for b in report.bad] == [(4, "Enterprise name (name):")]
    assert count_enterprises(database, ENTERPRISE.c.uscc.in_([r["uscc"] for r in rows])) == 9


def test_a_batch_the_database_refuses_is_stored_row_by_row_and_shows_no_values(
    database: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    rows = [firm() for _ in range(10)]
    rows[6].update(name=NAME, revenue_cny=REVENUE)
    path = tmp_path / "firms.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    monkeypatch.setenv("POLICY_MATCH_DATABASE_URL", database)
    get_settings.cache_clear()
    try:
        with refused(database, str(rows[6]["uscc"])):
            status = main(["--lang", "en", "import", str(path), "--no-progress"])
    finally:
        get_settings.cache_clear()
    out, err = capsys.readouterr()
    assert status == 1
    assert "stored 9 enterprises (9 created" in out
    assert "line 7: the database refused the row" in err and "test trigger" in err
    for secret in _secrets(rows[6]):
        assert secret not in out + err
    assert count_enterprises(database, ENTERPRISE.c.uscc.in_([r["uscc"] for r in rows])) == 9


@pytest.mark.slow
def test_an_unexpected_database_error_on_store_logs_no_values(empty_database: str) -> None:
    upgrade_database(empty_database)
    row = firm(name=NAME, revenue_cny=REVENUE)
    port = free_port()
    with refused(empty_database, str(row["uscc"])):
        server = start_server(port, database_url=empty_database, push_worker_in_process="false")
        try:
            answer = httpx.put(
                f"http://127.0.0.1:{port}/v1/enterprises/{row['uscc']}",
                json=row,
                headers={"Authorization": f"Bearer {bench_token('enterprises:write')}"},
            )
            assert answer.status_code == 500
            for _ in range(100):  # the traceback is logged after the answer is sent
                log = server_log(server).read_text(encoding="utf-8")
                if "Exception in ASGI application" in log:
                    break
                time.sleep(0.05)
        finally:
            stop_server(server)
    assert "refused by a test trigger" in log  # the error was logged
    for secret in _secrets(row):
        assert secret not in log
