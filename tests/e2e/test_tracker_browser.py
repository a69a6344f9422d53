"""The case tracker in Debian's Chromium: a secretary searches without diacritics for a name stored in
NFD, filters, exports to Excel, and the file (opened with openpyxl) keeps a formula as text."""

import time
import unicodedata

import pytest
from django.db import connection
from django.urls import reverse
from openpyxl import load_workbook

from processes.models import Nomination, refresh_search_text
from tests.e2e.browser import BROWSER_MARKS, log_in, new_browser, screenshots, wait_for
from tests.factories import NomineeFactory, build_org, make_nomination

pytestmark = BROWSER_MARKS


@pytest.fixture
def browser():
    driver = new_browser()
    yield driver
    driver.quit()


def test_a_secretary_finds_a_decomposed_name_without_diacritics_filters_and_exports(browser, live_server, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    org = build_org()
    stored_nfd = make_nomination(org, nominee=NomineeFactory(unit=org.hospital, name="Nguyễn Thị Hoa"))
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE processes_nominee SET name = %s WHERE id = %s",
            [unicodedata.normalize("NFD", "Nguyễn Thị Hoa"), stored_nfd.nominee_id],
        )
    refresh_search_text(Nomination.objects.filter(pk=stored_nfd.pk))
    make_nomination(org, nominee=NomineeFactory(unit=org.hospital, name="=1+2 Trần Thị Hoa"))
    make_nomination(org, nominee=NomineeFactory(unit=org.hospital, name="Phạm Đăng Khoa"))
    make_nomination(org, award_form=org.unit_form, nominee=NomineeFactory(unit=org.hospital, name="Lê Văn Hoà"))

    log_in(browser, live_server, "hospital_secretary")
    browser.get(live_server.url + reverse("processes:nomination-list"))
    assert browser.find_element(By.TAG_NAME, "h1").text == "Theo dõi hồ sơ"
    search = browser.find_element(By.NAME, "q")
    search.send_keys("nguyen thi hoa")
    browser.find_element(By.CSS_SELECTOR, "#tracker-filters button[type=submit]").click()
    wait_for(browser, lambda driver: "q=nguyen" in driver.current_url)
    shown = [link.text for link in browser.find_elements(By.CSS_SELECTOR, "table.tracker tbody a")]
    assert shown == [unicodedata.normalize("NFD", "Nguyễn Thị Hoa")]

    # A wider search, narrowed by a filter: "hoa" finds the three Hoa (not Khoa); the form keeps two.
    wait_for(browser, lambda driver: driver.execute_script("return document.readyState") == "complete")
    search = browser.find_element(By.NAME, "q")
    search.send_keys(Keys.CONTROL, "a")
    search.send_keys("hoa")  # typed over the selected text
    wait_for(browser, lambda driver: search.get_attribute("value") == "hoa")
    Select(browser.find_element(By.NAME, "award_form")).select_by_value(str(org.city_form.pk))
    browser.find_element(By.CSS_SELECTOR, "#tracker-filters button[type=submit]").click()
    wait_for(
        browser,
        lambda driver: (
            "award_form=" in driver.current_url and driver.execute_script("return document.readyState") == "complete"
        ),
    )
    rows = browser.find_elements(By.CSS_SELECTOR, "table.tracker tbody tr")
    assert len(rows) == 2, (browser.current_url, [row.text for row in rows])
    screenshots(browser, "tracker")

    browser.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)})
    browser.find_element(By.ID, "export").click()
    deadline = time.monotonic() + 20
    while not list(tmp_path.glob("*.xlsx")) and time.monotonic() < deadline:
        time.sleep(0.2)
    (downloaded,) = tmp_path.glob("*.xlsx")
    sheet = load_workbook(downloaded).active
    assert sheet.cell(row=1, column=2).value == "Đối tượng được đề nghị"
    names = sorted(sheet.cell(row=row, column=2).value for row in range(2, sheet.max_row + 1))
    assert names == sorted(["'=1+2 Trần Thị Hoa", unicodedata.normalize("NFD", "Nguyễn Thị Hoa")])
    assert all(sheet.cell(row=row, column=2).data_type == "s" for row in range(2, sheet.max_row + 1))
