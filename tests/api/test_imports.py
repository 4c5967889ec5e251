"""POST /v1/enterprises/imports: an uploaded spreadsheet imported as a job, over real HTTP calls.

The file is streamed to disk and bounded (413, nothing stored), the job is the uploader's alone,
it runs in the service process and ends with its tally and a bad-rows workbook; a job left
running by a process that stopped is marked interrupted when the next one starts.
"""

import io
import subprocess
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from service.core.database import make_engine
from service.core.errors import BadHeader
from service.core.i18n import message
from service.core.migrate import upgrade_database
from service.core.tables import IMPORT_JOB, utcnow
from service.registry import import_jobs as jobs
from service.registry.import_work import refusal_record
from tests.conftest import Token, serve
from tests.factories import PROBLEM, engine_of, new_uscc

WRITER = ("enterprises:write", "enterprises:read")
HEADER = "uscc,name,county,tier,tier_valid_until,employees,has_bank_loan\n"


def upload(client: TestClient, headers: dict[str, str], name: str, content: bytes) -> Any:
    """POST the file as multipart/form-data, part `file`."""
    return client.post("/v1/enterprises/imports", files={"file": (name, content)}, headers=headers)


def finished(client: TestClient, location: str, headers: dict[str, str]) -> dict[str, Any]:
    """Poll the job until it has ended (15 s at most)."""
    deadline = time.monotonic() + 15
    while True:
        job = client.get(location, headers=headers).json()
        if job["status"] not in ("queued", "running") or time.monotonic() > deadline:
            return dict(job)
        time.sleep(0.05)


def bad_rows(client: TestClient, job: dict[str, Any], headers: dict[str, str]) -> list[list[Any]]:
    """The rows of the job's result workbook, header first."""
    answer = client.get(job["result"], headers=headers)
    assert answer.status_code == 200, answer.text
    book = openpyxl.load_workbook(io.BytesIO(answer.content), read_only=True)
    return [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]


def test_a_csv_upload_is_a_job_that_stores_the_good_rows_and_returns_the_bad(
    registry: TestClient, auth: Token
) -> None:
    writer = auth(*WRITER)
    good, also_good = new_uscc(), new_uscc()
    content = (
        HEADER
        + f"{good},甲公司,440781,provincial,2026-12-31,120,是\n"
        + f"{new_uscc()},乙公司,440781,galactic,,12,true\n"
        + f"{also_good},丙公司,440703,,,,\n"
    ).encode()
    answer = upload(registry, writer, "firms.csv", content)
    assert answer.status_code == 202, answer.text
    location = answer.headers["location"]
    assert location == f"/v1/enterprises/imports/{answer.json()['id']}"
    assert answer.json()["status"] in ("queued", "running", "succeeded")
    job = finished(registry, location, writer)
    assert job["status"] == "succeeded", job
    assert (job["created"], job["updated"], job["unchanged"], job["bad"]) == (2, 0, 0, 1)
    assert job["rows_read"] == 3 and job["problem"] is None
    assert registry.get(f"/v1/enterprises/{good}", headers=writer).json()["tier"] == "provincial"
    assert registry.get(f"/v1/enterprises/{also_good}", headers=writer).status_code == 200
    rows = bad_rows(registry, job, writer)
    assert len(rows) == 2 and "galactic" in rows[1]
    assert any(isinstance(c, str) and "tier" in c for c in rows[1])


def test_an_xlsx_upload_with_chinese_headers_and_labels_imports(
    registry: TestClient, auth: Token
) -> None:
    writer = auth(*WRITER)
    uscc = new_uscc()
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["统一社会信用代码", "企业名称", "所在县(市、区)", "梯度层级", "有银行贷款"])
    sheet.append([uscc, "丁公司", "台山市", "省级专精特新中小企业", "是"])
    sheet.append([new_uscc(), "戊公司", "火星县", None, None])
    buffer = io.BytesIO()
    book.save(buffer)
    answer = upload(registry, writer, "企业名单.xlsx", buffer.getvalue())
    assert answer.status_code == 202, answer.text
    job = finished(registry, answer.headers["location"], writer)
    assert job["status"] == "succeeded", job
    assert (job["created"], job["bad"]) == (1, 1)
    stored = registry.get(f"/v1/enterprises/{uscc}", headers=writer).json()
    assert (stored["county"], stored["tier"], stored["has_bank_loan"]) == (
        "440781",
        "provincial",
        True,
    )
    assert "火星县" in bad_rows(registry, job, writer)[1]


