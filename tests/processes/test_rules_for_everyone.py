"""Rules that hold for everyone, administrators included: nobody decides on their own case; an
administrator moves a step only as an audited intervention with a reason and never signs an award;
every write checks the version the user saw; "warn" rules warn; a rule that cannot be evaluated is
refused when saved; pending proceedings are flagged on every step from the moment they are set."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from notifications.models import Event, Outbox
from processes import errors, services
from processes.models import EligibilityRule, Nomination, Nominee, PriorAward, Role, Stage, UnitKind, UnitLink
from processes.permissions import can_transition, can_view
from tests.factories import (
    AwardFormFactory,
    NomineeFactory,
    UnitFactory,
    UserFactory,
    approve_until,
    attach_file,
    holders,
    link,
    make_nomination,
    member,
    open_step,
    submitted,
)
from workflow.audit import audit_entries_for
from workflow.models import ApprovalTask

# --- nobody decides on their own nomination, superusers included --------------------------------


def test_a_superuser_who_is_the_nominee_follows_the_case_but_decides_nothing(org):
    nominee = NomineeFactory(unit=org.hospital, user=org.admin)
    nomination = submitted(org, nominee=nominee)
    task = open_step(nomination)
    assert can_view(org.admin, nomination)
    assert not can_transition(org.admin, nomination, "withdraw")
    for action in ("approve", "return", "reject"):
        with pytest.raises(errors.PermissionDenied) as refused:
            services.nomination_decide(task_id=task.pk, by=org.admin, action=action, comment="Tự duyệt")
        assert "own nomination" in str(refused.value)
    assert open_step(nomination).pk == task.pk
    with pytest.raises(errors.PermissionDenied):
        services.nomination_withdraw(nomination=nomination, by=org.admin, reason="Rút")


def test_a_superuser_vice_chairman_who_is_the_nominee_never_signs_their_own_award(org):
    member(org.admin, org.city, Role.DEPUTY)
    nominee = NomineeFactory(unit=org.hospital, user=org.admin)
    nomination = approve_until(submitted(org, nominee=nominee))
    task = open_step(nomination)
    assert org.admin not in holders(task)  # the resolver leaves the nominee out of the signers
    with pytest.raises(errors.PermissionDenied):
        services.nomination_decide(task_id=task.pk, by=org.admin, action="approve", decision_number="1/QĐ")
    assert Nomination.objects.get(pk=nomination.pk).stage == Stage.SUMMARISE


# --- an administrator steps in only as an audited intervention ------------------------------------


def test_an_administrator_moving_a_step_must_give_a_reason_and_is_recorded_as_intervening(org):
    nomination = submitted(org)
    task = open_step(nomination)
    with pytest.raises(errors.DomainError) as refused:
        services.nomination_decide(task_id=task.pk, by=org.admin, action="approve")
    assert "must give the reason" in str(refused.value)
    services.nomination_decide(task_id=task.pk, by=org.admin, action="approve", comment="Thủ trưởng nghỉ ốm dài ngày")
    decided = ApprovalTask.objects.get(pk=task.pk)
    assert (decided.decided_by, decided.intervention, decided.action) == (org.admin, True, "approve")
    entry = audit_entries_for(nomination).filter(action="processes.nomination.step_approved").get()
    assert entry.actor == org.admin
    assert entry.data["intervention"] is True
    assert entry.data["holders"] == [org.hospital_head.username]
    assert entry.comment == "Thủ trưởng nghỉ ốm dài ngày"


def test_a_holders_own_decision_is_not_an_intervention(org):
    nomination = submitted(org)
    task = open_step(nomination)
    services.nomination_decide(task_id=task.pk, by=org.hospital_head, action="approve")
    assert ApprovalTask.objects.get(pk=task.pk).intervention is False
    entry = audit_entries_for(nomination).filter(action="processes.nomination.step_approved").get()
    assert "intervention" not in entry.data


def test_an_administrator_never_signs_the_award_but_may_reject_at_the_last_step_with_a_reason(org):
    nomination = approve_until(submitted(org))
    task = open_step(nomination)
    with pytest.raises(errors.PermissionDenied) as refused:
        services.nomination_decide(
            task_id=task.pk, by=org.admin, action="approve", comment="Ký thay", decision_number="9/QĐ"
        )
    assert "holder of the signing step" in str(refused.value)
    assert Nomination.objects.get(pk=nomination.pk).stage == Stage.SUMMARISE
    rejected = services.nomination_decide(task_id=task.pk, by=org.admin, action="reject", comment="Hồ sơ giả mạo")
    assert rejected.stage == Stage.REJECTED
    assert ApprovalTask.objects.get(pk=task.pk).intervention is True


def test_the_case_page_offers_an_administrator_an_intervention_without_the_signature(client, org):
    nomination = approve_until(submitted(org))
    client.force_login(org.admin)
    page = client.get(reverse("processes:nomination-detail", args=[nomination.pk]))
    [step] = page.context["open_steps"]
    assert step.intervention
    assert [action for action, _label in step.decisions] == ["return", "reject"]
    assert "decision_number" not in page.content.decode()


def test_decided_steps_show_the_intervention_and_engine_decisions_without_a_person(client, org):
    nomination = submitted(org)
    task = open_step(nomination)
    services.nomination_decide(task_id=task.pk, by=org.admin, action="approve", comment="Thay thủ trưởng")
    client.force_login(org.admin)
    body = client.get(reverse("processes:nomination-detail", args=[nomination.pk])).content.decode()
    assert "administrator&#x27;s intervention" in body or "administrator's intervention" in body
    assert "by an administrator, in place of the step&#x27;s holder" in body


# --- the version the user saw -------------------------------------------------------------------


@pytest.mark.parametrize("service", ["return", "reject"])
def test_return_and_reject_refuse_a_version_the_decider_never_saw(org, service):
    nomination = submitted(org)
    stale = nomination.version
    Nomination.objects.filter(pk=nomination.pk).update(version=stale + 1)
    call = services.nomination_return if service == "return" else services.nomination_reject
    with pytest.raises(errors.StaleObject):
        call(nomination=nomination, by=org.hospital_head, reason="Thiếu hồ sơ", expected_version=stale)
    assert Nomination.objects.get(pk=nomination.pk).stage == Stage.SUMMARISE


def test_the_award_refuses_a_version_the_signer_never_saw(org):
    nomination = approve_until(submitted(org))
    stale = Nomination.objects.get(pk=nomination.pk).version
    Nomination.objects.filter(pk=nomination.pk).update(version=stale + 1)
    with pytest.raises(errors.StaleObject):
        services.nomination_award(
            nomination=nomination, by=org.chairman, decision_number="1/QĐ", expected_version=stale
        )
    assert Nomination.objects.get(pk=nomination.pk).stage == Stage.SUMMARISE


def test_a_decision_on_the_case_page_opened_before_an_edit_is_refused_as_stale(client, org):
    nomination = submitted(org)
    task = open_step(nomination)
    seen = nomination.version
    Nomination.objects.filter(pk=nomination.pk).update(version=seen + 1)  # someone edited meanwhile
    client.force_login(org.hospital_head)
    response = client.post(
        reverse("processes:step-decide", args=[nomination.pk, task.pk]),
        {"action": "approve", "comment": "", "expected_version": seen},
    )
    assert response.status_code == 409
    assert "after you opened it" in response.content.decode()
    assert open_step(nomination).pk == task.pk


# --- eligibility rules: warn warns, a rule that cannot be evaluated is refused ------------------------


def test_a_warn_rule_the_nominee_does_not_meet_warns_the_deciders_without_blocking(client, org):
    grassroots = AwardFormFactory(code="CSTD_CS")
    EligibilityRule.objects.create(
        award_form=org.city_form,
        kind=EligibilityRule.Kind.PRIOR_AWARD_STREAK,
        required_form=grassroots,
        years=3,
        enforcement=EligibilityRule.Enforcement.WARN,
        description="3 năm liên tục Chiến sĩ thi đua cơ sở",
    )
    nomination = submitted(org)  # not blocked
    assert nomination.stage == Stage.SUMMARISE
    client.force_login(holders(open_step(nomination))[0])
    page = client.get(reverse("processes:nomination-detail", args=[nomination.pk]))
    texts = [str(warning["text"]) for warning in page.context["warnings"]]
    assert texts == ["Eligibility warning: the nominee does not meet “3 năm liên tục Chiến sĩ thi đua cơ sở”."]
    for year in (2023, 2024, 2025):
        PriorAward.objects.create(nominee=nomination.nominee, award_form=grassroots, year=year)
    assert client.get(reverse("processes:nomination-detail", args=[nomination.pk])).context["warnings"] == []


def test_a_streak_rule_without_its_earlier_form_is_refused_when_saved(org, admin_client):
    rule = EligibilityRule(
        award_form=org.city_form, kind=EligibilityRule.Kind.PRIOR_AWARD_STREAK, years=3, enforcement="block"
    )
    with pytest.raises(ValidationError) as refused:
        rule.full_clean()
    assert "required_form" in refused.value.message_dict
    with pytest.raises(IntegrityError), transaction.atomic():
        rule.save()
    response = admin_client.post(
        reverse("admin:processes_eligibilityrule_add"),
        {"award_form": org.city_form.pk, "kind": "prior_award_streak", "years": 3, "enforcement": "block"},
    )
    assert response.status_code == 200
    assert not EligibilityRule.objects.exists()
    # Switched off, it may be kept (for the record) without blocking anyone.
    EligibilityRule.objects.create(
        award_form=org.city_form, kind=EligibilityRule.Kind.PRIOR_AWARD_STREAK, years=3, enforcement="off"
    )
    assert submitted(org).stage == Stage.SUMMARISE


# --- pending proceedings: flagged on every step from the moment they are set -------------------------


def test_a_pending_flag_set_on_a_nominee_reaches_the_case_log_the_step_pages_and_the_holders(client, org):
    nomination = approve_until(submitted(org), "board_intake")
    task = open_step(nomination)
    services.nominee_update(nominee=nomination.nominee, by=org.hospital_secretary, under_investigation=True)
    entry = audit_entries_for(nomination).last()
    assert (entry.action, entry.data["raised"]) == ("processes.nomination.proceedings_flagged", ["under_investigation"])
    told = set(Outbox.objects.filter(event=Event.PROCEEDINGS).values_list("recipient_id", flat=True))
    assert told == {holder.pk for holder in holders(task)}
    client.force_login(org.board_officer)
    page = client.get(reverse("processes:nomination-detail", args=[nomination.pk]))
    assert [warning["blocking"] for warning in page.context["warnings"]] == [True]
    assert "no award can be decided" in page.content.decode()
    assert "proceedings pending: no award" in client.get(reverse("processes:inbox")).content.decode()

    services.nominee_update(nominee=nomination.nominee, by=org.hospital_secretary, under_investigation=False)
    assert audit_entries_for(nomination).last().action == "processes.nomination.proceedings_cleared"
    assert client.get(reverse("processes:nomination-detail", args=[nomination.pk])).context["warnings"] == []


def test_the_admin_sets_a_pending_flag_through_the_service(admin_client, org):
    nomination = submitted(org)
    nominee = nomination.nominee
    url = reverse("admin:processes_nominee_change", args=[nominee.pk])
    form = admin_client.get(url).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update(
        {
            "pending_complaint": "on",
            "birth_date": nominee.birth_date.isoformat() if nominee.birth_date else "",
            "prior_awards-TOTAL_FORMS": 0,
            "prior_awards-INITIAL_FORMS": 0,
        }
    )
    data = {key: value for key, value in data.items() if value is not False}
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    assert Nominee.objects.get(pk=nominee.pk).pending_complaint
    assert audit_entries_for(nomination).last().action == "processes.nomination.proceedings_flagged"


def test_only_the_nominees_unit_edits_their_record(org):
    nominee = NomineeFactory(unit=org.hospital)
    with pytest.raises(errors.PermissionDenied):
        services.nominee_update(nominee=nominee, by=org.ward_secretary, pending_discipline=True)
    assert not Nominee.objects.get(pk=nominee.pk).pending_discipline


# --- orphaned steps after a reorganisation ------------------------------------------------------------


def _abolish_the_district(org, *, day):
    """The district is abolished on ``day``: its chairman leaves, the ward moves under a new commune."""
    commune = UnitFactory(code="HP.XTC", name="Xã Trại Cau", kind=UnitKind.COMMUNE)
    link(commune, org.city, valid_from=day)
    UnitLink.objects.filter(unit=org.ward, parent=org.district).update(valid_to=day)
    link(org.ward, commune, valid_from=day)
    UnitLink.objects.filter(unit=org.district, parent=org.city).update(valid_to=day)
    org.district_chairman.memberships.update(valid_to=day)
    commune_head = UserFactory(username="commune_head")
    member(commune_head, commune, Role.HEAD, valid_from=day)
    return commune, commune_head


def test_a_step_nobody_can_hold_after_a_reorganisation_passes_to_the_successor_units_head(client, org):
    today = timezone.localdate()
    nomination = make_nomination(org, unit=org.ward, nominee=NomineeFactory(unit=org.ward))
    attach_file(nomination, org.report_type, user=org.ward_secretary)
    nomination = services.nomination_start_cultivation(nomination=nomination, by=org.ward_head)
    nomination = services.nomination_submit(nomination=nomination, by=org.ward_secretary)
    # The case started before the reform: it climbs the tree of that day.
    nomination_process = open_step(nomination).process
    type(nomination_process).objects.filter(pk=nomination_process.pk).update(structure_on=date(2024, 1, 2))
    commune, commune_head = _abolish_the_district(org, day=today)
    services.nomination_decide(task_id=open_step(nomination).pk, by=org.ward_head, action="approve")
    orphan = open_step(nomination)
    assert (orphan.step.code, holders(orphan), orphan.unit_id) == ("proposer_submit", [], org.district.pk)

    city_secretary = UserFactory(username="city_secretary")
    member(city_secretary, org.city, Role.SECRETARY)
    choices = services.reassignment_choices(orphan)
    assert [(option.user, option.unit) for option in choices] == [(commune_head, commune)]
    with pytest.raises(errors.PermissionDenied):  # below the step's level
        services.step_reassign(task_id=orphan.pk, to=commune_head, by=org.ward_secretary, reason="Sáp nhập")

    client.force_login(city_secretary)
    page = client.get(reverse("processes:nomination-detail", args=[nomination.pk]))
    [step] = page.context["open_steps"]
    assert step.may_reassign
    assert [option.user for option in step.reassign_to] == [commune_head]
    response = client.post(
        reverse("processes:step-reassign", args=[nomination.pk, orphan.pk]),
        {"to": commune_head.pk, "reason": "Cấp huyện không còn từ ngày sắp xếp"},
    )
    assert response.status_code == 302
    moved = ApprovalTask.objects.get(pk=orphan.pk)
    assert (holders(moved), moved.unit_id, moved.unit_label) == ([commune_head], commune.pk, commune.name)
    entry = audit_entries_for(nomination).last()
    assert (entry.action, entry.actor, entry.data["successor_unit"]) == (
        "processes.nomination.step_reassigned",
        city_secretary,
        commune.code,
    )
    # The successor's head decides it as its holder, not an administrator in person.
    services.nomination_decide(task_id=orphan.pk, by=commune_head, action="approve")
    assert ApprovalTask.objects.get(pk=orphan.pk).intervention is False
    assert open_step(nomination).step.code == "board_intake"
