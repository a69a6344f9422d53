"""A real browser against a live server: log in, find a case, take a step, see the result."""

import pytest
from django.urls import reverse

from processes.models import Nomination, Stage
from tests.e2e.browser import BROWSER_MARKS, new_browser
from tests.factories import build_org, make_nomination, open_step, submitted

pytestmark = BROWSER_MARKS


@pytest.fixture
def browser():
    driver = new_browser()
    yield driver
    driver.quit()


def _wait_for(browser, condition):
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    # While the next page loads, elements of the previous one go stale: keep asking.
    return WebDriverWait(browser, 10, ignored_exceptions=(StaleElementReferenceException,)).until(condition)


def _log_in(browser, live_server, username):
    from selenium.webdriver.common.by import By

    browser.get(live_server.url + reverse("login"))
    browser.find_element(By.NAME, "username").send_keys(username)
    browser.find_element(By.NAME, "password").send_keys("pw")
    browser.find_element(By.CSS_SELECTOR, "form[action='/accounts/login/'] button[type=submit]").click()
    landing = live_server.url + reverse("processes:my-work")
    _wait_for(browser, lambda driver: driver.current_url == landing)


def test_a_unit_head_starts_cultivation_in_a_real_browser(browser, live_server):
    from selenium.webdriver.common.by import By

    org = build_org()
    nomination = make_nomination(org)
    _log_in(browser, live_server, "hospital_head")

    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "vi"
    browser.find_element(By.LINK_TEXT, nomination.nominee.name).click()
    browser.find_element(By.XPATH, "//button[normalize-space()='Bắt đầu bồi dưỡng']").click()

    status = browser.find_element(By.CSS_SELECTOR, ".message.success").text
    assert "Bồi dưỡng" in status
    assert Nomination.objects.get(pk=nomination.pk).stage == Stage.CULTIVATE


def test_the_language_switch_shows_english_and_remembers_it(browser, live_server):
    from selenium.webdriver.common.by import By

    build_org()
    _log_in(browser, live_server, "hospital_secretary")
    browser.find_element(By.CSS_SELECTOR, "button[name=language][value=en]").click()
    _wait_for(browser, lambda driver: driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en")
    assert browser.find_element(By.TAG_NAME, "h1").text == "My work"
    browser.get(live_server.url + reverse("processes:nomination-list"))
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    assert browser.find_element(By.TAG_NAME, "h1").text == "Case tracker"


def test_a_unit_head_approves_the_open_step_in_a_real_browser(browser, live_server):
    from selenium.webdriver.common.by import By

    org = build_org()
    nomination = submitted(org)
    _log_in(browser, live_server, "hospital_head")
    browser.find_element(By.PARTIAL_LINK_TEXT, "Việc của tôi").click()
    browser.find_element(By.LINK_TEXT, nomination.nominee.name).click()
    browser.find_element(By.CSS_SELECTOR, "form.decide input[name=action][value=approve]").click()
    browser.find_element(By.XPATH, "//button[normalize-space()='Ghi nhận ý kiến']").click()

    message = browser.find_element(By.CSS_SELECTOR, ".message.success").text
    # Where the case went, not a stage it did not change to.
    assert message.startswith("Đã phê duyệt; chuyển đến ")
    assert org.department.name in message
    assert open_step(nomination).step.code == "proposer_submit"