def test_the_filled_in_template_imports(registry: TestClient, auth: Token) -> None:
    writer = auth(*WRITER)
    template = registry.get("/v1/enterprises/import-template.xlsx")
    book = openpyxl.load_workbook(io.BytesIO(template.content))
    sheet = book["企业名单"]
    headers = [cell.value for cell in sheet[1]]
    uscc = new_uscc()
    values: dict[str, str | int] = {"统一社会信用代码": uscc, "企业名称": "己公司"}
    values |= {"所在县（市、区）": "开平市", "从业人员数（人）": 35}
    row = [values.get(str(h)) for h in headers]
    sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    answer = upload(registry, writer, "template.xlsx", buffer.getvalue())
    job = finished(registry, answer.headers["location"], writer)
    assert job["status"] == "succeeded" and job["created"] == 1, job
    stored = registry.get(f"/v1/enterprises/{uscc}", headers=writer).json()
    assert stored["county"] == "440783"


def test_another_client_cannot_see_the_job_and_others_are_refused(
    registry: TestClient, auth: Token
) -> None:
    writer = auth(*WRITER)
    answer = upload(registry, writer, "one.csv", (HEADER + f"{new_uscc()},,440781,,,,\n").encode())
    location = answer.headers["location"]
    finished(registry, location, writer)
    other = auth(*WRITER, subject="another-platform")
    for path in (location, f"{location}/result.xlsx"):
        refused = registry.get(path, headers=other)
        assert refused.status_code == 404 and refused.headers["content-type"] == PROBLEM
    listed = registry.get("/v1/enterprises/imports", headers=other).json()
    assert location.rpartition("/")[2] not in {j["id"] for j in listed["items"]}
    mine = registry.get("/v1/enterprises/imports", headers=writer).json()
    assert location.rpartition("/")[2] in {j["id"] for j in mine["items"]}
    reader = auth("enterprises:read")
    assert upload(registry, reader, "x.csv", HEADER.encode()).status_code == 403
    assert registry.get(location, headers=reader).status_code == 403
    assert upload(registry, {}, "x.csv", HEADER.encode()).status_code == 401
    bank = auth("enterprises:write", bank_id="bank-1")
    assert upload(registry, bank, "x.csv", HEADER.encode()).status_code == 403


def test_the_job_list_pages_with_a_cursor(registry: TestClient, auth: Token) -> None:
    writer = auth(*WRITER, subject="pager")
    ids = []
    for _ in range(3):
        answer = upload(
            registry, writer, "p.csv", (HEADER + f"{new_uscc()},,440781,,,,\n").encode()
        )
        ids.append(answer.json()["id"])
        finished(registry, answer.headers["location"], writer)
    first = registry.get("/v1/enterprises/imports?limit=2", headers=writer).json()
    assert [j["id"] for j in first["items"]] == ids[::-1][:2]
    second = registry.get(
        "/v1/enterprises/imports",
        params={"limit": 2, "cursor": first["next_cursor"]},
        headers=writer,
    ).json()
    assert [j["id"] for j in second["items"]] == ids[:1]
    assert second["next_cursor"] is None


