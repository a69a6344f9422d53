"""What every browser test shares: Debian's Chromium, headless, driven by its own chromedriver
(Selenium Manager never downloads one), and helpers to log in, wait and keep screenshots.

Screenshots go to ``var/screenshots/`` at the top of the work tree (git ignores ``/var/``), or to
``THIDUA_SCREENSHOTS``: one file per screen and width, e.g. ``my-work-1280.png`` and ``my-work-360.png``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from django.urls import reverse

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
SCREENSHOTS = Path(os.environ.get("THIDUA_SCREENSHOTS") or Path(__file__).resolve().parents[2] / "var" / "screenshots")
WIDTHS = (1280, 360)

#: For a module's ``pytestmark``: a browser test, on a live server, skipped without Chromium.
BROWSER_MARKS = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not (CHROMIUM and CHROMEDRIVER), reason="needs Debian's chromium and chromium-driver (CI installs them)"
    ),
]


def new_browser(*, width: int = 1280, height: int = 1000, console: bool = False):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--window-size={width},{height}",
        "--lang=en-US",  # an English browser: the application must still answer in Vietnamese
    ):
        options.add_argument(flag)
    if console:  # the console, where Chromium reports every resource a policy refused
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.implicitly_wait(5)
    return driver


def wait_for(browser, condition, seconds: float = 10):
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    # While the next page loads, elements of the previous one go stale: keep asking.
    return WebDriverWait(browser, seconds, ignored_exceptions=(StaleElementReferenceException,)).until(condition)


def log_in(browser, live_server, username: str, password: str = "pw") -> None:  # noqa: S107 (the factories' password)
    """Log in through the form and wait to leave the log-in page."""
    from selenium.webdriver.common.by import By

    login_url = live_server.url + reverse("login")
    browser.get(login_url)
    browser.find_element(By.NAME, "username").send_keys(username)
    browser.find_element(By.NAME, "password").send_keys(password)
    browser.find_element(By.CSS_SELECTOR, "form[action='/accounts/login/'] button[type=submit]").click()
    wait_for(browser, lambda driver: not driver.current_url.startswith(login_url))


def screenshots(browser, name: str) -> list[Path]:
    """The page now shown, at each width of ``WIDTHS`` (full height), then the window as it was.
    Returns the files; asserts the page does not scroll sideways at any width."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    size = browser.get_window_size()
    files = []
    try:
        for width in WIDTHS:
            browser.set_window_size(width, size["height"])
            height = browser.execute_script("return document.documentElement.scrollHeight")
            browser.set_window_size(width, max(size["height"], min(int(height) + 120, 6000)))
            overflow = browser.execute_script(
                "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            path = SCREENSHOTS / f"{name}-{width}.png"
            browser.save_screenshot(str(path))
            files.append(path)
            assert overflow <= 1, f"{name} scrolls sideways by {overflow} px at {width} px"
    finally:
        browser.set_window_size(size["width"], size["height"])
    return files
