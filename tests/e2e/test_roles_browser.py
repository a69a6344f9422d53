"""Every role does its job in a real browser, through the workspaces of issue 11, on one case that
climbs the whole city chain: the secretary finds it in the tracker without diacritics, the unit head
and the department head approve it from My work, the Board officer takes intake and appraisal and
puts it to the council, the council member casts a ballot from My work, and the chairman signs."""

import unicodedata

import pytest
from django.urls import reverse

from processes.models import Nomination, Stage
from tests.e2e.browser import BROWSER_MARKS, log_in, new_browser, screenshots, wait_for
from tests.factories import open_step, submitted

pytestmark = BROWSER_MARKS


@pytest.fixture
def browser():
    driver = new_browser()
    yield driver
    driver.quit()


def _without_marks(text: str) -> str:
    """What someone types on a keyboard without Vietnamese input: no accents, đ as d, lower case."""
    bare = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    return bare.replace("đ", "d").replace("Đ", "D").lower()


def _as(browser, live_server, username):
    browser.delete_all_cookies()
    log_in(browser, live_server, username)
    assert browser.current_url == live_server.url + reverse("processes:my-work")


def _open_from_my_work(browser, name: str):
    """On My work, follow the row naming the case (or session) to its page."""
    from selenium.webdriver.common.by import By

    browser.find_element(By.XPATH, f"//table[contains(@class, 'work-list')]//a[normalize-space()='{name}']").click()


def _approve_on_the_case_page(browser):
    from selenium.webdriver.common.by import By

    browser.find_element(By.CSS_SELECTOR, "form.decide input[name=action][value=approve]").click()
    # At the signing step on a weekend or a holiday the page asks to confirm the day.
    for confirm in browser.find_elements(By.CSS_SELECTOR, "form.decide input[name=confirm_non_working_day]"):
        confirm.click()
    browser.find_element(
        By.XPATH, "//form[contains(@class, 'decide')]//button[normalize-space()='Ghi nhận ý kiến']"
    ).click()
    return wait_for(browser, lambda driver: driver.find_element(By.CSS_SELECTOR, ".message.success")).text


def test_each_role_does_its_job_through_the_workspaces(browser, live_server, org):
    from selenium.webdriver.common.by import By

    org.city_form.council_vote = True
    org.city_form.council_threshold_percent = 50
    org.city_form.save()
    nomination = submitted(org)
    name = nomination.nominee.name

    # The secretary finds the case in the tracker, typing the name without diacritics, and reads its route.
    _as(browser, live_server, "hospital_secretary")
    browser.find_element(By.LINK_TEXT, "Theo dõi hồ sơ").click()
    browser.find_element(By.NAME, "q").send_keys(_without_marks(name))
    browser.find_element(By.CSS_SELECTOR, "#tracker-filters button[type=submit]").click()
    wait_for(browser, lambda driver: "q=" in driver.current_url)
    browser.find_element(By.LINK_TEXT, name).click()
    assert browser.find_element(By.CSS_SELECTOR, ".route-position").text.startswith("Bước 1/")
    screenshots(browser, "role-secretary-case")

    # The unit head, then the department head: from My work to the case, approve.
    for username, step in (("hospital_head", "unit_confirm"), ("director", "proposer_submit")):
        _as(browser, live_server, username)
        assert open_step(nomination).step.code == step
        _open_from_my_work(browser, name)
        assert _approve_on_the_case_page(browser).startswith("Đã phê duyệt; chuyển đến ")

    # The Board officer: intake and appraisal, then the case goes before the council.
    _as(browser, live_server, "board_officer")
    screenshots(browser, "role-board-my-work")
    for step in ("board_intake", "board_appraisal"):
        assert open_step(nomination).step.code == step
        browser.get(live_server.url + reverse("processes:my-work"))
        _open_from_my_work(browser, name)
        _approve_on_the_case_page(browser)
    task = open_step(nomination)
    assert task.step.code == "council_review"
    browser.find_element(By.LINK_TEXT, "Hội đồng").click()
    browser.find_element(By.CSS_SELECTOR, f"input[type=checkbox][value='{task.pk}']").click()
    browser.find_element(By.NAME, "title").send_keys("Phiên họp tháng 12")
    closes_on = browser.find_element(By.NAME, "closes_on")
    closes_on.clear()
    closes_on.send_keys("31/12/2099")
    browser.find_element(By.XPATH, "//button[normalize-space()='Mở phiên họp']").click()
    wait_for(browser, lambda driver: "/council/sessions/" in driver.current_url)

    # The council member: the ballot waits on My work; one vote in favour of a council of one passes it.
    _as(browser, live_server, "council_member")
    _open_from_my_work(browser, "Phiên họp tháng 12")
    browser.find_element(By.CSS_SELECTOR, "input[type=radio][value=yes]").click()
    screenshots(browser, "role-council-ballot")
    browser.find_element(By.XPATH, "//button[normalize-space()='Bỏ phiếu']").click()
    wait_for(browser, lambda driver: driver.find_element(By.CSS_SELECTOR, ".message.success"))
    assert open_step(nomination).step.code == "chairman_decision"

    # The chairman signs from My work; the product numbers the decision.
    org.city.decision_symbol = "QĐ-UBND"
    org.city.save()
    _as(browser, live_server, "chairman")
    _open_from_my_work(browser, name)
    screenshots(browser, "role-chairman-case")
    _approve_on_the_case_page(browser)
    signed = Nomination.objects.get(pk=nomination.pk)
    assert signed.stage == Stage.REPLICATE
    assert signed.decision.number == "1/QĐ-UBND"
    assert signed.decision.signer == org.chairman
