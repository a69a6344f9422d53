"""The public pages in Debian's Chromium, without logging in: the posting page, an objection sent from
it (it reaches the Board's case), and the awards lookup searched without diacritics."""

from datetime import date

import pytest
from django.core.cache import caches
from django.urls import reverse

from processes.models import Decision, Objection
from tests.e2e.browser import BROWSER_MARKS, new_browser, screenshots, wait_for
from tests.factories import NomineeFactory, build_org, make_nomination
from tests.workflow.test_council_posting_consultation import posted

pytestmark = BROWSER_MARKS


@pytest.fixture
def browser():
    driver = new_browser()
    yield driver
    driver.quit()


def test_anyone_reads_the_public_pages_and_sends_an_objection(browser, live_server, settings):
    from selenium.webdriver.common.by import By

    settings.PUBLIC_POSTING_PAGE = True
    settings.PUBLIC_AWARDS_LOOKUP = True
    caches["ratelimit"].clear()
    org = build_org()
    nomination, _window = posted(org)
    awarded = make_nomination(org, nominee=NomineeFactory(unit=org.hospital, name="Nguyễn Văn An"))
    Decision.objects.create(nomination=awarded, number="245/QĐ-UBND", signed_on=date(2026, 3, 20), signer=org.chairman)

    browser.get(live_server.url + reverse("processes:public-posting"))
    assert browser.find_element(By.TAG_NAME, "h1").text == "Danh sách đề nghị khen thưởng đang công khai"
    assert nomination.nominee.name in browser.find_element(By.CSS_SELECTOR, "article.public-nominee h2").text
    screenshots(browser, "public-posting")

    browser.find_element(By.CSS_SELECTOR, "article.public-nominee summary").click()
    form = browser.find_element(By.CSS_SELECTOR, "article.public-nominee form.objection")
    form.find_element(By.NAME, "author").send_keys("Trần Văn Bình")
    form.find_element(By.NAME, "content").send_keys("Cá nhân này từng bị kỷ luật năm 2025")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_for(browser, lambda driver: driver.find_elements(By.CSS_SELECTOR, "p.message.success"))
    assert "Ban Thi đua - Khen thưởng" in browser.find_element(By.CSS_SELECTOR, "p.message.success").text
    objection = Objection.objects.get(nomination=nomination)
    assert (objection.source, objection.author, objection.recorded_by) == (
        Objection.Source.PUBLIC,
        "Trần Văn Bình",
        None,
    )

    browser.get(live_server.url + reverse("processes:public-awards"))
    browser.find_element(By.NAME, "q").send_keys("nguyen van an")
    browser.find_element(By.CSS_SELECTOR, "form.public-search button[type=submit]").click()
    wait_for(browser, lambda driver: "q=nguyen" in driver.current_url)
    cells = [cell.text for cell in browser.find_elements(By.CSS_SELECTOR, "table.public-awards tbody td")]
    assert cells == ["245/QĐ-UBND", "20/03/2026", "Nguyễn Văn An", org.hospital.name, awarded.award_form.name]
    screenshots(browser, "public-awards")