def test_a_bad_upload_is_refused_with_its_cause(registry: TestClient, auth: Token) -> None:
    writer = auth(*WRITER)
    not_multipart = registry.post(
        "/v1/enterprises/imports",
        content=HEADER.encode(),
        headers={**writer, "content-type": "text/csv"},
    )
    assert not_multipart.status_code == 415
    no_file = registry.post(
        "/v1/enterprises/imports", files={"other": ("a.csv", b"x")}, headers=writer
    )
    assert no_file.status_code == 422 and no_file.json()["errors"][0]["field"] == "file"
    wrong_kind = upload(registry, writer, "firms.txt", b"hello")
    assert wrong_kind.status_code == 422 and wrong_kind.json()["errors"][0]["field"] == "file"
    accepted = upload(registry, writer, "x.csv", (HEADER + f"{new_uscc()},,440781,,,,\n").encode())
    assert accepted.status_code == 202
    assert finished(registry, accepted.headers["location"], writer)["status"] == "succeeded"


@pytest.fixture
def small_cap(tmp_path: Path) -> Iterator[tuple[TestClient, str]]:
    """A service whose imports may be 4 KiB at most, on a migrated SQLite database."""
    url = f"sqlite:///{tmp_path / 'cap.db'}"
    upgrade_database(url)
    with serve(url, import_max_bytes=4096, import_dir=tmp_path / "imports") as client:
        yield client, url


def test_an_upload_over_the_cap_is_refused_and_nothing_is_stored(
    small_cap: tuple[TestClient, str], auth: Token, tmp_path: Path
) -> None:
    client, _ = small_cap
    writer = auth(*WRITER)
    uscc = new_uscc()
    big = (HEADER + f"{uscc},,440781,,,,\n" + "#" * 5000 + "\n").encode()
    declared = upload(client, writer, "big.csv", big)
    assert declared.status_code == 413 and declared.headers["content-type"] == PROBLEM

    def chunks() -> Iterator[bytes]:
        boundary = b"--b0undary\r\n"
        yield boundary + b'Content-Disposition: form-data; name="file"; filename="big.csv"\r\n\r\n'
        for _ in range(10):
            yield big
        yield b"\r\n--b0undary--\r\n"

    streamed = client.post(
        "/v1/enterprises/imports",
        content=chunks(),
        headers={**writer, "content-type": "multipart/form-data; boundary=b0undary"},
    )
    assert streamed.status_code == 413
    assert client.get("/v1/enterprises/imports", headers=writer).json()["items"] == []
    assert client.get(f"/v1/enterprises/{uscc}", headers=writer).status_code == 404
    assert list((tmp_path / "imports").rglob("*.csv")) == []  # no upload left behind
    small = upload(client, writer, "small.csv", (HEADER + f"{uscc},,440781,,,,\n").encode())
    assert small.status_code == 202  # the JSON bound (1 MiB) is not the import's, nor this


def test_a_full_queue_is_answered_503_with_retry_after(
    small_cap: tuple[TestClient, str], auth: Token
) -> None:
    client, _ = small_cap
    runner = client.app.state.imports  # type: ignore[attr-defined]
    for _ in range(runner.places):
        runner.reserve()
    try:
        refused = upload(client, auth(*WRITER), "x.csv", HEADER.encode())
        assert refused.status_code == 503 and int(refused.headers["retry-after"]) > 0
    finally:
        for _ in range(runner.places):
            runner.release()


def _dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def test_a_job_left_running_is_marked_interrupted_when_the_service_starts(
    database: str, tmp_path: Path
) -> None:
    engine = make_engine(database)
    upload_file = tmp_path / "left.csv"
    upload_file.write_text(HEADER)
    with engine.begin() as connection:
        for job_id, status in (("a" * 32, "running"), ("b" * 32, "queued")):
            jobs.create_job(
                connection,
                job_id=job_id,
                client="gone",
                file_name="left.csv",
                language="en",
                upload_path=str(upload_file),
            )
            runner = f"{jobs.this_runner().rpartition(':')[0]}:{_dead_pid()}"
            connection.execute(
                IMPORT_JOB.update()
                .where(IMPORT_JOB.c.id == job_id)
                .values(status=status, runner=runner)
            )
    with serve(database, import_dir=tmp_path / "imports"):
        pass
    with engine.connect() as connection:
        rows = connection.execute(
            select(IMPORT_JOB.c.status, IMPORT_JOB.c.upload_path).where(
                IMPORT_JOB.c.client == "gone"
            )
        ).all()
    engine.dispose()
    assert [(r.status, r.upload_path) for r in rows] == [("interrupted", None)] * 2
    assert not upload_file.exists()


