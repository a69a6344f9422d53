"""The papers' print views in Debian's Chromium: a signed decision and a council session's vote-count
minutes, as a hospital head and a Board officer see them, with no policy violation on the page."""

import pytest
from django.urls import reverse

from tests.e2e.browser import BROWSER_MARKS, log_in, new_browser, screenshots
from tests.factories import build_org
from tests.processes.test_documents import award_decision, award_three, hold_closed_session

pytestmark = BROWSER_MARKS


@pytest.fixture
def browser():
    driver = new_browser(console=True)
    yield driver
    driver.quit()


def _policy_complaints(browser) -> list[str]:
    return [entry["message"] for entry in browser.get_log("browser") if "Content Security Policy" in entry["message"]]


def test_a_decision_and_the_council_minutes_print_in_the_decree_layout(browser, live_server):
    from selenium.webdriver.common.by import By

    org = build_org()
    document = award_decision(org, award_three(org), signer=org.vice_chairman, on_behalf=True)
    session = hold_closed_session(org)

    log_in(browser, live_server, "hospital_head")
    browser.get(live_server.url + reverse("processes:decision-print", args=[document.pk]))
    paper = browser.find_element(By.CSS_SELECTOR, "article.paper")
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in paper.text
    assert "Số: 245/QĐ-UBND" in paper.text
    assert "KT. CHỦ TỊCH" in paper.text
    # Typed names stay text: the page holds no element the name would have made.
    assert browser.find_elements(By.CSS_SELECTOR, "article script") == []
    annex = browser.find_elements(By.CSS_SELECTOR, "article.paper-annex tbody tr")
    assert len(annex) == 3
    assert "<script>alert(1)</script>" in annex[1].text
    family = browser.execute_script("return getComputedStyle(document.querySelector('article.paper')).fontFamily")
    assert "Times New Roman" in family
    screenshots(browser, "decision-print")
    assert _policy_complaints(browser) == []

    log_in(browser, live_server, "board_officer")
    browser.get(live_server.url + reverse("processes:council-minutes", args=[session.pk]))
    rows = browser.find_elements(By.CSS_SELECTOR, "table.paper-table tbody tr")
    assert len(rows) == 2
    assert "BIÊN BẢN KIỂM PHIẾU" in browser.find_element(By.CSS_SELECTOR, "article.paper").text
    assert "Bỏ Phiếu" not in browser.page_source
    screenshots(browser, "council-minutes-print")
    assert _policy_complaints(browser) == []
