"""The progress page (目标进度) in chromium, on stored demo firms whose history spans the plan:
every chart draws data, the tables show GET /v1/plan/progress's numbers, nothing is fetched from
another host."""

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from sqlalchemy import select, update

from bench.common import bench_token, free_port, start_server, stop_server
from service.core.database import make_engine
from service.core.migrate import upgrade_database
from service.core.tables import VERSION
from tests.pages.harness import BROWSER_MARKS, foreign, requested_urls, screenshot, wait

pytestmark = BROWSER_MARKS
CHARTS = (
    "overall-counts",
    "overall-shares",
    "county-counts",
    "county-shares",
    "time-counts",
    "time-shares",
)
# ECharts' option of a chart: how many of its series' points are numbers
POINTS = """
const chart = echarts.getInstanceByDom(document.getElementById(arguments[0]));
if (!chart) { return -1; }
return chart.getOption().series.reduce(
  (n, s) => n + s.data.filter((v) => typeof v === "number").length, 0);
"""
# whether the chart's canvas has any pixel that is not blank
PAINTED = """
const canvas = document.querySelector("#" + arguments[0] + " canvas");
if (!canvas) { return false; }
const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
for (let i = 3; i < pixels.length; i += 4) { if (pixels[i] !== 0) { return true; } }
return false;
"""


def _spread_history(url: str) -> None:
    """Move the demo firms' versions back over the plan's years (2024-03 to 2026-08)."""
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            keys = connection.execute(select(VERSION.c.uscc, VERSION.c.version)).all()
            start = datetime(2024, 3, 1, tzinfo=UTC)
            for n, (uscc, version) in enumerate(keys):
                when = start + timedelta(days=(n * 7) % 900)
                connection.execute(
                    update(VERSION)
                    .where(VERSION.c.uscc == uscc, VERSION.c.version == version)
                    .values(changed_at=when)
                )
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def progress_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The service as deployed on SQLite holding 600 demo firms stored over the plan's years."""
    folder: Path = tmp_path_factory.mktemp("progress-page")
    url = f"sqlite:///{folder / 'policy_match.db'}"
    upgrade_database(url)
    firms = folder / "demo.jsonl"
    cli = [sys.executable, "-m", "service.cli"]
    env_url = {"POLICY_MATCH_DATABASE_URL": url}
    subprocess.run(
        [*cli, "demo-data", "--count", "600", "--output", str(firms)],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [*cli, "import", str(firms), "--synthetic", "--no-progress"],
        check=True,
        capture_output=True,
        env={**os.environ, **env_url},
    )
    _spread_history(url)
    port = free_port()
    server = start_server(port, database_url=url, push_worker_in_process="false")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_server(server)


def _has_points(chart: str) -> Callable[[WebDriver], bool]:
    """Whether the chart's ECharts option holds numbers."""

    def check(driver: WebDriver) -> bool:
        return bool(driver.execute_script(POINTS, f"chart-{chart}") > 0)

    return check


def _api(base: str) -> dict[str, Any]:
    answer = httpx.get(
        f"{base}/v1/plan/progress?include_synthetic=true",
        headers={"Authorization": f"Bearer {bench_token('stats:read')}"},
    )
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def test_every_chart_draws_the_apis_numbers(browser: WebDriver, progress_url: str) -> None:
    api = _api(progress_url)
    requested_urls(browser)  # forget what came before
    browser.get(f"{progress_url}/console/progress?include_synthetic=true&lang=zh-Hans")
    for chart in CHARTS:
        wait(browser).until(_has_points(chart))
        assert browser.execute_script(PAINTED, f"chart-{chart}"), chart
    assert "登记库不是官方认定名单" in browser.find_element(By.ID, "registry-notice").text
    # the tables (what the charts draw) hold the API's numbers
    for item in api["items"]:
        row = browser.find_element(By.CSS_SELECTOR, f"#overall tr[data-target='{item['id']}']")
        if not item["counted"]:
            continue
        count = row.find_element(By.CSS_SELECTOR, "[data-field='count']").text
        assert int(count) == item["total"]["count"], item["id"]
        for county in item["by_county"]:
            cell = browser.find_element(
                By.CSS_SELECTOR,
                f"#by-county tr[data-target='{item['id']}'] td[data-county='{county['county']}']",
            )
            assert int(cell.get_attribute("data-count") or -1) == county["count"]
    # the charts' own data: the registry's bars are the API's totals
    counts = [i for i in api["items"] if i["counted"] and i["total"]["firms"] is None]
    drawn = browser.execute_script(
        "return echarts.getInstanceByDom(document.getElementById('chart-overall-counts'))"
        ".getOption().series[1].data;"
    )
    assert drawn == [i["total"]["count"] for i in counts]
    # the history spans the plan: more than one quarter has firms
    over_time = browser.execute_script(
        "return echarts.getInstanceByDom(document.getElementById('chart-time-counts'))"
        ".getOption().series[1].data;"
    )
    assert len([n for n in over_time if n]) > 3 and over_time[-1] == counts[1]["total"]["count"]
    assert foreign(requested_urls(browser), progress_url) == []
    screenshot(browser, browser.find_element(By.TAG_NAME, "h1"), "progress.png")
    screenshot(browser, browser.find_element(By.ID, "chart-time-counts"), "progress-over-time.png")
