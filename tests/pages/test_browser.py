"""The Swagger UI in a real browser (Debian's chromium, driven by Selenium), with the
network cut off but for the service: the intranet the service runs on reaches no CDN.

POLICY_MATCH_SCREENSHOTS=docs/screenshots saves what a developer sees after "Try it out" on
POST /v1/match (docs/screenshots/swagger-ui.png; Chinese shows with fonts-noto-cjk)."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from bench.common import free_port, start_server, stop_server
from service.core.migrate import upgrade_database
from service.core.settings import PROJECT_ROOT

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"

HAVE_BROWSER = Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()
if not HAVE_BROWSER and os.environ.get("POLICY_MATCH_REQUIRE_BROWSER") == "1":
    raise RuntimeError(f"the page tests need {CHROMIUM} and {CHROMEDRIVER}")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not HAVE_BROWSER,
        reason="Debian's chromium and chromium-driver are not installed "
        "(apt-get install chromium chromium-driver; .ci/run installs them)",
    ),
]


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


def requested_urls(driver: WebDriver) -> list[str]:
    """Every URL the page asked for since the last call (from the DevTools network log)."""
    urls = []
    for entry in driver.get_log("performance"):  # type: ignore[no-untyped-call]
        message: dict[str, Any] = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def foreign(urls: list[str], service_url: str) -> list[str]:
    """The URLs that go anywhere but the service (inline data and blobs are local)."""
    origin = urlsplit(service_url).netloc
    return [
        u
        for u in urls
        if urlsplit(u).scheme in ("http", "https", "ws", "wss") and urlsplit(u).netloc != origin
    ]


def operations_count(service_url: str) -> int:
    """How many operations (webhooks included) the OpenAPI document holds."""
    document = httpx.get(f"{service_url}/openapi.json").json()
    verbs = {"get", "put", "post", "delete", "patch", "head", "options"}
    items = [*document["paths"].values(), *document.get("webhooks", {}).values()]
    return sum(1 for item in items for verb in item if verb in verbs)


def wait(driver: WebDriver, seconds: float = 20) -> WebDriverWait[WebDriver]:
    """A wait on the page."""
    return WebDriverWait(driver, seconds)


def test_swagger_ui_renders_every_operation_from_this_origin_only(
    browser: WebDriver, service_url: str
) -> None:
    requested_urls(browser)  # forget what came before
    browser.get(f"{service_url}/docs")
    expected = operations_count(service_url)
    wait(browser).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".opblock")) == expected)
    urls = requested_urls(browser)
    assert any(u.endswith("/docs-assets/swagger-ui-bundle.js") for u in urls)
    assert any(u.endswith("/openapi.json") for u in urls)
    assert foreign(urls, service_url) == []
    assert "江府办函" in browser.find_element(By.CSS_SELECTOR, ".info").text
    # no validator badge calling out to validator.swagger.io
    assert browser.find_elements(By.CSS_SELECTOR, ".validator-badge, img[src*='validator']") == []


def _authorize(
    browser: WebDriver, client_id: str, secret: str, *, every_scope: bool = False
) -> None:
    """Use the Authorize dialog's client-credentials flow, as a developer would."""
    browser.find_element(By.CSS_SELECTOR, ".auth-wrapper .authorize").click()
    dialog = wait(browser).until(
        ec.visibility_of_element_located((By.CSS_SELECTOR, ".dialog-ux .modal-ux"))
    )
    dialog.find_element(By.CSS_SELECTOR, "input[id^='client_id']").send_keys(client_id)
    dialog.find_element(By.CSS_SELECTOR, "input[id^='client_secret']").send_keys(secret)
    if every_scope:  # "select all": more scopes than any one client holds
        dialog.find_element(By.CSS_SELECTOR, ".scopes h2 a[data-all]").click()
    dialog.find_element(By.CSS_SELECTOR, ".auth-btn-wrapper .authorize").click()
    wait(browser).until(
        lambda d: (
            dialog.find_elements(By.CSS_SELECTOR, ".auth-btn-wrapper .btn-done")
            and any("Logout" in b.text for b in dialog.find_elements(By.CSS_SELECTOR, "button"))
        )
    )
    dialog.find_element(By.CSS_SELECTOR, ".auth-btn-wrapper .btn-done").click()


def _operation_block(browser: WebDriver, method: str, path: str) -> WebElement:
    """The operation's block, as it is."""
    for block in browser.find_elements(By.CSS_SELECTOR, f".opblock-{method}"):
        shown = block.find_element(By.CSS_SELECTOR, ".opblock-summary-path").get_attribute(
            "data-path"
        )
        if shown == path:
            return block
    raise AssertionError(f"{method.upper()} {path} is not on the page")


def _operation(browser: WebDriver, method: str, path: str) -> WebElement:
    """The operation's block, opened."""
    block = _operation_block(browser, method, path)
    block.find_element(By.CSS_SELECTOR, ".opblock-summary").click()
    return block


