"""Versioned process templates: drafts copy, publishing freezes, the date picks the version."""

from datetime import date

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from tests.factories import UserFactory
from workflow.audit import audit_entries_for
from workflow.models import ProcessTemplate, TemplateImmutable, TemplateStep, TemplateVersion
from workflow.process_templates import (
    NoVersionInForce,
    TemplateError,
    template_draft,
    template_publish,
    template_version_for,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_user(db):
    return UserFactory(username="root", is_superuser=True, is_staff=True)


@pytest.fixture
def template(db):
    return ProcessTemplate.objects.create(code="city_regular", name="Khen thưởng cấp thành phố")


def add_step(version, position, code, **fields):
    values = {
        "name": code.replace("_", " "),
        "approver_rule": "subject_unit_head",
        "approver_param": "",
        "actions": ["approve", "return", "reject"],
        "deadline_working_days": 5,
        "reminder_offsets": [2, 1],
    }
    values.update(fields)
    return TemplateStep.objects.create(version=version, position=position, code=code, **values)


def published_v1(template, by, *, effective_from=date(2021, 1, 1)):
    draft = template_draft(template=template, by=by)
    add_step(draft, 1, "unit_confirm")
    add_step(draft, 2, "proposer_submit", approver_rule="ancestor_head", approver_param="department,district")
    return template_publish(version=draft, by=by, effective_from=effective_from)


def test_a_new_template_gets_an_empty_draft_numbered_one(template, admin_user):
    draft = template_draft(template=template, by=admin_user)
    assert (draft.number, draft.status, draft.steps.count()) == (1, "draft", 0)


def test_drafting_returns_the_open_draft_instead_of_making_a_second(template, admin_user):
    first = template_draft(template=template, by=admin_user)
    assert template_draft(template=template, by=admin_user) == first
    assert template.versions.count() == 1


def test_a_new_draft_copies_the_newest_published_steps_and_edits_stay_in_the_draft(template, admin_user):
    v1 = published_v1(template, admin_user)
    draft = template_draft(template=template, by=admin_user)
    assert draft.number == 2
    copied = list(draft.steps.values_list("position", "code", "approver_rule", "approver_param", "actions"))
    original = list(v1.steps.values_list("position", "code", "approver_rule", "approver_param", "actions"))
    assert copied == original
    assert set(draft.steps.values_list("pk", flat=True)).isdisjoint(v1.steps.values_list("pk", flat=True))

    step = draft.steps.get(code="proposer_submit")
    step.approver_param = "department,district,commune"
    step.save()
    assert v1.steps.get(code="proposer_submit").approver_param == "department,district"


def test_the_database_allows_one_draft_per_template(template, admin_user):
    template_draft(template=template, by=admin_user)
    with pytest.raises(IntegrityError), transaction.atomic():
        TemplateVersion.objects.create(template=template, number=2)


def test_publishing_applies_from_its_date_while_earlier_dates_keep_the_old_version(template, admin_user):
    v1 = published_v1(template, admin_user)
    draft = template_draft(template=template, by=admin_user)
    v2 = template_publish(version=draft, by=admin_user, effective_from=date(2025, 7, 1))

    assert (v2.status, v2.effective_from, v2.published_by) == ("published", date(2025, 7, 1), admin_user)
    assert v2.published_at is not None
    assert template_version_for(template=template, on=date(2025, 6, 30)) == v1
    assert template_version_for(template=template, on=date(2025, 7, 1)) == v2
    assert template_version_for(template=template, on=date(2026, 3, 1)) == v2


def test_no_version_in_force_before_the_first_is_a_clear_error(template, admin_user):
    published_v1(template, admin_user, effective_from=date(2021, 1, 1))
    template_draft(template=template, by=admin_user)  # a draft never counts
    with pytest.raises(NoVersionInForce, match="no published version in force on 2020-12-31"):
        template_version_for(template=template, on=date(2020, 12, 31))


def test_a_published_version_refuses_changes_and_deletes(template, admin_user):
    v1 = published_v1(template, admin_user)
    v1.note = "sửa"
    with pytest.raises(TemplateImmutable):
        v1.save()
    with pytest.raises(TemplateImmutable):
        v1.delete()
    with pytest.raises(TemplateImmutable), transaction.atomic():
        TemplateVersion.objects.filter(pk=v1.pk).delete()  # the admin's bulk delete goes this way
    assert TemplateVersion.objects.get(pk=v1.pk).note == ""


def test_the_steps_of_a_published_version_refuse_changes_additions_and_deletes(template, admin_user):
    v1 = published_v1(template, admin_user)
    step = v1.steps.get(code="unit_confirm")
    step.deadline_working_days = 30
    with pytest.raises(TemplateImmutable):
        step.save()
    with pytest.raises(TemplateImmutable):
        add_step(v1, 3, "extra")
    with pytest.raises(TemplateImmutable):
        step.delete()
    with pytest.raises(TemplateImmutable), transaction.atomic():
        v1.steps.all().delete()
    assert v1.steps.count() == 2
    assert v1.steps.get(code="unit_confirm").deadline_working_days == 5


def test_publishing_needs_a_draft_with_at_least_one_valid_step(template, admin_user):
    draft = template_draft(template=template, by=admin_user)
    with pytest.raises(TemplateError, match="at least one step"):
        template_publish(version=draft, by=admin_user, effective_from=date(2021, 1, 1))

    add_step(draft, 1, "board_intake", approver_rule="unit_members", approver_param="", actions=["approve", "sign"])
    add_step(draft, 2, "council_review", actions=["vote", "approve"], deadline_working_days=3, reminder_offsets=[3])
    with pytest.raises(TemplateError) as refused:
        template_publish(version=draft, by=admin_user, effective_from=date(2021, 1, 1))
    message = str(refused.value)
    assert "Unknown actions: sign" in message
    assert "needs a parameter" in message
    assert "A vote step allows no other action" in message
    assert "before its deadline" in message
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_a_published_version_cannot_be_published_again(template, admin_user):
    v1 = published_v1(template, admin_user)
    with pytest.raises(TemplateError, match="Only a draft"):
        template_publish(version=v1, by=admin_user, effective_from=date(2022, 1, 1))


def test_a_later_draft_cannot_take_effect_before_a_published_version(template, admin_user):
    published_v1(template, admin_user, effective_from=date(2025, 7, 1))
    draft = template_draft(template=template, by=admin_user)
    with pytest.raises(TemplateError, match="already applies from 2025-07-01"):
        template_publish(version=draft, by=admin_user, effective_from=date(2024, 1, 1))


def test_drafting_and_publishing_are_audited_on_the_version(template, admin_user):
    v1 = published_v1(template, admin_user)
    entries = list(audit_entries_for(v1))
    assert [entry.action for entry in entries] == ["workflow.template.drafted", "workflow.template.published"]
    assert entries[1].actor == admin_user
    assert (entries[1].from_state, entries[1].to_state) == ("draft", "published")
    assert entries[1].data["effective_from"] == "2021-01-01"
    assert entries[1].data["steps"] == ["unit_confirm", "proposer_submit"]


# --- admin -------------------------------------------------------------------------------------


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def _step_formset(version, *, deadline):
    data = {
        "effective_from": "",
        "note": "",
        "steps-TOTAL_FORMS": "1",
        "steps-INITIAL_FORMS": "1",
        "steps-MIN_NUM_FORMS": "0",
        "steps-MAX_NUM_FORMS": "1000",
    }
    step = version.steps.get(position=1)
    data.update(
        {
            "steps-0-id": str(step.pk),
            "steps-0-version": str(version.pk),
            "steps-0-position": "1",
            "steps-0-code": step.code,
            "steps-0-name": step.name,
            "steps-0-kind": step.kind,
            "steps-0-approver_rule": step.approver_rule,
            "steps-0-actions": ["approve", "reject"],
            "steps-0-deadline_working_days": str(deadline),
            "steps-0-reminder_offsets": "1",
            "steps-0-escalation_rule": "parent_head",
        }
    )
    return data


def test_the_admin_shows_a_published_version_read_only_and_refuses_edits_and_deletes(
    template, admin_user, admin_client
):
    v1 = published_v1(template, admin_user)
    change_url = reverse("admin:workflow_templateversion_change", args=[v1.pk])

    page = admin_client.get(change_url)
    assert page.status_code == 200
    assert b'name="_save"' not in page.content

    assert admin_client.post(change_url, _step_formset(v1, deadline=30)).status_code == 403
    assert v1.steps.get(position=1).deadline_working_days == 5
    delete_url = reverse("admin:workflow_templateversion_delete", args=[v1.pk])
    assert admin_client.post(delete_url, {"post": "yes"}).status_code == 403
    assert TemplateVersion.objects.filter(pk=v1.pk).exists()


def test_the_admin_edits_a_drafts_steps(template, admin_user, admin_client):
    published_v1(template, admin_user)
    draft = template_draft(template=template, by=admin_user)
    change_url = reverse("admin:workflow_templateversion_change", args=[draft.pk])
    # Only the first step is in the formset; the second is left as it is.
    response = admin_client.post(change_url, _step_formset(draft, deadline=7))
    assert response.status_code == 302, response.content.decode()[:2000]
    step = draft.steps.get(position=1)
    assert (step.deadline_working_days, step.actions, step.reminder_offsets) == (7, ["approve", "reject"], [1])


def test_the_admin_actions_make_a_draft_and_publish_it_from_its_effective_date(template, admin_user, admin_client):
    published_v1(template, admin_user)
    response = admin_client.post(
        reverse("admin:workflow_processtemplate_changelist"),
        {"action": "new_draft", "_selected_action": [template.pk]},
    )
    assert response.status_code == 302
    draft = template.versions.get(status="draft")
    assert draft.number == 2

    versions_url = reverse("admin:workflow_templateversion_changelist")
    admin_client.post(versions_url, {"action": "publish", "_selected_action": [draft.pk]})
    draft.refresh_from_db()
    assert draft.status == "draft"  # no effective date yet: refused with a message

    TemplateVersion.objects.filter(pk=draft.pk).update(effective_from=date(2025, 7, 1))
    admin_client.post(versions_url, {"action": "publish", "_selected_action": [draft.pk], "confirmed": "yes"})
    draft.refresh_from_db()
    assert (draft.status, draft.published_by) == ("published", admin_user)
    assert template_version_for(template=template, on=date(2025, 7, 1)) == draft
    assert [entry.action for entry in audit_entries_for(draft)][-1] == "workflow.template.published"
