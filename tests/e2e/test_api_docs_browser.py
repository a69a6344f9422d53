"""The API's interactive page (/api/docs/) in a real browser under the application's Content-Security-Policy:
Swagger UI draws the operations of the schema from the installed assets, and the browser refuses nothing."""

import pytest
from selenium.webdriver.common.by import By

from tests.e2e.browser import BROWSER_MARKS, new_browser, screenshots, wait_for

pytestmark = BROWSER_MARKS


@pytest.fixture
def browser():
    driver = new_browser(console=True)
    yield driver
    driver.quit()


def console_problems(browser) -> list[str]:
    return [
        entry["message"]
        for entry in browser.get_log("browser")
        if entry["level"] == "SEVERE"
        or "Content Security Policy" in entry["message"]
        or "Refused to" in entry["message"]
    ]


def test_the_api_page_lists_the_operations_under_the_content_security_policy(browser, live_server):
    browser.get(live_server.url + "/api/docs/")
    wait_for(browser, lambda driver: driver.find_elements(By.CSS_SELECTOR, ".opblock"))
    paths = {element.text for element in browser.find_elements(By.CSS_SELECTOR, ".opblock-summary-path")}
    assert {"/api/v1/auth/token/", "/api/v1/units/", "/api/v1/units/{id}/"} <= paths
    assert browser.find_element(By.CSS_SELECTOR, ".info .title").text.startswith("Thi đua - Khen thưởng API")
    # The page's own style, from a file: drf-spectacular's inline one would have been refused.
    assert browser.execute_script("return getComputedStyle(document.body).margin") == "0px"
    # Every script and style sheet came from this site.
    sources = browser.execute_script(
        "return [...document.querySelectorAll('script[src], link[href]')].map(e => e.src || e.href)"
    )
    assert sources
    assert all(source.startswith(live_server.url) for source in sources)
    screenshots(browser, "api-docs")
    assert console_problems(browser) == []
