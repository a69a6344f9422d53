"""A unit head lands on My work, approves two steps at once through the confirmation, sees the result."""

import pytest
from django.urls import reverse

from tests.e2e.browser import BROWSER_MARKS, log_in, new_browser, screenshots, wait_for
from tests.factories import build_org, make_nomination, open_step, submitted

pytestmark = BROWSER_MARKS


@pytest.fixture
def browser():
    driver = new_browser()
    yield driver
    driver.quit()


def test_a_unit_head_approves_two_steps_in_bulk_from_my_work(browser, live_server):
    from selenium.webdriver.common.by import By

    org = build_org()
    first, second, third = submitted(org), submitted(org), submitted(org)
    make_nomination(org)  # waits for the head to start cultivation: a row without a checkbox
    log_in(browser, live_server, "hospital_head")

    # The landing page is My work, in Vietnamese, with its count in the menu.
    assert browser.current_url == live_server.url + reverse("processes:my-work")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Việc của tôi"
    assert browser.find_element(By.CSS_SELECTOR, ".my-work-link .badge").text == "4"
    assert browser.find_elements(By.CSS_SELECTOR, ".due-badge")  # every row with a due time has a badge in words
    screenshots(browser, "my-work")

    for nomination in (first, second):
        browser.find_element(By.ID, f"pick-{open_step(nomination).pk}").click()
    browser.find_element(By.XPATH, "//button[normalize-space()='Duyệt các bước đã chọn']").click()

    wait_for(browser, lambda driver: "/my-work/approve/" in driver.current_url)
    listed = browser.find_element(By.CSS_SELECTOR, "table.work-list tbody").text
    assert first.nominee.name in listed
    assert second.nominee.name in listed
    assert third.nominee.name not in listed
    browser.find_element(By.NAME, "comment").send_keys("Đồng ý, chuyển cấp trên")
    screenshots(browser, "my-work-confirm")
    browser.find_element(By.XPATH, "//button[normalize-space()='Xác nhận duyệt']").click()

    decided = wait_for(browser, lambda driver: driver.find_element(By.CSS_SELECTOR, "ul.bulk-decided")).text
    assert first.nominee.name in decided
    assert second.nominee.name in decided
    assert "Đã duyệt: 2 bước." in browser.find_element(By.CSS_SELECTOR, ".message.success").text
    screenshots(browser, "my-work-result")
    assert open_step(first).step.code == open_step(second).step.code == "proposer_submit"
    assert open_step(third).step.code == "unit_confirm"