def test_a_file_refused_whole_is_answered_at_once_and_no_job_is_made(
    registry: TestClient, auth: Token
) -> None:
    writer = auth(*WRITER, subject="refused-files")
    uscc = new_uscc()
    unknown = upload(registry, writer, "x.csv", f"uscc,county,颜色\n{uscc},440781,红\n".encode())
    assert unknown.status_code == 422 and unknown.headers["content-type"] == PROBLEM
    assert "颜色" in unknown.text
    twice = upload(registry, writer, "x.csv", f"uscc,统一社会信用代码\n{uscc},{uscc}\n".encode())
    assert twice.status_code == 422
    not_a_workbook = upload(registry, writer, "x.xlsx", b"this is no zip file")
    assert not_a_workbook.status_code == 422
    assert not_a_workbook.json()["type"].endswith("/not-a-workbook")
    assert registry.get("/v1/enterprises/imports", headers=writer).json()["items"] == []
    assert registry.get(f"/v1/enterprises/{uscc}", headers=writer).status_code == 404


def test_a_failed_job_shows_its_problem_in_the_callers_language(
    registry: TestClient, auth: Token
) -> None:
    writer = auth(*WRITER, subject="failed-job")
    refused = BadHeader(
        message("column {column} ({text}) names no profile field", column=3, text="颜色")
    )
    with engine_of(registry).begin() as connection:
        jobs.create_job(
            connection,
            job_id="c" * 32,
            client="failed-job",
            file_name="x.csv",
            language="en",
            upload_path="/nonexistent",
        )
        jobs.finish_job(connection, "c" * 32, status=jobs.FAILED, problem=refusal_record(refused))
    location = "/v1/enterprises/imports/" + "c" * 32
    job = registry.get(location, headers=writer).json()
    assert job["status"] == "failed" and job["result"] is None
    assert job["problem"]["status"] == 422 and job["problem"]["type"].endswith("/bad-header")
    chinese = registry.get(location, headers={**writer, "Accept-Language": "zh-Hans"}).json()
    assert chinese["problem"]["title"] != job["problem"]["title"]
    result = registry.get(f"{location}/result.xlsx", headers=writer)
    assert result.status_code == 409 and result.headers["content-type"] == PROBLEM


def test_an_upload_without_a_suffix_is_known_by_its_type_or_first_bytes(
    registry: TestClient, auth: Token
) -> None:
    writer = auth(*WRITER)
    csv = (HEADER + f"{new_uscc()},,440781,,,,\n").encode()
    blob = registry.post(
        "/v1/enterprises/imports", files={"file": ("blob", csv, "text/csv")}, headers=writer
    )
    assert blob.status_code == 202, blob.text
    assert finished(registry, blob.headers["location"], writer)["created"] == 1
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["统一社会信用代码", "所在县(市、区)"])
    sheet.append([new_uscc(), "恩平市"])
    buffer = io.BytesIO()
    book.save(buffer)
    sniffed = registry.post(
        "/v1/enterprises/imports",
        files={"file": ("upload", buffer.getvalue(), "application/octet-stream")},
        headers=writer,
    )
    assert sniffed.status_code == 202, sniffed.text
    assert finished(registry, sniffed.headers["location"], writer)["created"] == 1


