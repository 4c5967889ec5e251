"""The measures pages in a real browser: a person narrows the list, opens a measure and reads
its conditions in plain words; nothing is fetched from anywhere but the service.

POLICY_MATCH_SCREENSHOTS=docs/console saves docs/console/measures.png and measure.png."""

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from bench.common import free_port, start_server, stop_server
from service.core.migrate import upgrade_database
from tests.factories import import_quietly
from tests.pages.harness import BROWSER_MARKS, foreign, requested_urls, screenshot, wait

pytestmark = BROWSER_MARKS


@pytest.fixture(scope="module")
def measures_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The service as deployed on a SQLite database holding 400 synthetic demo firms."""
    folder: Path = tmp_path_factory.mktemp("measures-pages")
    url = f"sqlite:///{folder / 'policy_match.db'}"
    upgrade_database(url)
    lines = folder / "demo.jsonl"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "service.cli",
            "demo-data",
            "--count",
            "400",
            "--output",
            str(lines),
        ],
        check=True,
        capture_output=True,
    )
    report = import_quietly(lines, url, synthetic=True)
    assert report.stored == 400 and not report.bad
    port = free_port()
    server = start_server(port, database_url=url, push_worker_in_process="false")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_server(server)


def _listed(browser: WebDriver) -> list[str]:
    return [a.text for a in browser.find_elements(By.CSS_SELECTOR, "#measure-list tbody td a")]


def test_a_person_narrows_the_list_opens_a_measure_and_reads_its_conditions(
    browser: WebDriver, measures_url: str
) -> None:
    requested_urls(browser)  # forget what came before
    browser.get(f"{measures_url}/console/measures")
    everything = _listed(browser)
    assert len(everything) >= 54
    assert "政策措施" in browser.find_element(By.TAG_NAME, "h1").text

    # words of the title, and a kind chosen from the list, as a person would
    browser.find_element(By.ID, "f-q").send_keys("小巨人")
    Select(browser.find_element(By.ID, "f-kind")).select_by_visible_text("中央与省财政资金")
    browser.find_element(By.ID, "f-apply").click()
    wait(browser).until(lambda d: "q=" in d.current_url and len(_listed(d)) < len(everything))
    narrowed = _listed(browser)
    assert "国家级专精特新“小巨人”企业中央、省财政资金支持" in narrowed
    assert all("小巨人" in title for title in narrowed)
    assert browser.find_element(By.ID, "f-q").get_attribute("value") == "小巨人"
    screenshot(browser, browser.find_element(By.TAG_NAME, "h1"), "measures.png")

    browser.find_element(By.LINK_TEXT, "国家级专精特新“小巨人”企业中央、省财政资金支持").click()
    wait(browser).until(lambda d: d.find_elements(By.ID, "conditions"))
    conditions = browser.find_element(By.ID, "conditions").text
    assert "须为国家级专精特新“小巨人”企业，且认定在有效期内" in conditions
    assert "little_giant" not in conditions and "tier" not in conditions
    assert int(browser.find_element(By.ID, "match-count").text.replace(",", "")) > 0
    assert "✓" in browser.find_element(By.ID, "cases").text
    screenshot(browser, browser.find_element(By.TAG_NAME, "h1"), "measure.png")

    assert foreign(requested_urls(browser), measures_url) == []
