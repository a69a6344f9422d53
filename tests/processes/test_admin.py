"""The admin: every model reachable, stage read-only, transitions and saves only through the services."""

from datetime import date

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from processes import services
from processes.models import (
    ActivityEvidence,
    AwardDecision,
    Consultation,
    CultivationMilestone,
    Decision,
    DecisionCounter,
    Delegation,
    DisseminationActivity,
    DossierDownload,
    DossierFile,
    EligibilityRule,
    ExportJob,
    Membership,
    Nomination,
    Objection,
    PriorAward,
    ReplicationPlan,
    RequiredDocument,
    Role,
    Stage,
    UnitLink,
)
from tests.factories import (
    PDF_BYTES,
    NomineeFactory,
    UnitFactory,
    approve_until,
    attach_file,
    make_nomination,
    member,
    open_step,
)
from workflow.audit import audit_entries_for
from workflow.models import AuditEntry

#: Append-only logs: nobody adds to them by hand.
NO_ADD_PAGE = {
    DossierDownload,
    Objection,
    Consultation,
    ExportJob,
    AwardDecision,
    DecisionCounter,
    ReplicationPlan,
    DisseminationActivity,
    ActivityEvidence,
}


@pytest.fixture
def admin_client(client, org):
    client.force_login(org.admin)
    return client


def _url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def _fresh(nomination):
    # refresh_from_db cannot set the protected FSM field; read the row again instead.
    return Nomination.objects.get(pk=nomination.pk)


def _in_summarise(org, **fields):
    nomination = make_nomination(org, **fields)
    nomination = services.nomination_start_cultivation(nomination=nomination, by=org.hospital_head)
    attach_file(nomination, org.report_type, user=org.hospital_secretary)
    return services.nomination_submit(nomination=nomination, by=org.hospital_secretary)


def _messages(response):
    return [(message.level_tag, str(message)) for message in get_messages(response.wsgi_request)]


def _act(client, action, nominations, **extra):
    data = {"action": action, "index": "0", "_selected_action": [n.pk for n in nominations], **extra}
    return client.post(_url(Nomination, "changelist"), data, follow=True)


def _form_data(response):
    """The POST a browser would send back for an admin change page, unedited."""
    data = {}

    def add(form):
        for name in form.fields:
            value = form[name].value()
            if isinstance(value, bool):
                if value:
                    data[form.add_prefix(name)] = "on"
            elif value is not None:
                data[form.add_prefix(name)] = value.isoformat() if isinstance(value, date) else value

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        add(inline.formset.management_form)
        for form in inline.formset.forms:
            add(form)
    return data


# --- every model ---------------------------------------------------------------------------------


def test_every_processes_model_is_registered():
    missing = [m.__name__ for m in apps.get_app_config("processes").get_models() if m not in admin.site._registry]
    assert missing == []


def test_superuser_opens_every_changelist_add_and_change_page(admin_client, org):
    # A row of every model, so each change page has something to show.
    RequiredDocument.objects.create(award_form=org.city_form, document_type=org.report_type)
    EligibilityRule.objects.create(
        award_form=org.city_form, kind="prior_award_streak", required_form=org.unit_form, years=3, enforcement="warn"
    )
    nomination = _in_summarise(org)
    PriorAward.objects.create(nominee=nomination.nominee, award_form=org.unit_form, year=2025)
    CultivationMilestone.objects.create(nomination=nomination, title="Đăng ký sáng kiến")
    DossierDownload.objects.create(file=DossierFile.objects.get(), user=org.admin)
    services.nomination_award(nomination=approve_until(nomination), by=org.chairman, decision_number="7/QĐ-UBND")
    signed = approve_until(_in_summarise(org, nominee=NomineeFactory(unit=org.hospital)))
    services.decision_sign(by=org.chairman, task_ids=[open_step(signed).pk], confirm_non_working_day=True)
    services.replication_plan_set(
        nomination=nomination, by=org.hospital_head, activities_required=5, adoptions_required=1
    )
    services.activity_record(
        nomination=nomination,
        by=org.hospital_secretary,
        kind="adoption",
        held_on=date(2026, 3, 2),
        title="Phường áp dụng mô hình",
        adopting_unit=org.ward,
        evidence=[SimpleUploadedFile("bien-ban.pdf", PDF_BYTES)],
    )
    Delegation.objects.create(
        delegator=org.hospital_head, delegate=org.hospital_deputy, unit=org.hospital, valid_from=date(2026, 1, 1)
    )
    other = _in_summarise(org, nominee=NomineeFactory(unit=org.hospital))
    step, now = open_step(other), timezone.now()
    Objection.objects.create(
        nomination=other,
        window=step,
        author="Ông A",
        content="Phản ánh",
        recorded_by=org.board_officer,
        recorded_at=now,
    )
    Consultation.objects.create(
        nomination=other,
        approval_task=step,
        agency_name="Cục Thuế",
        question="Chấp hành pháp luật thuế?",
        requested_by=org.board_officer,
        requested_at=now,
        due_at=now,
    )
    ExportJob.objects.create(user=org.hospital_secretary, query="q=hoa", language="vi", total=3000)
    for model in apps.get_app_config("processes").get_models():
        assert admin_client.get(_url(model, "changelist")).status_code == 200, model
        add = admin_client.get(_url(model, "add"))
        assert add.status_code == (403 if model in NO_ADD_PAGE else 200), model
        row = model._default_manager.first()
        assert row is not None, model
        assert admin_client.get(_url(model, "change", row.pk)).status_code == 200, model


