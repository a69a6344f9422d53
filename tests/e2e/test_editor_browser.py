"""An administrator publishes a new template version in Chromium from lists alone: a new draft by
the admin action, a step edited by picking a rule, unit kinds, actions and an escalation, reminders
typed as day numbers, then the diff and the confirmation before it is published. No code is typed,
and the browser reports no Content-Security-Policy violation on the way."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from processes.reference_data import load_reference_data
from tests.e2e.browser import BROWSER_MARKS, log_in, new_browser, screenshots, wait_for
from tests.factories import UserFactory
from workflow.models import ProcessTemplate, TemplateVersion
from workflow.process_templates import template_version_for

pytestmark = BROWSER_MARKS


@pytest.fixture
def browser():
    driver = new_browser(console=True)
    yield driver
    driver.quit()


def test_an_administrator_publishes_a_new_version_from_lists_alone(browser, live_server):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    load_reference_data()
    UserFactory(username="quantri", is_superuser=True, is_staff=True)
    template = ProcessTemplate.objects.get(code="city_regular")
    log_in(browser, live_server, "quantri")

    # A new draft, by the action on the list of templates.
    browser.get(live_server.url + reverse("admin:workflow_processtemplate_changelist"))
    browser.find_element(By.CSS_SELECTOR, f"input[name='_selected_action'][value='{template.pk}']").click()
    Select(browser.find_element(By.NAME, "action")).select_by_value("new_draft")
    browser.find_element(By.CSS_SELECTOR, "button[name='index']").click()
    wait_for(browser, lambda driver: driver.find_elements(By.CSS_SELECTOR, ".messagelist a"))
    browser.find_element(By.CSS_SELECTOR, ".messagelist a").click()
    draft = template.versions.get(status=TemplateVersion.Status.DRAFT)
    wait_for(browser, lambda driver: driver.find_elements(By.ID, "templateversion_form"))

    # The first step: picked from lists, reminders as day numbers. Only the date is typed.
    browser.find_element(By.NAME, "effective_from").send_keys("01/01/2031")
    step = next(
        element.get_attribute("name").removesuffix("-code")
        for element in browser.find_elements(By.CSS_SELECTOR, "input[name$='-code']")
        if element.get_attribute("value") == "proposer_submit"
    )
    Select(browser.find_element(By.NAME, f"{step}-approver_rule")).select_by_value("ancestor_head")
    for kind in ("district", "commune"):  # untick two of the three levels the step names
        browser.find_element(By.CSS_SELECTOR, f"input[name='{step}-approver_kinds'][value='{kind}']").click()
    browser.find_element(By.CSS_SELECTOR, f"input[name='{step}-actions'][value='return']").click()
    reminders = browser.find_element(By.NAME, f"{step}-reminder_offsets")
    reminders.clear()
    reminders.send_keys("3, 1")
    Select(browser.find_element(By.NAME, f"{step}-escalation_rule")).select_by_value("unit_head")
    screenshots(browser, "template-editor")
    browser.find_element(By.NAME, "_continue").click()
    wait_for(browser, lambda driver: driver.find_elements(By.CSS_SELECTOR, ".messagelist .success"))

    edited = draft.steps.get(code="proposer_submit")
    assert (edited.approver_rule, edited.approver_param) == ("ancestor_head", "department")
    assert (edited.actions, edited.reminder_offsets, edited.escalation_rule) == (
        ["approve", "reject"],
        [3, 1],
        "unit_head",
    )
    draft.refresh_from_db()
    assert (draft.status, draft.effective_from) == (TemplateVersion.Status.DRAFT, date(2031, 1, 1))

    # Compare, then confirm.
    browser.find_element(By.CSS_SELECTOR, "a.publish-link").click()
    wait_for(browser, lambda driver: driver.find_elements(By.CSS_SELECTOR, ".template-diff"))
    page = browser.find_element(By.ID, "content").text
    assert "01/01/2031" in page
    assert "giữ nguyên phiên bản đã bắt đầu" in page  # running cases keep their version
    assert "Thủ trưởng sở / Chủ tịch UBND xã, phường trình" in page
    assert "3, 1" in page
    screenshots(browser, "template-publish-confirmation")
    draft.refresh_from_db()
    assert draft.status == TemplateVersion.Status.DRAFT  # nothing published before the confirmation

    browser.find_element(By.CSS_SELECTOR, "form input[type='submit']").click()
    wait_for(browser, lambda driver: driver.find_elements(By.CSS_SELECTOR, ".messagelist .success"))
    draft.refresh_from_db()
    assert draft.status == TemplateVersion.Status.PUBLISHED
    assert template_version_for(template=template, on=date(2031, 1, 1)) == draft
    refused = [
        entry["message"] for entry in browser.get_log("browser") if "Content Security Policy" in entry["message"]
    ]
    assert refused == []
