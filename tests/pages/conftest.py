"""Fixtures of the page tests: the service as deployed on a migrated SQLite database with the
demo clients, and headless chromium that reaches nothing but loopback."""

import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.chrome.webdriver import WebDriver

from bench.common import free_port, start_server, stop_server
from service.core.migrate import upgrade_database
from tests.pages.harness import CHROMEDRIVER, CHROMIUM


@pytest.fixture(scope="module")
def service_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The service as deployed, on a migrated SQLite database, with the demo clients."""
    url = f"sqlite:///{tmp_path_factory.mktemp('pages') / 'policy_match.db'}"
    upgrade_database(url)
    clients = subprocess.run(
        [sys.executable, "-m", "service.cli", "demo-clients"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    port = free_port()
    server = start_server(
        port,
        database_url=url,
        enable_token_endpoint="true",
        auth_clients=clients,
        push_worker_in_process="false",
    )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_server(server)


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    """Headless chromium whose only reachable host is loopback (a proxy that is not there
    takes every other request; chromium never proxies loopback)."""
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--window-size=1400,1000",
        f"--proxy-server=http://127.0.0.1:{free_port()}",
        "--lang=zh-CN",
    ):
        options.add_argument(flag)
    # --lang sets the interface; headless chromium still asks for en-US without this
    options.add_experimental_option("prefs", {"intl.accept_languages": "zh-CN,zh"})
    profile = tempfile.mkdtemp(prefix="policy-match-chromium-")
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
