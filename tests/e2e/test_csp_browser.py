"""The Content-Security-Policy in a real browser: the admin's scripts and our pages work under it, and the
browser reports no violation."""

import pytest
from django.urls import reverse

from processes.models import Campaign, Nomination
from tests.e2e.browser import BROWSER_MARKS, new_browser
from tests.factories import build_org, make_nomination

pytestmark = BROWSER_MARKS


@pytest.fixture
def browser():
    driver = new_browser(console=True)
    yield driver
    driver.quit()


def violations(browser) -> list[str]:
    return [
        entry["message"]
        for entry in browser.get_log("browser")
        if "Content Security Policy" in entry["message"] or "Refused to" in entry["message"]
    ]


def test_the_admin_works_under_the_content_security_policy(browser, live_server):
    from selenium.webdriver.common.by import By

    org = build_org()
    for _ in range(3):
        make_nomination(org)
    browser.get(live_server.url + "/admin/login/")
    browser.find_element(By.NAME, "username").send_keys("admin")
    browser.find_element(By.NAME, "password").send_keys("pw")
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    assert browser.find_element(By.ID, "site-name")

    # A change list: actions.js ticks every row from the header's box.
    browser.get(live_server.url + reverse("admin:processes_nomination_changelist"))
    browser.find_element(By.ID, "action-toggle").click()
    boxes = browser.find_elements(By.CSS_SELECTOR, "input.action-select")
    assert len(boxes) == Nomination.objects.count() == 3
    assert all(box.is_selected() for box in boxes)
    assert "3 của 3" in browser.find_element(By.CSS_SELECTOR, ".action-counter").text  # the admin speaks Vietnamese

    # A change form: the calendar shortcuts and the autocomplete widget are made by scripts.
    browser.get(live_server.url + reverse("admin:processes_campaign_add"))
    assert browser.find_elements(By.CSS_SELECTOR, ".datetimeshortcuts a")
    browser.find_element(By.CSS_SELECTOR, ".datetimeshortcuts a").click()  # "Today"
    assert browser.find_element(By.NAME, "period_start").get_attribute("value")
    browser.find_element(By.CSS_SELECTOR, ".select2-selection").click()
    assert browser.find_element(By.CSS_SELECTOR, ".select2-search__field")

    # The theme toggle and the navigation filter, on every page.
    browser.get(live_server.url + reverse("admin:index"))
    assert browser.find_element(By.CSS_SELECTOR, "button.theme-toggle")

    assert violations(browser) == []
    assert Campaign.objects.count() == 1  # the campaign of the org, untouched


def test_our_pages_raise_no_policy_violation(browser, live_server):
    from selenium.webdriver.common.by import By

    org = build_org()
    nomination = make_nomination(org)
    browser.get(live_server.url + reverse("login"))
    browser.find_element(By.NAME, "username").send_keys("hospital_secretary")
    browser.find_element(By.NAME, "password").send_keys("pw")
    browser.find_element(By.CSS_SELECTOR, "form[action='/accounts/login/'] button[type=submit]").click()
    for url in (
        reverse("processes:nomination-list"),
        reverse("processes:nomination-detail", args=[nomination.pk]),
        reverse("processes:inbox"),
        reverse("processes:council"),
        reverse("notifications:centre"),
        reverse("processes:nomination-new"),
        reverse("password_change"),
    ):
        browser.get(live_server.url + url)
        assert browser.find_element(By.CSS_SELECTOR, "header.topbar")
    # The product's stylesheet applied (a style from a file, which the policy allows).
    assert browser.find_element(By.CSS_SELECTOR, ".topbar").value_of_css_property("border-bottom-style") == "solid"
    # The icon in the header, a file of the site like the stylesheet, loaded.
    assert browser.execute_script("return document.querySelector('.brand img').naturalWidth") > 0
    assert violations(browser) == []