def test_result_files_are_deleted_after_the_retention(
    small_cap: tuple[TestClient, str], auth: Token
) -> None:
    client, url = small_cap
    writer = auth(*WRITER)
    answer = upload(client, writer, "r.csv", (HEADER + f"{new_uscc()},,火星,,,,\n").encode())
    job = finished(client, answer.headers["location"], writer)
    assert job["bad"] == 1 and client.get(job["result"], headers=writer).status_code == 200
    engine = make_engine(url)
    with engine.begin() as connection:
        path = jobs.job_row(connection, job["id"])["result_path"]  # type: ignore[index]
        connection.execute(
            IMPORT_JOB.update()
            .where(IMPORT_JOB.c.id == job["id"])
            .values(finished_at=utcnow() - timedelta(hours=73))
        )
    engine.dispose()
    client.app.state.imports.sweep()  # type: ignore[attr-defined]
    assert not Path(path).exists()
    gone = client.get(job["result"], headers=writer)
    assert gone.status_code == 410 and gone.headers["content-type"] == PROBLEM


def test_jobs_unfinished_when_the_service_stops_are_marked_interrupted(
    tmp_path: Path, auth: Token
) -> None:
    url = f"sqlite:///{tmp_path / 'stop.db'}"
    upgrade_database(url)
    writer = auth(*WRITER)
    rows = "".join(f"{new_uscc()},,440781,,,,\n" for _ in range(3000))
    with serve(url, import_dir=tmp_path / "imports", import_max_queued=4) as client:
        first = upload(client, writer, "a.csv", (HEADER + rows).encode())
        second = upload(client, writer, "b.csv", (HEADER + rows).encode())
        assert first.status_code == second.status_code == 202
    engine = make_engine(url)
    with engine.connect() as connection:
        ended = dict(connection.execute(select(IMPORT_JOB.c.id, IMPORT_JOB.c.status)).all())
    engine.dispose()
    assert ended[second.json()["id"]] == "interrupted"  # queued behind the first: never run
    assert ended[first.json()["id"]] in ("interrupted", "succeeded")  # stopped after a batch
    assert list((tmp_path / "imports").rglob("*.csv")) == []


def test_a_gb18030_csv_with_chinese_headers_imports(registry: TestClient, auth: Token) -> None:
    writer = auth(*WRITER)
    uscc = new_uscc()
    text = (
        "统一社会信用代码,企业名称,所在县(市、区),梯度层级,认定有效期至\r\n"
        f"{uscc},庚公司,鹤山市,市级专精特新中小企业,2026/12/31\r\n"
    )
    answer = upload(registry, writer, "名单.csv", text.encode("gb18030"))
    assert answer.status_code == 202, answer.text
    job = finished(registry, answer.headers["location"], writer)
    assert (job["status"], job["created"], job["bad"]) == ("succeeded", 1, 0), job
    stored = registry.get(f"/v1/enterprises/{uscc}", headers=writer).json()
    assert (stored["name"], stored["county"], stored["tier"]) == ("庚公司", "440784", "municipal")
    assert stored["tier_valid_until"] == "2026-12-31"


def test_the_services_row_bound_refuses_a_longer_file_at_once(tmp_path: Path, auth: Token) -> None:
    url = f"sqlite:///{tmp_path / 'rows.db'}"
    upgrade_database(url)
    writer = auth(*WRITER)
    rows = "".join(f"{new_uscc()},,440781,,,,\n" for _ in range(20))
    with serve(url, import_dir=tmp_path / "imports", import_max_rows=10) as client:
        refused = upload(client, writer, "long.csv", (HEADER + rows).encode())
        assert refused.status_code == 413 and refused.json()["type"].endswith("/too-many-rows")
        assert client.get("/v1/enterprises/imports", headers=writer).json()["items"] == []


def test_the_uploads_name_is_kept_as_a_name_only(registry: TestClient, auth: Token) -> None:
    writer = auth(*WRITER)
    body = (HEADER + f"{new_uscc()},,440781,,,,\n").encode()
    answer = upload(registry, writer, "..\\..\\../etc/名单.csv", body)
    assert answer.status_code == 202, answer.text
    assert answer.json()["file_name"] == "名单.csv"  # never a path: the file is stored by job id
    finished(registry, answer.headers["location"], writer)
