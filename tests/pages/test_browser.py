"""The Swagger UI in a real browser (Debian's chromium, driven by Selenium), with the
network cut off but for the service: the intranet the service runs on reaches no CDN.

POLICY_MATCH_SCREENSHOTS=docs/screenshots saves what a developer sees after "Try it out" on
POST /v1/match (docs/screenshots/swagger-ui.png; Chinese shows with fonts-noto-cjk)."""

import json
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as ec

from service.registry.sheet_columns import column_title
from tests.factories import new_uscc
from tests.pages.harness import BROWSER_MARKS, foreign, requested_urls, screenshot, wait

pytestmark = BROWSER_MARKS


def operations_count(service_url: str) -> int:
    """How many operations (webhooks included) the OpenAPI document holds."""
    document = httpx.get(f"{service_url}/openapi.json").json()
    verbs = {"get", "put", "post", "delete", "patch", "head", "options"}
    items = [*document["paths"].values(), *document.get("webhooks", {}).values()]
    return sum(1 for item in items for verb in item if verb in verbs)


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
    return _try(browser, "post", "/v1/match")


def _try(
    browser: WebDriver,
    method: str,
    path: str,
    fill: Callable[[WebElement], None] = lambda block: None,
) -> tuple[str, str]:
    """ "Try it out" on an operation, its form filled by `fill`: the status and body shown."""
    block = _operation(browser, method, path)
    wait(browser).until(lambda d: block.find_elements(By.CSS_SELECTOR, ".try-out__btn"))
    block.find_element(By.CSS_SELECTOR, ".try-out__btn").click()
    wait(browser).until(lambda d: block.find_elements(By.CSS_SELECTOR, ".execute"))
    fill(block)
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


def test_a_developer_uploads_a_gb18030_csv_for_import_in_swagger_ui(
    browser: WebDriver, service_url: str, tmp_path: Path
) -> None:
    uscc = new_uscc()
    header = ",".join(column_title(f) for f in ("uscc", "name", "county"))
    firms = tmp_path / "企业名单.csv"  # as Excel on Chinese Windows saves it
    firms.write_bytes(f"{header}\n{uscc},江门测试科技有限公司,台山市\n".encode("gb18030"))
    browser.get(f"{service_url}/docs")
    browser.execute_script("window.localStorage.clear()")  # no authorization from before
    browser.refresh()
    wait(browser).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".opblock"))
    _authorize(browser, "demo-platform", "demo-platform-secret-0001")

    def choose_file(block: WebElement) -> None:
        block.find_element(By.CSS_SELECTOR, "input[type='file']").send_keys(str(firms))

    status, body = _try(browser, "post", "/v1/enterprises/imports", choose_file)
    assert status == "202", body
    job = json.loads(body)
    token = httpx.post(
        f"{service_url}/v1/auth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "demo-platform",
            "client_secret": "demo-platform-secret-0001",
        },
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    for _ in range(100):
        state = httpx.get(f"{service_url}/v1/enterprises/imports/{job['id']}", headers=headers)
        if state.json()["status"] not in ("queued", "running"):
            break
        time.sleep(0.1)
    assert state.json()["status"] == "succeeded" and state.json()["created"] == 1, state.text
    stored = httpx.get(f"{service_url}/v1/enterprises/{uscc}", headers=headers).json()
    assert stored["county"] == "440781" and stored["name"] == "江门测试科技有限公司"


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