def test_nominee_list_shows_only_the_last_digits_of_id_numbers(admin_client, org):
    nominee = NomineeFactory(unit=org.hospital, id_number="031085123456")
    response = admin_client.get(_url(nominee, "changelist"))
    assert "••••••••3456" in response.text
    assert "031085123456" not in response.text


# --- nominations -------------------------------------------------------------------------------------


def test_stage_is_read_only_on_the_change_page(admin_client, org):
    nomination = make_nomination(org)
    page = admin_client.get(_url(Nomination, "change", nomination.pk))
    assert "stage" not in page.context["adminform"].form.fields
    assert "version" not in page.context["adminform"].form.fields

    data = {**_form_data(page), "stage": Stage.CLOSED, "version": "99", "mentor": "Trần Văn An"}
    response = admin_client.post(_url(Nomination, "change", nomination.pk), data)
    assert response.status_code == 302
    saved = _fresh(nomination)
    assert (saved.stage, saved.version, saved.mentor) == (Stage.DISCOVER, 2, "Trần Văn An")
    assert audit_entries_for(saved).last().action == "processes.nomination.updated"


def test_an_edit_on_a_page_opened_before_someone_elses_edit_is_refused(admin_client, org):
    nomination = make_nomination(org)
    page = admin_client.get(_url(Nomination, "change", nomination.pk))
    services.nomination_update(nomination=nomination, by=org.hospital_secretary, mentor="Người khác")
    response = admin_client.post(_url(Nomination, "change", nomination.pk), {**_form_data(page), "mentor": "Tôi"})
    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors()
    assert _fresh(nomination).mentor == "Người khác"


def test_adding_a_nomination_goes_through_the_service(admin_client, org):
    nominee = NomineeFactory(unit=org.hospital)
    data = {
        **_form_data(admin_client.get(_url(Nomination, "add"))),
        "campaign": org.campaign.pk,
        "award_form": org.city_form.pk,
        "procedure": "regular",
        "nominee": nominee.pk,
        "unit": org.hospital.pk,
        "achievement_summary": "Cứu người đuối nước",
    }
    assert admin_client.post(_url(Nomination, "add"), data).status_code == 302
    created = Nomination.objects.get()
    assert created.created_by == org.admin
    assert [entry.action for entry in audit_entries_for(created)] == ["processes.nomination.created"]

    # The same again is refused by the service and shown on the form; nothing more is written.
    response = admin_client.post(_url(Nomination, "add"), data)
    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors()
    assert Nomination.objects.count() == 1
    assert audit_entries_for(created).count() == 1


def test_start_cultivation_action_moves_the_nomination_and_writes_an_audit_entry(admin_client, org):
    nomination = make_nomination(org)
    response = _act(admin_client, "start_cultivation", [nomination])
    assert ("success", "1 nomination moved on.") in _messages(response)
    moved = _fresh(nomination)
    assert (moved.stage, moved.version) == (Stage.CULTIVATE, 2)
    entry = audit_entries_for(moved).last()
    assert (entry.action, entry.actor, entry.from_state, entry.to_state) == (
        "processes.nomination.cultivation_started",
        org.admin,
        Stage.DISCOVER,
        Stage.CULTIVATE,
    )


def test_a_step_not_allowed_shows_an_error_for_that_nomination_and_changes_nothing(admin_client, org):
    waiting = make_nomination(org)  # discover: closing is not a step from here
    awarded = _in_summarise(org)
    services.nomination_award(nomination=approve_until(awarded), by=org.chairman, decision_number="12/QĐ-UBND")
    entries_before = AuditEntry.objects.count()

    response = _act(admin_client, "close", [waiting, awarded], confirm="yes", reason="Đã nhân rộng")
    levels = [level for level, _text in _messages(response)]
    assert levels.count("error") == 1
    assert str(waiting) in next(text for level, text in _messages(response) if level == "error")
    assert (_fresh(waiting).stage, _fresh(waiting).version) == (Stage.DISCOVER, 1)
    assert _fresh(awarded).stage == Stage.CLOSED
    assert AuditEntry.objects.count() == entries_before + 1


