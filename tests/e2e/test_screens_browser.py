"""The main screens in Debian's Chromium at 1,280 and at 360 px: no sideways scrolling, the menu folded
behind its button on a phone and opening without a script, the skip link first under the keyboard,
every required field marked, and no Content-Security-Policy violation. Screenshots go to var/screenshots/."""

import pytest
from django.urls import reverse

from tests.e2e.browser import BROWSER_MARKS, log_in, new_browser, screenshots, wait_for
from tests.factories import make_nomination, submitted

pytestmark = BROWSER_MARKS

#: Every [required] field whose label (wrapping, pointing at it, or its fieldset's legend) lacks the mark
#: or the words saying it is required.
UNMARKED_REQUIRED_FIELDS = """
return Array.from(document.querySelectorAll('main [required]')).filter((field) => {
  const labels = Array.from(field.labels || []);
  const fieldset = field.closest('fieldset');
  if (fieldset && fieldset.querySelector('legend')) labels.push(fieldset.querySelector('legend'));
  return !labels.some((label) => label.querySelector('.required-mark') || /bắt buộc/.test(label.textContent));
}).map((field) => field.name);
"""


@pytest.fixture
def browser():
    driver = new_browser(console=True)
    yield driver
    driver.quit()


def _violations(browser) -> list[str]:
    return [
        entry["message"]
        for entry in browser.get_log("browser")
        if "Content Security Policy" in entry["message"] or "Refused to" in entry["message"]
    ]


def _check_page(browser, name: str) -> None:
    from selenium.webdriver.common.by import By

    assert browser.find_element(By.ID, "content").tag_name == "main"
    assert " · Thi đua - Khen thưởng" in browser.title
    assert not browser.title.startswith("Thi đua - Khen thưởng ·"), name  # base.html's default
    assert browser.execute_script(UNMARKED_REQUIRED_FIELDS) == [], name
    screenshots(browser, f"screens-{name}")  # asserts no sideways scroll at 1,280 and 360 px


def test_the_main_screens_fit_360_and_1280_px(browser, live_server, org):
    from selenium.webdriver.common.by import By

    for _ in range(3):
        make_nomination(org)
    case = submitted(org)  # a case with an open step: the decision form on its page

    browser.get(live_server.url + reverse("login"))
    _check_page(browser, "login")
    log_in(browser, live_server, "hospital_head")
    pages = {
        "case-list": reverse("processes:nomination-list"),
        "case": reverse("processes:nomination-detail", args=[case.pk]),
        "inbox": reverse("processes:inbox"),
        "council": reverse("processes:council"),
        "notifications": reverse("notifications:centre"),
        "password-change": reverse("password_change"),
    }
    for name, url in pages.items():
        browser.get(live_server.url + url)
        _check_page(browser, name)
    # The case page offers the head a decision: its required choice is marked.
    browser.get(live_server.url + pages["case"])
    assert browser.find_elements(By.CSS_SELECTOR, "form.decide legend .required-mark")

    log_in(browser, live_server, "hospital_secretary")
    browser.get(live_server.url + reverse("processes:nomination-new"))
    assert len(browser.find_elements(By.CSS_SELECTOR, "main label .required-mark")) >= 5
    _check_page(browser, "new-nomination")

    assert _violations(browser) == []


def test_at_360_px_the_menu_folds_behind_its_button_and_opens(browser, live_server, org):
    from selenium.webdriver.common.by import By

    make_nomination(org)
    log_in(browser, live_server, "hospital_secretary")
    browser.set_window_size(360, 800)
    browser.get(live_server.url + reverse("processes:nomination-list"))

    menu = browser.find_element(By.CSS_SELECTOR, "nav.menu")
    button = browser.find_element(By.CSS_SELECTOR, "label.menu-button")
    assert button.is_displayed()
    assert not menu.is_displayed()
    # The rows are cards, each value after its column's name.
    assert browser.find_element(By.CSS_SELECTOR, ".table-cards tbody tr").value_of_css_property("display") == "flex"
    stage_cell = browser.find_element(By.CSS_SELECTOR, ".table-cards tbody td:has(.stage)")
    before = browser.execute_script("return getComputedStyle(arguments[0], '::before').content", stage_cell)
    assert before == '"Trạng thái"'
    assert browser.execute_script("return document.documentElement.scrollWidth") <= 360

    button.click()
    wait_for(browser, lambda driver: menu.is_displayed())
    link = browser.find_element(By.CSS_SELECTOR, f"nav.menu a[href='{reverse('notifications:centre')}']")
    assert link.is_displayed()
    assert link.rect["x"] + link.rect["width"] <= 360
    link.click()
    wait_for(browser, lambda driver: driver.current_url.endswith(reverse("notifications:centre")))
    assert not browser.find_element(By.CSS_SELECTOR, "nav.menu").is_displayed()  # folded again on the next page

    # At 1,280 px the menu is a row in the header and the button is gone.
    browser.set_window_size(1280, 800)
    assert browser.find_element(By.CSS_SELECTOR, "nav.menu").is_displayed()
    assert not browser.find_element(By.CSS_SELECTOR, "label.menu-button").is_displayed()
    assert _violations(browser) == []


def test_the_skip_link_comes_first_under_the_keyboard_and_leads_to_the_content(browser, live_server, org):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    log_in(browser, live_server, "hospital_secretary")
    browser.get(live_server.url + reverse("processes:inbox"))
    skip = browser.find_element(By.CSS_SELECTOR, "a.skip-link")
    assert skip.rect["y"] < 0  # out of sight until the keyboard reaches it
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    focused = browser.switch_to.active_element
    assert focused.get_attribute("class") == "skip-link"
    assert focused.text == "Bỏ qua, đến nội dung chính"
    assert focused.rect["y"] >= 0
    focused.send_keys(Keys.ENTER)
    wait_for(browser, lambda driver: driver.switch_to.active_element.get_attribute("id") == "content")


def test_the_favicon_is_served_to_the_browser(browser, live_server, org):
    browser.get(live_server.url + "/favicon.ico")
    assert browser.current_url.endswith("/static/processes/favicon.svg")
    assert browser.execute_script("return document.documentElement.localName") == "svg"
