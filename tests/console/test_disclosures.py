"""The disclosure page (/console/disclosures) on SQLite and PostgreSQL: the record the bank
query writes, filtered by bank, measure and firm, a page at a time, for auditors only."""

from collections.abc import Iterator
from datetime import date

import pytest
from fastapi.testclient import TestClient

from service.banks.disclosures import record_disclosure
from service.core.database import write_transaction
from tests.conftest import NO_LANGUAGE, serve
from tests.console.signing import DEMO_AUTH_CLIENTS, sign_in
from tests.factories import engine_of, new_uscc

FINANCE = "guarantee-fee-subsidy"
OTHER = "equity-board-listing"


@pytest.fixture(scope="module")
def service(database: str) -> Iterator[TestClient]:
    """The service on the module's database, with the demo clients."""
    with serve(database, auth_clients=DEMO_AUTH_CLIENTS) as client:
        client.follow_redirects = False
        yield client


@pytest.fixture(scope="module")
def firms(service: TestClient) -> dict[str, list[str]]:
    """Disclosures recorded as the bank query records them: 25 to bank 1 about one measure,
    one to bank 2 about another; the first firm is named in every one."""
    usccs = [new_uscc() for _ in range(4)]
    with write_transaction(engine_of(service)) as connection:
        for n in range(25):
            record_disclosure(
                connection,
                caller="demo-bank-1",
                bank_id="bank-demo-1",
                measure_id=FINANCE,
                as_of=date(2025, 6, 1),
                catalogue_version="v-test",
                usccs=[usccs[0], usccs[1 + n % 2]],
            )
        record_disclosure(
            connection,
            caller="demo-bank-2",
            bank_id="bank-demo-2",
            measure_id=OTHER,
            as_of=date(2025, 6, 2),
            catalogue_version="v-test",
            usccs=[usccs[0], usccs[3]],
        )
    return {"usccs": usccs}


def rows(html: str) -> int:
    """How many disclosures the page lists."""
    return html.count("data-disclosure=")


def test_an_auditor_reads_the_record_newest_first_a_page_at_a_time(
    service: TestClient, firms: dict[str, list[str]]
) -> None:
    sign_in(service, "demo-auditor")
    page = service.get("/console/disclosures", headers=NO_LANGUAGE)
    assert page.status_code == 200 and "披露记录" in page.text
    assert rows(page.text) == 20 and "bank-demo-2" in page.text.split("data-disclosure=")[1]
    older = page.text.split('id="older" href="?')[1].split('"')[0].replace("&amp;", "&")
    rest = service.get(f"/console/disclosures?{older}")
    assert rows(rest.text) == 6 and 'id="older"' not in rest.text
    assert "Disclosures" in service.get("/console/disclosures?lang=en").text
    assert "披露記錄" in service.get("/console/disclosures?lang=zh-Hant").text


def test_the_record_filters_by_bank_measure_and_firm(
    service: TestClient, firms: dict[str, list[str]]
) -> None:
    sign_in(service, "demo-auditor")
    usccs = firms["usccs"]
    by_bank = service.get("/console/disclosures", params={"bank_id": "bank-demo-2"}).text
    assert rows(by_bank) == 1 and usccs[3] in by_bank
    by_measure = service.get("/console/disclosures", params={"measure_id": OTHER}).text
    assert rows(by_measure) == 1 and "bank-demo-2" in by_measure
    by_firm = service.get("/console/disclosures", params={"uscc": usccs[2]}).text
    assert rows(by_firm) == 12 and "bank-demo-2" not in by_firm.split("<tbody>")[1]
    both = service.get(
        "/console/disclosures", params={"uscc": usccs[0], "bank_id": "bank-demo-1"}
    ).text
    assert rows(both) == 20 and 'id="older"' in both
    following = both.split('id="older" href="?')[1].split('"')[0].replace("&amp;", "&")
    assert "bank_id=bank-demo-1" in following and f"uscc={usccs[0]}" in following
    assert rows(service.get(f"/console/disclosures?{following}").text) == 5
    empty = service.get(
        "/console/disclosures", params={"bank_id": "", "measure_id": "", "uscc": ""}
    ).text
    assert rows(empty) == 20  # a filter left empty filters nothing
    none = service.get("/console/disclosures", params={"bank_id": "x", "lang": "zh-Hans"})
    assert rows(none.text) == 0 and "没有符合筛选条件的披露记录" in none.text


@pytest.mark.parametrize(
    "query",
    ["uscc=91440781MA4UL", "uscc=" + "I" * 18, "before=0", "before=x", "bank_id=" + "b" * 65],
)
def test_a_bad_filter_is_a_4xx_never_a_500(
    service: TestClient, firms: dict[str, list[str]], query: str
) -> None:
    sign_in(service, "demo-auditor")
    answer = service.get(f"/console/disclosures?{query}")
    assert answer.status_code == 422


def test_the_record_is_the_auditors_only(service: TestClient) -> None:
    stranger = TestClient(service.app, follow_redirects=False)
    assert stranger.get("/console/disclosures").status_code == 303
    for client_id in ("demo-platform", "demo-bank-1", "demo-admin"):
        sign_in(stranger, client_id)
        assert stranger.get("/console/disclosures").status_code == 403, client_id