def test_actions_are_taken_as_the_admin_user_so_the_permission_rules_apply(client, org):
    officer = org.board_officer  # may return city-level cases, may not start cultivation
    officer.is_staff = True
    officer.save()
    officer.user_permissions.add(*Permission.objects.filter(codename__in=["view_nomination", "change_nomination"]))
    client.force_login(officer)
    nomination = make_nomination(org)

    response = _act(client, "start_cultivation", [nomination])
    assert [level for level, _text in _messages(response)] == ["error"]
    assert _fresh(nomination).stage == Stage.DISCOVER
    assert len(audit_entries_for(nomination)) == 0


def test_return_asks_for_a_reason_then_returns_through_the_service(admin_client, org):
    nomination = _in_summarise(org)
    page = _act(admin_client, "return_for_completion", [nomination])
    assert page.status_code == 200
    assert "reason" in page.context["form"].fields
    assert _fresh(nomination).stage == Stage.SUMMARISE

    refused = _act(admin_client, "return_for_completion", [nomination], confirm="yes", reason="  ")
    assert refused.context["form"].errors
    assert _fresh(nomination).stage == Stage.SUMMARISE

    _act(admin_client, "return_for_completion", [nomination], confirm="yes", reason="Thiếu biên bản")
    returned = _fresh(nomination)
    assert returned.stage == Stage.RETURNED
    entry = audit_entries_for(returned).last()
    assert (entry.action, entry.comment, entry.actor) == ("processes.nomination.returned", "Thiếu biên bản", org.admin)


def test_withdraw_with_a_reason(admin_client, org):
    nomination = make_nomination(org)
    _act(admin_client, "withdraw", [nomination], confirm="yes", reason="Lập nhầm hồ sơ")
    assert _fresh(nomination).stage == Stage.WITHDRAWN


def test_nomination_changelist_runs_the_same_number_of_queries_for_3_or_30_rows(admin_client, org):
    def nominate(count):
        for _ in range(count):
            make_nomination(org, nominee=NomineeFactory(unit=org.hospital))

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get(_url(Nomination, "changelist")).status_code == 200
        return len(captured)

    nominate(3)
    few = queries()
    nominate(27)
    assert queries() == few


def test_every_changelist_runs_a_constant_number_of_queries(admin_client, org):
    def grow():
        nomination = _in_summarise(org, nominee=NomineeFactory(unit=org.hospital))
        PriorAward.objects.create(nominee=nomination.nominee, award_form=org.unit_form, year=2024)
        DossierDownload.objects.create(file=nomination.files.get(), user=org.admin)

    def queries(model):
        with CaptureQueriesContext(connection) as captured:
            admin_client.get(_url(model, "changelist"))
        return len(captured)

    grow()
    models = list(apps.get_app_config("processes").get_models())
    few = {model: queries(model) for model in models}
    for _ in range(4):
        grow()
    assert {model: queries(model) for model in models} == few


# --- decisions and files -------------------------------------------------------------------------


def test_an_administrator_not_holding_the_signing_step_cannot_record_the_award(admin_client, org):
    nomination = approve_until(_in_summarise(org))
    data = {"nomination": nomination.pk, "number": "345/QĐ-UBND", "signed_on": "2026-05-04"}
    response = admin_client.post(_url(Decision, "add"), data)
    assert response.status_code == 200
    assert "Only the holder of the signing step records the award decision" in response.content.decode()
    assert not Decision.objects.exists()
    assert _fresh(nomination).stage == Stage.SUMMARISE


def test_adding_a_decision_records_the_award_through_the_service(admin_client, org):
    # The administrator is also a vice-chairman: they hold the signing step and sign on the chairman's behalf.
    member(org.admin, org.city, Role.DEPUTY)
    nomination = approve_until(_in_summarise(org))
    data = {"nomination": nomination.pk, "number": "345/QĐ-UBND", "signed_on": "2026-05-04"}
    assert admin_client.post(_url(Decision, "add"), data).status_code == 302
    decision = Decision.objects.get()
    assert (decision.signer, decision.on_behalf, decision.signed_on) == (org.admin, True, date(2026, 5, 4))
    assert _fresh(nomination).stage == Stage.REPLICATE
    assert audit_entries_for(nomination).last().action == "processes.nomination.awarded"