def _try_match(browser: WebDriver) -> tuple[str, str]:
    """ "Try it out" on POST /v1/match with its example: the status and the body shown."""
    block = _operation(browser, "post", "/v1/match")
    wait(browser).until(lambda d: block.find_elements(By.CSS_SELECTOR, ".try-out__btn"))
    block.find_element(By.CSS_SELECTOR, ".try-out__btn").click()
    wait(browser).until(lambda d: block.find_elements(By.CSS_SELECTOR, ".execute"))
    block.find_element(By.CSS_SELECTOR, ".execute").click()
    status = wait(browser).until(
        lambda d: block.find_elements(
            By.CSS_SELECTOR, ".live-responses-table .response .response-col_status"
        )
    )
    body = block.find_element(By.CSS_SELECTOR, ".live-responses-table .microlight").text
    return status[0].text.strip(), body


def test_a_developer_authorizes_and_matches_a_profile_in_swagger_ui(
    browser: WebDriver, service_url: str
) -> None:
    browser.get(f"{service_url}/docs")
    wait(browser).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".opblock"))
    requested_urls(browser)
    _authorize(browser, "demo-platform", "demo-platform-secret-0001")
    status, body = _try_match(browser)
    assert status == "200", body
    answer = json.loads(body)
    assert {"matched", "near_misses", "undetermined"} <= answer.keys()
    urls = requested_urls(browser)
    assert any(u.endswith("/v1/auth/token") for u in urls)
    assert foreign(urls, service_url) == []
    # the curl line, the request URL and the 200 with its answer (Chinese words)
    block = _operation_block(browser, "post", "/v1/match")
    screenshot(browser, block.find_element(By.CSS_SELECTOR, ".responses-wrapper"), "swagger-ui.png")


def screenshot(browser: WebDriver, shown: WebElement, name: str) -> None:
    """With POLICY_MATCH_SCREENSHOTS=<folder> (docs/screenshots keeps one), the page as it is
    now, `shown` at the top, saved there as `name`."""
    folder = os.environ.get("POLICY_MATCH_SCREENSHOTS")
    if not folder:
        return
    path = Path(folder) if Path(folder).is_absolute() else PROJECT_ROOT / folder
    path.mkdir(parents=True, exist_ok=True)
    browser.execute_script("arguments[0].scrollIntoView(true);", shown)
    assert browser.save_screenshot(str(path / name)), path / name


def test_redoc_renders_from_this_origin_only(browser: WebDriver, service_url: str) -> None:
    requested_urls(browser)
    browser.get(f"{service_url}/redoc")
    wait(browser, 30).until(lambda d: "/v1/match" in d.find_element(By.TAG_NAME, "body").text)
    urls = requested_urls(browser)
    assert any(u.endswith("/redoc-assets/redoc.standalone.js") for u in urls)
    assert foreign(urls, service_url) == []


def test_the_pages_name_no_other_host(service_url: str) -> None:
    for page in ("/docs", "/redoc"):
        text = httpx.get(f"{service_url}{page}").text
        assert "cdn." not in text and "https://" not in text, page
    script = httpx.get(f"{service_url}/redoc-assets/redoc.standalone.js")
    assert script.status_code == 200 and b"cdn.redoc.ly" not in script.content
    again = httpx.get(
        f"{service_url}/redoc-assets/redoc.standalone.js",
        headers={"If-None-Match": script.headers["etag"]},
    )
    assert again.status_code == 304


def test_select_all_is_granted_what_the_client_holds_and_kept_over_a_reload(
    browser: WebDriver, service_url: str
) -> None:
    browser.get(f"{service_url}/docs")
    browser.execute_script("window.localStorage.clear()")  # no authorization from before
    browser.refresh()
    wait(browser).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".opblock"))
    requested_urls(browser)
    _authorize(browser, "demo-platform", "demo-platform-secret-0001", every_scope=True)
    browser.refresh()  # persistAuthorization: the token outlives the page
    wait(browser).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".opblock"))
    assert browser.find_elements(By.CSS_SELECTOR, ".auth-wrapper .authorize.locked")
    status, body = _try_match(browser)
    assert status == "200", body
    assert foreign(requested_urls(browser), service_url) == []
    browser.execute_script("window.localStorage.clear()")


def test_the_front_page_is_a_page_of_links_from_this_origin(
    browser: WebDriver, service_url: str
) -> None:
    requested_urls(browser)
    browser.get(f"{service_url}/")
    assert "江门市专精特新政策匹配服务" in browser.find_element(By.TAG_NAME, "h1").text
    assert foreign(requested_urls(browser), service_url) == []
    browser.find_element(By.CSS_SELECTOR, "a[href='/docs']").click()
    wait(browser).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".opblock"))
