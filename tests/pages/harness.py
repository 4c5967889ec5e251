"""The page tests' browser harness: Debian's chromium through its driver, headless, with every
host but loopback cut off (the intranet the service runs on reaches no CDN); the fixtures that
start the service and the browser are in conftest.py.

POLICY_MATCH_SCREENSHOTS=<folder> keeps screenshots (`screenshot`)."""

import json
import os
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

from service.core.settings import PROJECT_ROOT

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"

HAVE_BROWSER = Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()
if not HAVE_BROWSER and os.environ.get("POLICY_MATCH_REQUIRE_BROWSER") == "1":
    raise RuntimeError(f"the page tests need {CHROMIUM} and {CHROMEDRIVER}")
BROWSER_MARKS = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not HAVE_BROWSER,
        reason="Debian's chromium and chromium-driver are not installed "
        "(apt-get install chromium chromium-driver; .ci/run installs them)",
    ),
]


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


def wait(driver: WebDriver, seconds: float = 20) -> WebDriverWait[WebDriver]:
    """A wait on the page."""
    return WebDriverWait(driver, seconds)
