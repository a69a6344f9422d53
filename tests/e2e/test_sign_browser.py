"""The chairman signs two approved cases on one decision from the signing page, in a real browser, and
lands on the decision's page with the number the product issued."""

import pytest
from django.urls import reverse

from processes.models import AwardDecision, Nomination, Stage
from tests.e2e.browser import BROWSER_MARKS, log_in, new_browser, screenshots, wait_for
from tests.factories import approve_until, submitted

pytestmark = BROWSER_MARKS


@pytest.fixture
def browser():
    driver = new_browser()
    yield driver
    driver.quit()


def test_the_chairman_signs_two_cases_on_one_decision(browser, live_server, org):
    from selenium.webdriver.common.by import By

    org.city.decision_symbol = "QĐ-UBND"
    org.city.place_name = "Hải Phòng"
    org.city.save()
    first, second = approve_until(submitted(org)), approve_until(submitted(org))
    log_in(browser, live_server, "chairman")
    # My work leads the signer to the signing page.
    browser.find_element(By.CSS_SELECTOR, f"a[href='{reverse('processes:decision-sign')}']").click()
    wait_for(browser, lambda driver: driver.find_element(By.CSS_SELECTOR, "form.sign-decision"))
    for box in browser.find_elements(By.CSS_SELECTOR, "form.sign-decision input[name=tasks]"):
        box.click()
    screenshots(browser, "decision-sign")
    browser.find_element(By.CSS_SELECTOR, "form.sign-decision button[type=submit]").click()
    # The confirmation: tick the day off if today is one, then sign.
    wait_for(browser, lambda driver: driver.find_element(By.CSS_SELECTOR, "form.card input[name=tasks]"))
    for confirm in browser.find_elements(By.CSS_SELECTOR, "input[name=confirm_non_working_day]"):
        confirm.click()
    browser.find_element(By.CSS_SELECTOR, "form.card button.primary").click()
    number = wait_for(browser, lambda driver: driver.find_element(By.CSS_SELECTOR, ".decision-number")).text
    document = AwardDecision.objects.get()
    assert number == "1/QĐ-UBND" == document.number
    assert browser.current_url == live_server.url + reverse("processes:decision-detail", args=[document.pk])
    assert first.nominee.name in browser.page_source
    assert second.nominee.name in browser.page_source
    assert "Hải Phòng" in browser.page_source
    screenshots(browser, "decision-detail")
    assert set(Nomination.objects.filter(pk__in=[first.pk, second.pk]).values_list("stage", flat=True)) == {
        Stage.REPLICATE
    }
    assert document.awards.count() == 2
