"""The template editor in the admin: a draft is edited from lists alone, reminders are day numbers,
and publishing shows what changes and waits for a confirmation.

Every POST starts from the fields of the page as rendered (``form_fields``), as a browser sends
them, with only what the administrator picks changed.
"""

from __future__ import annotations

from datetime import date
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from processes.choices import UnitKind
from processes.reference_data import load_reference_data
from tests.factories import UnitFactory, UserFactory
from workflow.models import ProcessTemplate, TemplateVersion
from workflow.process_templates import template_draft, template_version_for

pytestmark = pytest.mark.django_db


class _FormFields(HTMLParser):
    """The name/value pairs a browser submits from the page's form ``form_id``: text, hidden and
    number inputs, ticked boxes and radios, selected options, text areas (no buttons)."""

    def __init__(self, form_id: str):
        super().__init__()
        self.form_id, self.inside, self.select, self.textarea = form_id, False, None, None
        self.pairs: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = attrs.get("id") == self.form_id
        if not self.inside or ("name" not in attrs and tag in ("input", "select", "textarea")):
            return
        if tag == "input":
            kind = attrs.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    self.pairs.append((attrs["name"], attrs.get("value", "on")))
            elif kind not in ("submit", "button", "file"):
                self.pairs.append((attrs["name"], attrs.get("value") or ""))
        elif tag == "select":
            self.select = attrs["name"]
        elif tag == "option" and self.select and "selected" in attrs:
            self.pairs.append((self.select, attrs.get("value", "")))
        elif tag == "textarea":
            self.textarea = attrs["name"]
            self.pairs.append((self.textarea, ""))

    def handle_data(self, data):
        if self.textarea:
            name, text = self.pairs[-1]
            self.pairs[-1] = (name, text + data)

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None


def form_fields(page, form_id: str = "templateversion_form") -> dict[str, list[str]]:
    parser = _FormFields(form_id)
    parser.feed(page.content.decode())
    fields: dict[str, list[str]] = {}
    for name, value in parser.pairs:
        fields.setdefault(name, []).append(value)
    return fields


def step_prefix(fields, code: str) -> str:
    """The formset prefix (``steps-3``) of the step with ``code``."""
    return next(
        name.removesuffix("-code") for name, values in fields.items() if name.endswith("-code") and values == [code]
    )


@pytest.fixture
def admin_client(client):
    load_reference_data()
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    return client


@pytest.fixture
def board(db):
    return UnitFactory(code="HP.SNV.BTDKT", name="Ban Thi đua - Khen thưởng", kind=UnitKind.BOARD)


@pytest.fixture
def template(db):
    return ProcessTemplate.objects.get(code="city_regular")


def new_draft(admin_client, template) -> TemplateVersion:
    response = admin_client.post(
        reverse("admin:workflow_processtemplate_changelist"),
        {"action": "new_draft", "_selected_action": [template.pk]},
    )
    assert response.status_code == 302
    return template.versions.get(status=TemplateVersion.Status.DRAFT)


def change_url(version) -> str:
    return reverse("admin:workflow_templateversion_change", args=[version.pk])


def test_the_step_editor_offers_lists_and_no_field_for_typing_a_rule_parameter(admin_client, template):
    draft = new_draft(admin_client, template)
    page = admin_client.get(change_url(draft))
    fields = form_fields(page)
    prefix = step_prefix(fields, "proposer_submit")
    content = page.content.decode()
    # Parameters and marks are lists, not text boxes.
    for name in ("approver_param", "escalation_param"):
        assert f'name="{prefix}-{name}"' not in content
    assert f'<select name="{prefix}-condition"' in content
    assert f'<select name="{prefix}-approver_rule"' in content
    assert f'<select name="{prefix}-escalation_rule"' in content
    assert f'<select name="{prefix}-approver_units"' in content
    # The stored "department,district,commune" (version 2) shows as three ticked kinds, reminders as days.
    assert sorted(fields[f"{prefix}-approver_kinds"]) == ["commune", "department", "district"]
    assert fields[f"{prefix}-reminder_offsets"] == ["2, 1"]
    assert ">Order<" in content or ">Order:<" in content


