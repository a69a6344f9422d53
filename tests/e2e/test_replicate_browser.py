"""The replicate stage in Debian's Chromium: a secretary records that another unit adopted the
exemplar's model, with its evidence file, and reads the progress against the plan."""

import pytest
from django.urls import reverse

from processes.models import DisseminationActivity, Nomination, Stage
from tests.e2e.browser import BROWSER_MARKS, log_in, new_browser, screenshots, wait_for
from tests.factories import PDF_BYTES, NomineeFactory, build_org, make_nomination

pytestmark = BROWSER_MARKS


@pytest.fixture
def browser():
    driver = new_browser()
    yield driver
    driver.quit()


def test_a_secretary_records_an_adoption_and_sees_the_progress(browser, live_server, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    org = build_org()
    case = make_nomination(org, nominee=NomineeFactory(unit=org.hospital, name="Trần Thị Mai"))
    Nomination.objects.filter(pk=case.pk).update(stage=Stage.REPLICATE)  # awarded: tested elsewhere
    evidence = tmp_path / "bien-ban-ap-dung.pdf"
    evidence.write_bytes(PDF_BYTES)

    log_in(browser, live_server, "hospital_secretary")
    browser.get(live_server.url + reverse("processes:nomination-detail", args=[case.pk]))
    section = browser.find_element(By.ID, "replication")
    assert "0/2 hoạt động, 0/1 đơn vị áp dụng" in section.text
    section.find_element(By.XPATH, ".//summary[contains(., 'Ghi nhận hoạt động')]").click()
    Select(browser.find_element(By.NAME, "kind")).select_by_value("adoption")
    browser.find_element(By.NAME, "held_on").send_keys("02/03/2026")
    browser.find_element(By.NAME, "title").send_keys("Phường Trại Cau áp dụng mô hình")
    Select(browser.find_element(By.NAME, "adopting_unit")).select_by_value(str(org.ward.pk))
    browser.find_element(By.NAME, "evidence").send_keys(str(evidence))
    browser.find_element(By.CSS_SELECTOR, "form[action$='/replication/activities/'] button[type=submit]").click()

    wait_for(
        browser, lambda driver: "1/2 hoạt động, 1/1 đơn vị áp dụng" in driver.find_element(By.ID, "replication").text
    )
    section = browser.find_element(By.ID, "replication")
    assert "Phường Trại Cau áp dụng mô hình" in section.text
    assert "bien-ban-ap-dung.pdf" in section.text
    activity = DisseminationActivity.objects.get()
    assert (activity.adopting_unit, activity.evidence.count()) == (org.ward, 1)
    assert Nomination.objects.get(pk=case.pk).stage == Stage.REPLICATE  # one more activity to go
    screenshots(browser, "replication")