def test_uploading_in_the_admin_validates_the_content(admin_client, org):
    nomination = make_nomination(org)
    url = _url(DossierFile, "add")
    good = SimpleUploadedFile("bao-cao.pdf", PDF_BYTES, content_type="application/pdf")
    data = {"nomination": nomination.pk, "document_type": org.report_type.pk}
    assert admin_client.post(url, {**data, "upload": good}).status_code == 302
    assert audit_entries_for(nomination).last().action == "processes.dossier.uploaded"

    renamed = SimpleUploadedFile("bao-cao.pdf", b"MZ\x90\x00" + b"\x00" * 200, content_type="application/pdf")
    response = admin_client.post(url, {**data, "upload": renamed})
    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors()
    assert DossierFile.objects.count() == 1


# --- memberships -------------------------------------------------------------------------------------


def test_membership_admin_refuses_an_overlapping_head(admin_client, org):
    data = {
        "user": org.outsider.pk,
        "unit": org.hospital.pk,
        "role": Role.HEAD,
        "valid_from": "2024-01-01",
        "valid_to": "",
    }
    response = admin_client.post(_url(Membership, "add"), data)
    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors()
    assert not Membership.objects.filter(user=org.outsider).exists()

    # A deputy for the same period is fine, and is added through the service.
    assert admin_client.post(_url(Membership, "add"), {**data, "role": Role.DEPUTY}).status_code == 302
    assert Membership.objects.filter(user=org.outsider, role=Role.DEPUTY).exists()


def test_unit_page_refuses_an_overlapping_head_added_inline(admin_client, org):
    url = _url(org.hospital, "change", org.hospital.pk)
    data = _form_data(admin_client.get(url))
    index = int(data["memberships-TOTAL_FORMS"])
    data.update(
        {
            "memberships-TOTAL_FORMS": str(index + 1),
            f"memberships-{index}-user": str(org.outsider.pk),
            f"memberships-{index}-role": Role.HEAD,
            f"memberships-{index}-valid_from": "2024-01-01",
        }
    )
    before = Membership.objects.count()
    response = admin_client.post(url, data)
    assert response.status_code == 200
    memberships = next(i.formset for i in response.context["inline_admin_formsets"] if i.formset.model is Membership)
    assert memberships.forms[index].non_field_errors()  # Membership.clean, run by the inline's form
    assert Membership.objects.count() == before

    data[f"memberships-{index}-role"] = Role.MEMBER
    assert admin_client.post(url, data).status_code == 302
    assert Membership.objects.filter(user=org.outsider, unit=org.hospital, role=Role.MEMBER).exists()


def test_two_new_overlapping_heads_in_one_unit_form_are_refused_together(admin_client, org):
    url = _url(org.ward, "change", org.ward.pk)
    Membership.objects.filter(unit=org.ward, role=Role.HEAD).delete()
    data = _form_data(admin_client.get(url))
    index = int(data["memberships-TOTAL_FORMS"])
    data["memberships-TOTAL_FORMS"] = str(index + 2)
    for offset, user in enumerate((org.outsider, org.hospital_member)):
        data[f"memberships-{index + offset}-user"] = str(user.pk)
        data[f"memberships-{index + offset}-role"] = Role.HEAD
        data[f"memberships-{index + offset}-valid_from"] = "2024-01-01"
    response = admin_client.post(url, data)
    assert response.status_code == 200
    # Each passes Membership.clean alone; the service refuses the second, and the first is undone.
    assert response.context["adminform"].form.non_field_errors()
    assert not Membership.objects.filter(unit=org.ward, role=Role.HEAD).exists()


def test_unit_page_refuses_two_overlapping_parent_links_added_together(admin_client, org):
    unit = UnitFactory(code="HP.NEW", name="Phường mới")
    url = _url(unit, "change", unit.pk)
    data = _form_data(admin_client.get(url))
    data["parent_links-TOTAL_FORMS"] = "2"
    for index, (parent, valid_from) in enumerate(((org.district, "2021-01-01"), (org.city, "2025-07-01"))):
        data[f"parent_links-{index}-parent"] = str(parent.pk)
        data[f"parent_links-{index}-valid_from"] = valid_from
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert not UnitLink.objects.filter(unit=unit).exists()

    # The 2025 reform, told as data: the district link lasts until the end of the day before the
    # city link starts (stored as ending, exclusive, on that day).
    data["parent_links-0-valid_to"] = "30/06/2025"
    assert admin_client.post(url, data).status_code == 302
    assert UnitLink.objects.filter(unit=unit).count() == 2
    assert UnitLink.objects.get(unit=unit, parent=org.district).valid_to == date(2025, 7, 1)