def test_an_administrator_edits_a_step_from_lists_alone(admin_client, template, board):
    draft = new_draft(admin_client, template)
    fields = form_fields(admin_client.get(change_url(draft)))
    prefix = step_prefix(fields, "proposer_submit")
    fields.update(
        {
            "effective_from": ["01/01/2031"],
            f"{prefix}-approver_rule": ["ancestor_head"],
            f"{prefix}-approver_kinds": [UnitKind.COMMUNE, UnitKind.DEPARTMENT],
            f"{prefix}-actions": ["reject", "approve"],
            f"{prefix}-deadline_working_days": ["6"],
            f"{prefix}-reminder_offsets": ["2, 1"],
            f"{prefix}-escalation_rule": ["unit_members"],
            f"{prefix}-escalation_units": [board.code],
        }
    )
    response = admin_client.post(change_url(draft), fields)
    assert response.status_code == 302, response.content.decode()[-3000:]

    step = draft.steps.get(code="proposer_submit")
    assert step.approver_rule == "ancestor_head"
    assert step.approver_param == "department,commune"  # the stored format, kinds in their fixed order
    assert step.actions == ["approve", "reject"]
    assert (step.deadline_working_days, step.reminder_offsets) == (6, [2, 1])
    assert (step.escalation_rule, step.escalation_param) == ("unit_members", board.code)


def test_a_group_of_the_nearest_level_is_stored_with_its_prefix_and_a_mixed_choice_is_refused(
    admin_client, template, board
):
    draft = new_draft(admin_client, template)
    fields = form_fields(admin_client.get(change_url(draft)))
    prefix = step_prefix(fields, "board_appraisal")
    fields.update(
        {
            f"{prefix}-approver_kinds": [UnitKind.DISTRICT, UnitKind.DEPARTMENT],
            f"{prefix}-approver_scope": ["nearest"],
            f"{prefix}-approver_units": [],
        }
    )
    assert admin_client.post(change_url(draft), fields).status_code == 302
    assert draft.steps.get(code="board_appraisal").approver_param == "above:department,district"

    fields[f"{prefix}-approver_units"] = [board.code]
    response = admin_client.post(change_url(draft), fields)
    assert response.status_code == 200
    assert "Choose unit kinds or units for the group, not both." in response.content.decode()
    assert draft.steps.get(code="board_appraisal").approver_param == "above:department,district"


def test_reminders_typed_as_day_numbers_are_stored_as_a_list_and_letters_are_refused(admin_client, template):
    draft = new_draft(admin_client, template)
    fields = form_fields(admin_client.get(change_url(draft)))
    prefix = step_prefix(fields, "unit_confirm")

    fields[f"{prefix}-reminder_offsets"] = ["1,2 "]
    assert admin_client.post(change_url(draft), fields).status_code == 302
    assert draft.steps.get(code="unit_confirm").reminder_offsets == [2, 1]

    for typed in ("a", "2, ²", "[2, 1]"):
        fields[f"{prefix}-reminder_offsets"] = [typed]
        response = admin_client.post(change_url(draft), fields)
        assert response.status_code == 200
        page = response.content.decode()
        assert "Type whole numbers of working days separated by commas" in page
        assert f'value="{typed}"' in page  # what was typed is kept to be corrected
    assert draft.steps.get(code="unit_confirm").reminder_offsets == [2, 1]


def test_a_step_added_without_a_code_gets_one_from_its_name(admin_client, template):
    draft = new_draft(admin_client, template)
    fields = form_fields(admin_client.get(change_url(draft)))
    total = int(fields["steps-TOTAL_FORMS"][0])
    new = f"steps-{total}"
    fields["steps-TOTAL_FORMS"] = [str(total + 1)]
    fields.update(
        {
            f"{new}-position": ["95"],
            f"{new}-name": ["Đăng tải quyết định lên cổng thông tin"],
            f"{new}-code": [""],
            f"{new}-kind": ["decision"],
            f"{new}-condition": [""],
            f"{new}-approver_rule": ["unit_members"],
            f"{new}-approver_kinds": [UnitKind.BOARD],
            f"{new}-approver_scope": ["every"],
            f"{new}-actions": ["approve"],
            f"{new}-deadline_working_days": ["3"],
            f"{new}-reminder_offsets": ["1"],
            f"{new}-escalation_rule": ["none"],
            f"{new}-version": [str(draft.pk)],
        }
    )
    response = admin_client.post(change_url(draft), fields)
    assert response.status_code == 302, response.content.decode()[-3000:]
    step = draft.steps.get(position=95)
    assert (step.code, step.approver_param, step.reminder_offsets) == (
        "dang_tai_quyet_dinh_len_cong_thong_tin",
        "board",
        [1],
    )


