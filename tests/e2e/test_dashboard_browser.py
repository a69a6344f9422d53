"""The dashboard in a real browser: a Board officer reads the figures, the charts drawn by the server
under the content security policy, and the table beside each; screenshots at 1,280 and 360 px."""

import pytest
from django.urls import reverse

from tests.e2e.browser import BROWSER_MARKS, log_in, new_browser, screenshots, wait_for
from tests.factories import build_org
from tests.processes.test_dashboard import seed

pytestmark = BROWSER_MARKS


@pytest.fixture
def browser():
    driver = new_browser(console=True)
    yield driver
    driver.quit()


def test_a_board_officer_reads_the_dashboard(browser, live_server):
    from selenium.webdriver.common.by import By

    org = build_org()
    seed(org)
    org.campaign.target_women_percent = 60  # 2 of 4 individuals awarded: below this target
    org.campaign.save()
    log_in(browser, live_server, "board_officer")
    browser.find_element(By.XPATH, "//nav//a[normalize-space()='Bảng số liệu']").click()
    wait_for(browser, lambda driver: driver.current_url == live_server.url + reverse("processes:dashboard"))

    assert browser.find_element(By.TAG_NAME, "h1").text == "Bảng số liệu"
    charts = browser.find_elements(By.CSS_SELECTOR, "svg.bar-chart")
    assert len(charts) >= 5
    bar = browser.find_element(By.CSS_SELECTOR, "#by-stage + .chart-pair rect.chart-bar")
    assert bar.size["width"] > 0  # drawn, its width from the server and its colour from app.css
    assert "Dưới chỉ tiêu" in browser.find_element(By.CSS_SELECTOR, ".below-target-mark").text
    assert not [
        entry["message"]
        for entry in browser.get_log("browser")
        if "Content Security Policy" in entry["message"] or "Refused to" in entry["message"]
    ]
    screenshots(browser, "dashboard")