def test_publishing_shows_the_diff_and_the_date_and_publishes_only_once_confirmed(admin_client, template):
    draft = new_draft(admin_client, template)
    draft.steps.filter(code="unit_confirm").update(deadline_working_days=9)
    draft.steps.filter(code="board_appraisal").delete()
    TemplateVersion.objects.filter(pk=draft.pk).update(effective_from=date(2031, 1, 1))
    versions_url = reverse("admin:workflow_templateversion_changelist")

    # From the draft's page, and from the list's action: the same confirmation, nothing published yet.
    from_page = admin_client.get(reverse("admin:workflow_templateversion_publish", args=[draft.pk]))
    response = admin_client.post(versions_url, {"action": "publish", "_selected_action": [draft.pk]})
    for page in (from_page, response):
        assert page.status_code == 200
        text = page.content.decode()
        assert "What changes against version 2, published now" in text
        assert "<strong>01/01/2031</strong>" in text
        assert "Cases already running keep the version they started with" in text
        assert "Deadline (working days)" in text
        assert "Thủ trưởng đơn vị xác nhận" in text
        assert "Ban Thi đua - Khen thưởng thẩm định" in text
        assert 'class="diff-removed"' in text
        assert 'class="diff-changed"' in text
        assert "every unit: Emulation and Commendation Board" in text  # the removed step's group, named
        assert 'class="route-diagram"' in text  # the draft's route, drawn before publishing
    draft.refresh_from_db()
    assert draft.status == TemplateVersion.Status.DRAFT

    response = admin_client.post(
        versions_url, {"action": "publish", "_selected_action": [draft.pk], "confirmed": "yes"}, follow=True
    )
    draft.refresh_from_db()
    assert draft.status == TemplateVersion.Status.PUBLISHED
    assert template_version_for(template=template, on=date(2031, 1, 1)) == draft
    assert "is published; new cases from 01/01/2031 use it." in response.content.decode()


def test_a_draft_without_a_date_cannot_be_confirmed(admin_client, template):
    draft = new_draft(admin_client, template)
    response = admin_client.get(reverse("admin:workflow_templateversion_publish", args=[draft.pk]))
    text = response.content.decode()
    assert "Enter the date it applies from (effective from) on the draft" in text
    assert 'name="confirmed"' not in text
    assert "No step differs from the version published now." in text


def test_the_publish_page_of_a_published_or_unknown_version_is_refused(admin_client, template):
    published = template.versions.filter(status=TemplateVersion.Status.PUBLISHED).first()
    assert admin_client.get(reverse("admin:workflow_templateversion_publish", args=[published.pk])).status_code == 403
    for key in ("999999", "99999999999999999999999", "x"):
        assert admin_client.get(reverse("admin:workflow_templateversion_publish", args=[key])).status_code == 404


def test_a_new_draft_can_be_published_then_serves_new_cases_only(admin_client, template):
    running = template_version_for(template=template, on=date(2030, 12, 31))
    draft = template_draft(template=template, by=None)
    TemplateVersion.objects.filter(pk=draft.pk).update(effective_from=date(2031, 1, 1))
    admin_client.post(
        reverse("admin:workflow_templateversion_changelist"),
        {"action": "publish", "_selected_action": [draft.pk], "confirmed": "yes"},
    )
    assert template_version_for(template=template, on=date(2030, 12, 31)) == running
    assert template_version_for(template=template, on=date(2031, 1, 1)).pk == draft.pk


def test_the_version_page_draws_its_route(admin_client, template):
    draft = new_draft(admin_client, template)
    page = admin_client.get(reverse("admin:workflow_templateversion_change", args=[draft.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert 'class="route-diagram"' in text
    assert "Thủ trưởng đơn vị xác nhận" in text.split('class="route-diagram"', 1)[1]
