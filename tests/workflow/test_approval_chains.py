"""The demo approval chains run end to end through the services: routes, returns, rejections,
template versions, reorganisation, self-approval, delegation, deadlines and concurrent decisions.

A vote step (council_review, level_council) is decided by a council session, never by a person: its
task's ``decided_by`` is None and the nomination's audit entry has no actor."""

import json
import os
import subprocess
import sys
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.db.models import ProtectedError
from django.utils import timezone
from viewflow.workflow.status import STATUS

from processes import errors, services
from processes.models import (
    ChainAssignment,
    Decision,
    Nomination,
    OrganisationUnit,
    Procedure,
    Role,
    Stage,
    UnitKind,
)
from tests.factories import (
    AwardFormFactory,
    NomineeFactory,
    UnitFactory,
    UserFactory,
    approve_until,
    attach_file,
    close_voting,
    hold_session,
    holders,
    link,
    make_nomination,
    member,
    open_step,
    run_out,
    submitted,
)
from workflow.approvals import current_process, decisions_for, inbox, next_position, open_tasks
from workflow.audit import audit_entries_for
from workflow.errors import ActionNotAllowed, StepClosed
from workflow.models import (
    ApprovalTask,
    ProcessTemplate,
    StepKind,
    TemplateImmutable,
    TemplateVersion,
    VoteItem,
)
from workflow.process_templates import template_draft, template_publish

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
ROOT = Path(__file__).resolve().parents[2]
SIGNED = {"decision_number": "15/QĐ-UBND", "signed_on": date(2026, 11, 20)}
DECISION_ACTIONS = {
    f"processes.nomination.{verb}" for verb in ("step_approved", "returned", "rejected", "awarded", "sent_back")
}


def local(*args) -> datetime:
    return datetime(*args, tzinfo=HCM)


def end_of(day: date) -> datetime:
    return datetime.combine(day, time.max, tzinfo=HCM)


@pytest.fixture
def clock(monkeypatch):
    """Set the time every ``timezone.now()``/``localdate()`` call sees (no freezing library installed)."""

    def set_to(moment: datetime):
        monkeypatch.setattr(timezone, "now", lambda: moment)

    return set_to


def council_form(org, **fields):
    """A city form whose cases go to the council's vote (council_vote=True) on city_regular."""
    form = AwardFormFactory(code="CSTD_TP", council_vote=True, **fields)
    ChainAssignment.objects.create(
        award_form=form, procedure="", template=ProcessTemplate.objects.get(code="city_regular")
    )
    return form


def inbox_of(user) -> list[ApprovalTask]:
    """The open tasks in ``user``'s inbox (read as their candidate rows), soonest due first."""
    return [candidate.approval_task for candidate in inbox(user)]


def tasks_of(nomination) -> list[ApprovalTask]:
    return list(ApprovalTask.objects.filter(process=current_process(nomination)).order_by("pk"))


def history(nomination) -> list[tuple]:
    """Every pass of the case: (step, who held it, who decided (None: a council session), what)."""
    return [
        (
            task.step.code,
            [user.username for user in holders(task)],
            task.decided_by.username if task.decided_by else None,
            task.action,
        )
        for task in tasks_of(nomination)
    ]


def walk(nomination, route) -> Nomination:
    """Approve the open steps in order, asserting each step's code; ``route`` is (step, decider).
    The last step of the chain is approved with the signed decision."""
    for code, user in route:
        task = open_step(nomination)
        assert task is not None, f"no open step where {code} was expected"
        assert task.step.code == code
        extra = SIGNED if next_position(task.process, task.step.position) is None else {}
        nomination = services.nomination_decide(task_id=task.pk, by=user, action="approve", **extra)
    return nomination


def assert_finished(nomination, *, signer, on_behalf: bool):
    nomination = Nomination.objects.get(pk=nomination.pk)
    assert nomination.stage == Stage.REPLICATE
    decision = Decision.objects.get(nomination=nomination)
    assert (decision.number, decision.signed_on) == (SIGNED["decision_number"], SIGNED["signed_on"])
    assert (decision.signer, decision.on_behalf) == (signer, on_behalf)
    process = current_process(nomination)
    assert process.status == STATUS.DONE
    assert process.finished is not None
    assert not open_tasks(process=process).exists()
    assert not process.task_set.filter(status__in=[STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED]).exists()


# --- every demo chain end to end ------------------------------------------------------------------


def test_city_regular_without_council_vote_skips_the_council_and_the_vice_chairman_signs_on_behalf(org):
    nomination = submitted(org)
    assert current_process(nomination).version.template.code == "city_regular"
    done = walk(
        nomination,
        [
            ("unit_confirm", org.hospital_head),
            ("proposer_submit", org.director),
            ("board_intake", org.board_officer),
            ("board_appraisal", org.board_officer),
            ("chairman_decision", org.vice_chairman),
        ],
    )
    assert history(done) == [
        ("unit_confirm", ["hospital_head"], "hospital_head", "approve"),
        ("proposer_submit", ["director"], "director", "approve"),
        ("board_intake", ["board_officer"], "board_officer", "approve"),
        ("board_appraisal", ["board_officer"], "board_officer", "approve"),
        ("chairman_decision", ["chairman", "vice_chairman"], "vice_chairman", "approve"),
    ]
    assert_finished(done, signer=org.vice_chairman, on_behalf=True)


def test_city_regular_with_council_vote_goes_through_a_council_session_before_the_chairman(org):
    nomination = submitted(org, award_form=council_form(org))
    nomination = walk(
        nomination,
        [
            ("unit_confirm", org.hospital_head),
            ("proposer_submit", org.director),
            ("board_intake", org.board_officer),
            ("board_appraisal", org.board_officer),
        ],
    )
    task = open_step(nomination)
    assert (task.step.code, task.step.kind, task.unit_id) == ("council_review", StepKind.VOTE, org.council.pk)
    assert holders(task) == [org.council_member]
    assert decisions_for(task.step) == []
    for person in (org.council_member, org.admin):  # nobody decides a vote step by hand
        with pytest.raises(ActionNotAllowed):
            services.nomination_decide(task_id=task.pk, by=person, action="approve")
    assert open_step(nomination).pk == task.pk

    session = hold_session(task, choice="yes")

    session.refresh_from_db()
    item = session.items.get()
    assert session.is_closed
    assert (item.approval_task_id, item.yes, item.no, item.abstain, item.outcome) == (
        task.pk,
        1,
        0,
        0,
        VoteItem.Outcome.PASSED,
    )
    done = walk(nomination, [("chairman_decision", org.chairman)])
    assert history(done) == [
        ("unit_confirm", ["hospital_head"], "hospital_head", "approve"),
        ("proposer_submit", ["director"], "director", "approve"),
        ("board_intake", ["board_officer"], "board_officer", "approve"),
        ("board_appraisal", ["board_officer"], "board_officer", "approve"),
        ("council_review", ["council_member"], None, "approve"),
        ("chairman_decision", ["chairman", "vice_chairman"], "chairman", "approve"),
    ]
    passed = audit_entries_for(done).get(action="processes.nomination.step_approved", data__step="council_review")
    assert (passed.actor, passed.data["session"], passed.data["outcome"]) == (None, session.pk, "passed")
    assert_finished(done, signer=org.chairman, on_behalf=False)


def test_an_ad_hoc_case_goes_from_discover_through_the_simplified_chain(org):
    nomination = submitted(org, procedure=Procedure.AD_HOC)
    actions = [entry.action for entry in audit_entries_for(nomination)]
    assert "processes.nomination.submitted_simplified" in actions
    assert "processes.nomination.cultivation_started" not in actions
    assert current_process(nomination).version.template.code == "city_simplified"
    done = walk(
        nomination,
        [
            ("unit_propose", org.hospital_head),
            ("board_appraisal", org.board_officer),
            ("chairman_decision", org.chairman),
        ],
    )
    assert history(done) == [
        ("unit_propose", ["hospital_head"], "hospital_head", "approve"),
        ("board_appraisal", ["board_officer"], "board_officer", "approve"),
        ("chairman_decision", ["chairman", "vice_chairman"], "chairman", "approve"),
    ]
    assert_finished(done, signer=org.chairman, on_behalf=False)


def test_a_unit_level_case_is_confirmed_voted_on_by_the_departments_council_and_decided_by_its_director(org):
    nomination = submitted(org, award_form=org.unit_form)
    assert current_process(nomination).version.template.code == "unit_level"
    nomination = walk(nomination, [("unit_confirm", org.hospital_head)])
    task = open_step(nomination)
    assert (task.step.code, task.step.kind, task.unit_id) == ("level_council", StepKind.VOTE, org.department.pk)
    assert holders(task) == [org.director, org.department_secretary]
    assert decisions_for(task.step) == []
    # The department's head, deputy or secretary convenes its council, or the Board; nobody else.
    assert [services.may_open_session(user, task.unit_id) for user in (org.director, org.board_officer)] == [True] * 2
    for user in (org.hospital_head, org.hospital_secretary, org.ward_head, org.council_member, org.outsider):
        assert not services.may_open_session(user, task.unit_id), user
        with pytest.raises(errors.PermissionDenied):
            hold_session(task, by=user)

    session = hold_session(task, choice="yes", by=org.department_secretary)

    assert session.opened_by == org.department_secretary
    assert (session.council_unit_id, session.member_count) == (org.department.pk, 2)
    assert session.items.get().outcome == VoteItem.Outcome.PASSED
    done = walk(nomination, [("level_decision", org.director)])
    assert history(done) == [
        ("unit_confirm", ["hospital_head"], "hospital_head", "approve"),
        ("level_council", ["director", "department_secretary"], None, "approve"),
        ("level_decision", ["director"], "director", "approve"),
    ]
    assert_finished(done, signer=org.director, on_behalf=False)


# --- return and resubmit --------------------------------------------------------------------------


def test_a_case_returned_twice_resumes_each_time_at_the_returning_step_and_keeps_every_pass(org):
    nomination = submitted(org)
    for step in ("board_intake", "board_appraisal"):
        nomination = approve_until(nomination, step)
        returned = open_step(nomination)
        nomination = services.nomination_decide(
            task_id=returned.pk, by=org.board_officer, action="return", comment="Thiếu biên bản họp"
        )
        assert nomination.stage == Stage.RETURNED
        assert open_step(nomination) is None
        nomination = services.nomination_resubmit(nomination=nomination, by=org.hospital_secretary)
        assert nomination.stage == Stage.SUMMARISE
        resumed = open_step(nomination)
        assert resumed.step.code == step
        assert resumed.pk != returned.pk
        assert holders(resumed) == [org.board_officer]
    nomination = approve_until(nomination)
    done = services.nomination_decide(task_id=open_step(nomination).pk, by=org.chairman, action="approve", **SIGNED)

    assert [(code, action) for code, _, _, action in history(done)] == [
        ("unit_confirm", "approve"),
        ("proposer_submit", "approve"),
        ("board_intake", "return"),
        ("board_intake", "approve"),
        ("board_appraisal", "return"),
        ("board_appraisal", "approve"),
        ("chairman_decision", "approve"),
    ]
    entries = audit_entries_for(done)
    returns = entries.filter(action="processes.nomination.returned")
    assert [(entry.actor, entry.data["step"]) for entry in returns] == [
        (org.board_officer, "board_intake"),
        (org.board_officer, "board_appraisal"),
    ]
    resubmits = entries.filter(action="processes.nomination.resubmitted")
    assert [entry.actor for entry in resubmits] == [org.hospital_secretary, org.hospital_secretary]
    assert_finished(done, signer=org.chairman, on_behalf=False)


# --- reject at every level ------------------------------------------------------------------------

#: (chain, step) for every decision or posting step of the demo chains whose actions include reject.
REJECTABLE = [
    ("city_regular", "unit_confirm"),
    ("city_regular", "proposer_submit"),
    ("city_regular", "board_appraisal"),
    ("city_regular", "public_posting"),
    ("city_regular", "chairman_decision"),
    ("city_simplified", "unit_propose"),
    ("city_simplified", "board_appraisal"),
    ("city_simplified", "chairman_decision"),
    ("unit_level", "unit_confirm"),
    ("unit_level", "level_decision"),
]
#: Every vote step: a council voting against ("not passed") rejects the case.
VOTE_STEPS = [
    ("city_regular", "council_review"),
    ("unit_level", "level_council"),
]


def start_chain(org, chain: str) -> Nomination:
    if chain == "city_regular":  # every optional step: the public posting and the council
        return submitted(org, award_form=council_form(org, public_posting_working_days=10))
    if chain == "city_simplified":
        return submitted(org, procedure=Procedure.AD_HOC)
    return submitted(org, award_form=org.unit_form)


def reach(org, chain: str, step: str) -> tuple[Nomination, ApprovalTask]:
    """The case approved up to ``step``; a posting step is reached at the Board's task an objection
    brings once the window has run out."""
    nomination = approve_until(start_chain(org, chain), step)
    task = open_step(nomination)
    if task.step.kind == StepKind.POSTING:
        services.objection_record(
            nomination=nomination, by=org.board_officer, author="Nguyễn Thị Hoa", content="Thành tích chưa đúng"
        )
        run_out(task)
        task = open_step(nomination)
        assert (task.step.code, holders(task)) == (step, [org.board_officer])
    assert (task.process.version.template.code, task.step.code) == (chain, step)
    return nomination, task


def test_the_rejection_cases_cover_every_step_that_allows_reject(org):
    in_force = [
        template.versions.filter(status=TemplateVersion.Status.PUBLISHED).order_by("-number").first()
        for template in ProcessTemplate.objects.all()
    ]
    steps = [(version.template.code, step) for version in in_force for step in version.steps.all()]
    rejectable = {
        (chain, step.code) for chain, step in steps if step.kind != StepKind.VOTE and "reject" in step.actions
    }
    assert rejectable == set(REJECTABLE)
    assert all("reject" in decisions_for(step) for chain, step in steps if (chain, step.code) in rejectable)
    votes = [(chain, step) for chain, step in steps if step.kind == StepKind.VOTE]
    assert {(chain, step.code) for chain, step in votes} == set(VOTE_STEPS)
    assert [decisions_for(step) for _chain, step in votes] == [[]] * len(votes)


def assert_rejected_and_ended(nomination, *, step: str, task: ApprovalTask, decider):
    nomination = Nomination.objects.get(pk=nomination.pk)
    assert nomination.stage == Stage.REJECTED
    process = current_process(nomination)
    assert process.status == STATUS.DONE
    assert process.finished is not None
    assert open_step(nomination) is None
    assert not ApprovalTask.objects.filter(process=process, closed_at__isnull=True).exists()
    assert not process.task_set.filter(status__in=[STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED]).exists()
    assert not process.task_set.filter(status=STATUS.SCHEDULED).exists()
    who = decider.username if decider else None
    assert history(nomination)[-1] == (step, [user.username for user in holders(task)], who, "reject")
    assert not Decision.objects.filter(nomination=nomination).exists()
    rejections = audit_entries_for(nomination).filter(action="processes.nomination.rejected")
    assert [(entry.actor, entry.data["step"]) for entry in rejections] == [(decider, step)]
    return rejections.get()


@pytest.mark.parametrize(("chain", "step"), REJECTABLE)
def test_a_rejection_at_any_step_rejects_the_nomination_and_ends_the_process(org, chain, step):
    nomination, task = reach(org, chain, step)
    decider = holders(task)[0]

    services.nomination_decide(task_id=task.pk, by=decider, action="reject", comment="Không đạt tiêu chuẩn")

    assert_rejected_and_ended(nomination, step=step, task=task, decider=decider)


@pytest.mark.parametrize(("chain", "step"), VOTE_STEPS)
def test_a_council_voting_against_at_any_vote_step_rejects_the_nomination_and_ends_the_process(org, chain, step):
    nomination, task = reach(org, chain, step)

    session = hold_session(task, choice="no")

    rejection = assert_rejected_and_ended(nomination, step=step, task=task, decider=None)
    item = session.items.get()
    assert (item.yes, item.no, item.outcome) == (0, len(holders(task)), VoteItem.Outcome.FAILED)
    assert (rejection.data["session"], rejection.data["outcome"]) == (session.pk, "failed")


# --- template versions --------------------------------------------------------------------------


def route_to_the_end(nomination) -> list[str]:
    """Approve every step by its first holder to the decision; the codes of the steps taken."""
    nomination = approve_until(nomination)
    task = open_step(nomination)
    services.nomination_decide(task_id=task.pk, by=holders(task)[0], action="approve", **SIGNED)
    return [code for code, *_ in history(nomination)]


def test_a_version_published_mid_case_leaves_the_running_case_on_its_version_and_route(org):
    running = submitted(org)
    running = services.nomination_decide(task_id=open_step(running).pk, by=org.hospital_head, action="approve")
    old_version = current_process(running).version
    template = ProcessTemplate.objects.get(code="city_regular")
    draft = template_draft(template=template, by=org.admin)
    draft.steps.get(code="board_intake").delete()  # the Board appraises without a separate intake
    new_version = template_publish(version=draft, by=org.admin, effective_from=timezone.localdate())

    started_later = submitted(org)

    assert current_process(running).version == old_version
    assert current_process(started_later).version == new_version
    assert new_version.number == old_version.number + 1
    assert route_to_the_end(running) == [
        "unit_confirm",
        "proposer_submit",
        "board_intake",
        "board_appraisal",
        "chairman_decision",
    ]
    assert route_to_the_end(started_later) == [
        "unit_confirm",
        "proposer_submit",
        "board_appraisal",
        "chairman_decision",
    ]


def test_a_template_version_with_running_processes_cannot_be_deleted(org):
    process = current_process(submitted(org))
    version = process.version
    with pytest.raises(ProtectedError) as refused:
        TemplateVersion.objects.filter(pk=version.pk).delete()
    assert process in refused.value.protected_objects
    with pytest.raises((ProtectedError, TemplateImmutable)):
        version.delete()
    assert TemplateVersion.objects.filter(pk=version.pk).exists()
    assert current_process(Nomination.objects.get(pk=process.subject_id)).version == version


# --- reorganisation -----------------------------------------------------------------------------

REORGANISED = date(2026, 3, 1)


@dataclass
class Reorganisation:
    """A school under the district until 1/3/2026, then under a new commune directly under the city."""

    commune: OrganisationUnit
    commune_head: object
    school: OrganisationUnit
    school_head: object
    school_secretary: object


@pytest.fixture
def reorganisation(org):
    commune = UnitFactory(code="HP.XAH", name="Xã An Hòa", kind=UnitKind.COMMUNE)
    link(commune, org.city, valid_from=REORGANISED)
    commune_head = UserFactory(username="commune_head")
    member(commune_head, commune, Role.HEAD, valid_from=REORGANISED)
    school = UnitFactory(code="HP.LC.THAH", name="Trường Tiểu học An Hòa", kind=UnitKind.UNIT)
    link(school, org.district, valid_from=date(2020, 1, 1), valid_to=REORGANISED)
    link(school, commune, valid_from=REORGANISED)
    school_head = UserFactory(username="school_head")
    member(school_head, school, Role.HEAD)
    school_secretary = UserFactory(username="school_secretary")
    member(school_secretary, school, Role.SECRETARY)
    return Reorganisation(commune, commune_head, school, school_head, school_secretary)


def submit_at_school(org, reorganisation, clock, moment, *, award_form=None) -> Nomination:
    clock(moment)
    school = reorganisation.school
    nomination = make_nomination(org, unit=school, nominee=NomineeFactory(unit=school), award_form=award_form)
    attach_file(nomination, org.report_type, user=reorganisation.school_secretary)
    nomination = services.nomination_start_cultivation(nomination=nomination, by=reorganisation.school_head)
    return services.nomination_submit(nomination=nomination, by=reorganisation.school_secretary)


def test_cases_started_before_and_after_a_reorganisation_take_different_routes(org, clock, reorganisation):
    earlier = submit_at_school(org, reorganisation, clock, local(2026, 2, 27, 9))
    later = submit_at_school(org, reorganisation, clock, local(2026, 3, 2, 9))
    # The earlier case's second step is made after the reorganisation, still on the tree it started on.
    for nomination in (earlier, later):
        task = open_step(nomination)
        assert (task.step.code, holders(task)) == ("unit_confirm", [reorganisation.school_head])
        services.nomination_decide(task_id=task.pk, by=reorganisation.school_head, action="approve")

    assert current_process(earlier).structure_on == date(2026, 2, 27)
    assert current_process(later).structure_on == date(2026, 3, 2)
    assert current_process(earlier).version == current_process(later).version
    before, after = open_step(earlier), open_step(later)
    assert (before.step.code, before.unit_id, holders(before)) == (
        "proposer_submit",
        org.district.pk,
        [org.district_chairman],
    )
    assert (after.step.code, after.unit_id, holders(after)) == (
        "proposer_submit",
        reorganisation.commune.pk,
        [reorganisation.commune_head],
    )


def test_a_unit_level_case_started_before_a_reorganisation_is_signed_by_the_old_levels_head_in_person(
    org, clock, reorganisation
):
    nomination = submit_at_school(org, reorganisation, clock, local(2026, 2, 27, 9), award_form=org.unit_form)
    clock(local(2026, 3, 5, 9))
    nomination = approve_until(nomination, "level_decision")
    task = open_step(nomination)
    assert (task.unit_id, holders(task), task.on_behalf_of) == (org.district.pk, [org.district_chairman], None)

    done = services.nomination_decide(
        task_id=task.pk,
        by=org.district_chairman,
        action="approve",
        decision_number="7/QĐ-UBND",
        signed_on=date(2026, 3, 5),
    )

    decision = Decision.objects.get(nomination=done)
    assert (decision.signer, decision.on_behalf) == (org.district_chairman, False)


# --- who may decide -----------------------------------------------------------------------------


def test_a_head_who_is_the_nominee_cannot_confirm_and_the_deputy_does_on_the_heads_behalf(org):
    nomination = make_nomination(org, nominee=NomineeFactory(unit=org.hospital, user=org.hospital_head))
    attach_file(nomination, org.report_type, user=org.hospital_secretary)
    nomination = services.nomination_start_cultivation(nomination=nomination, by=org.hospital_deputy)
    nomination = services.nomination_submit(nomination=nomination, by=org.hospital_secretary)

    task = open_step(nomination)
    assert task.step.code == "unit_confirm"
    assert (task.assignee, task.on_behalf_of, holders(task)) == (
        org.hospital_deputy,
        org.hospital_head,
        [org.hospital_deputy],
    )
    with pytest.raises(errors.PermissionDenied):
        services.nomination_decide(task_id=task.pk, by=org.hospital_head, action="approve")
    assert open_step(nomination).pk == task.pk

    services.nomination_decide(task_id=task.pk, by=org.hospital_deputy, action="approve")
    confirmed = audit_entries_for(nomination).get(action="processes.nomination.step_approved")
    assert (confirmed.actor, confirmed.data["on_behalf_of"]) == (org.hospital_deputy, "hospital_head")
    assert open_step(nomination).step.code == "proposer_submit"


def test_a_delegation_in_force_sends_the_step_to_the_delegate_on_the_heads_behalf_and_is_audited(org):
    today = timezone.localdate()
    delegation = services.delegation_create(
        by=org.hospital_head,
        delegator=org.hospital_head,
        delegate=org.hospital_deputy,
        unit=org.hospital,
        valid_from=today - timedelta(days=1),
        valid_to=today + timedelta(days=14),
        reason="Đi công tác",
    )
    created = audit_entries_for(delegation).get()
    assert (created.action, created.actor) == ("processes.delegation.created", org.hospital_head)
    assert (created.data["delegator"], created.data["delegate"]) == ("hospital_head", "hospital_deputy")

    task = open_step(submitted(org))
    assert (task.step.code, task.assignee, task.on_behalf_of) == (
        "unit_confirm",
        org.hospital_deputy,
        org.hospital_head,
    )
    assert holders(task) == [org.hospital_deputy]
    assert f"delegation #{delegation.pk}" in task.assignment_note
    with pytest.raises(errors.PermissionDenied):
        services.nomination_decide(task_id=task.pk, by=org.hospital_head, action="approve")
    nomination = services.nomination_decide(task_id=task.pk, by=org.hospital_deputy, action="approve")
    confirmed = audit_entries_for(nomination).get(action="processes.nomination.step_approved")
    assert (confirmed.actor, confirmed.data["on_behalf_of"]) == (org.hospital_deputy, "hospital_head")


def test_a_step_is_reassigned_only_by_a_secretary_of_its_level_to_an_eligible_user_and_audited(org):
    nomination = submitted(org)
    task = open_step(nomination)
    assert holders(task) == [org.hospital_head]

    with pytest.raises(errors.PermissionDenied):
        services.step_reassign(task_id=task.pk, to=org.hospital_deputy, by=org.outsider, reason="Nghỉ ốm")
    with pytest.raises(errors.DomainError, match="cannot take this step"):
        services.step_reassign(task_id=task.pk, to=org.hospital_member, by=org.hospital_secretary, reason="Nghỉ ốm")
    assert holders(open_step(nomination)) == [org.hospital_head]
    assert not audit_entries_for(nomination).filter(action="processes.nomination.step_reassigned").exists()

    services.step_reassign(task_id=task.pk, to=org.hospital_deputy, by=org.hospital_secretary, reason="Nghỉ ốm")

    task = open_step(nomination)
    assert (task.assignee, holders(task)) == (org.hospital_deputy, [org.hospital_deputy])
    reassigned = audit_entries_for(nomination).get(action="processes.nomination.step_reassigned")
    assert (reassigned.actor, reassigned.comment) == (org.hospital_secretary, "Nghỉ ốm")
    assert (reassigned.data["from"], reassigned.data["to"]) == (["hospital_head"], "hospital_deputy")
    with pytest.raises(errors.PermissionDenied):
        services.nomination_decide(task_id=task.pk, by=org.hospital_head, action="approve")
    services.nomination_decide(task_id=task.pk, by=org.hospital_deputy, action="approve")
    assert ApprovalTask.objects.get(pk=task.pk).decided_by == org.hospital_deputy
    assert open_step(nomination).step.code == "proposer_submit"


# --- deadlines ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("opened", "due"),
    [
        # 01:00 on Fri 13/2 locally (still the 12th in UTC); off: 14-15 weekend, 16-20 Tết, 21-22
        # weekend; working days 23, 24, 25, 26, 27/2.
        pytest.param(datetime(2026, 2, 12, 18, tzinfo=UTC), date(2026, 2, 27), id="across-tet"),
        # Wed 19/8: 20, 21, Sat 22 (made up), 24, 25/8.
        pytest.param(local(2026, 8, 19, 14), date(2026, 8, 25), id="make-up-saturday"),
        # Wed 26/8: 27, 28; off 29-30 weekend, Mon 31/8 (paid for 22/8), 1-2/9 National Day; 3, 4, 7/9.
        pytest.param(local(2026, 8, 26, 10), date(2026, 9, 7), id="paid-back-monday-and-national-day"),
    ],
)
def test_a_five_working_day_step_is_due_at_the_end_of_the_fifth_working_day(org, clock, opened, due):
    clock(opened)
    task = open_step(submitted(org))
    assert (task.step.code, task.step.deadline_working_days) == ("unit_confirm", 5)
    assert task.opened_at == opened
    assert task.due_at == end_of(due)
    assert [candidate.due_at for candidate in task.candidates.all()] == [end_of(due)]


def test_each_open_step_shows_its_step_holders_and_due_time(org, clock):
    clock(local(2026, 3, 2, 9))  # Monday
    nomination = approve_until(submitted(org), "board_intake")
    process = current_process(nomination)
    (task,) = open_tasks(process=process)
    assert (task.step.code, task.assignee, task.on_behalf_of) == ("board_intake", org.board_officer, None)
    assert [candidate.user for candidate in task.candidates.all()] == [org.board_officer]
    assert task.due_at == end_of(date(2026, 3, 5))  # three working days
    assert inbox_of(org.board_officer) == [task]

    nomination = approve_until(nomination)
    (task,) = open_tasks(process=process)
    assert (task.step.code, task.assignee) == ("chairman_decision", None)  # a group: any of them signs
    assert [candidate.user for candidate in task.candidates.all()] == [org.chairman, org.vice_chairman]
    assert task.due_at == end_of(date(2026, 3, 9))  # five working days
    assert inbox_of(org.chairman) == inbox_of(org.vice_chairman) == [task]
    assert inbox_of(org.board_officer) == []


def council_session(org, cases, *, choices=None):
    """One session for the council steps of ``cases``; the council's one member votes ``choices``
    (a choice per case), or nobody votes and the closing time passes."""
    tasks = [open_step(case) for case in cases]
    assert [task.step.code for task in tasks] == ["council_review"] * len(cases)
    session = services.council_session_open(
        by=org.board_officer, title="Phiên họp", tasks=tasks, closes_at=timezone.now() + timedelta(days=3)
    )
    if choices is None:
        assert close_voting(session) == 1
    else:
        items = {item.approval_task_id: item.pk for item in session.items.all()}
        services.council_vote(
            session_id=session.pk,
            by=org.council_member,
            choices={items[task.pk]: choice for task, choice in zip(tasks, choices, strict=True)},
        )
    session.refresh_from_db()
    assert session.is_closed
    return session


def test_the_audit_log_has_exactly_one_entry_per_decision_and_per_case_a_session_decides(org):
    form = council_form(org)
    nomination = approve_until(submitted(org, award_form=form), "board_intake")
    nomination = services.nomination_decide(
        task_id=open_step(nomination).pk, by=org.board_officer, action="return", comment="Bổ sung hồ sơ"
    )
    nomination = services.nomination_resubmit(nomination=nomination, by=org.hospital_secretary)
    nomination = approve_until(nomination, "council_review")
    voted_down = approve_until(submitted(org, award_form=form), "council_review")
    # Nobody votes: no quorum sends both back to the Board's appraisal; then one passes, one fails.
    council_session(org, [nomination, voted_down])
    for case in (nomination, voted_down):
        approve_until(case, "council_review")
    council_session(org, [nomination, voted_down], choices=["yes", "no"])
    route_to_the_end(nomination)
    other = approve_until(submitted(org), "board_appraisal")
    services.nomination_decide(task_id=open_step(other).pk, by=org.board_officer, action="reject", comment="Không đạt")

    for case in (nomination, voted_down, other):
        decided = [task for task in tasks_of(case) if task.action]
        entries = [entry for entry in audit_entries_for(case) if entry.action in DECISION_ACTIONS]
        assert len(entries) == len(decided)
        assert sorted(entry.data["task"] for entry in entries) == sorted(task.pk for task in decided)
        by_task = {entry.data["task"]: entry for entry in entries}
        for task in decided:
            assert (by_task[task.pk].actor, by_task[task.pk].data["step"]) == (task.decided_by, task.step.code)
    # unit_confirm, proposer_submit, board_intake twice, then board_appraisal and council_review twice each
    assert [code for code, *_ in history(nomination)].count("council_review") == 2
    assert len(tasks_of(nomination)) == 9
    for case, last in ((nomination, "step_approved"), (voted_down, "rejected")):
        by_session = [
            (entry.action, entry.actor, entry.data["outcome"])
            for entry in audit_entries_for(case)
            if entry.data.get("step") == "council_review" and entry.action in DECISION_ACTIONS
        ]
        assert by_session == [
            ("processes.nomination.sent_back", None, "no_quorum"),
            (f"processes.nomination.{last}", None, "passed" if last == "step_approved" else "failed"),
        ]
    assert Nomination.objects.get(pk=voted_down.pk).stage == Stage.REJECTED


# --- closed and forged task ids -------------------------------------------------------------------


def test_deciding_a_closed_step_says_who_decided_it_and_when(org):
    nomination = submitted(org)
    task = open_step(nomination)
    services.nomination_decide(task_id=task.pk, by=org.hospital_head, action="approve")
    closed = ApprovalTask.objects.get(pk=task.pk)

    with pytest.raises(StepClosed) as refused:
        services.nomination_decide(task_id=task.pk, by=org.admin, action="reject", comment="Giả mạo")

    when = timezone.localtime(closed.closed_at).strftime("%H:%M %d/%m/%Y")
    assert f"already decided by {org.hospital_head.get_full_name()} at {when}" in str(refused.value)
    assert Nomination.objects.get(pk=nomination.pk).stage == Stage.SUMMARISE
    assert open_step(nomination).step.code == "proposer_submit"


def test_deciding_the_step_of_a_withdrawn_case_is_refused_as_no_longer_open(org):
    nomination = approve_until(submitted(org), "board_appraisal")
    task = open_step(nomination)
    services.nomination_withdraw(nomination=nomination, by=org.hospital_head, reason="Rút hồ sơ")

    with pytest.raises(StepClosed, match="no longer open"):
        services.nomination_decide(task_id=task.pk, by=org.board_officer, action="approve")
    assert current_process(nomination).status == STATUS.CANCELED
    assert Nomination.objects.get(pk=nomination.pk).stage == Stage.WITHDRAWN


def test_a_task_id_that_does_not_exist_is_a_domain_error_for_deciding_and_reassigning(org):
    submitted(org)
    missing = ApprovalTask.objects.order_by("-pk").values_list("pk", flat=True).first() + 1000
    with pytest.raises(errors.DomainError, match="does not exist"):
        services.nomination_decide(task_id=missing, by=org.admin, action="approve")
    with pytest.raises(errors.DomainError, match="does not exist"):
        services.step_reassign(task_id=missing, to=org.hospital_deputy, by=org.admin, reason="Nghỉ ốm")


# --- concurrency (PostgreSQL) ---------------------------------------------------------------------

DECIDER = """
import json, sys
import django
django.setup()
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import translation
from processes import services
from workflow.errors import WorkflowError

user = get_user_model().objects.get(pk=int(sys.argv[2]))
print("ready", flush=True)
sys.stdin.readline()
with translation.override("en"):
    try:
        services.nomination_decide(task_id=int(sys.argv[1]), by=user, action="approve")
        outcome = {"outcome": "ok"}
    except WorkflowError as exc:
        outcome = {"outcome": f"{type(exc).__module__}.{type(exc).__name__}", "message": str(exc)}
connection.close()
print(json.dumps(outcome), flush=True)
"""


def child_database_url() -> str:
    """The test database, for processes started outside pytest."""
    database = settings.DATABASES["default"]
    credentials = quote(database["USER"], safe="")
    if database.get("PASSWORD"):
        credentials += ":" + quote(database["PASSWORD"], safe="")
    port = f":{database['PORT']}" if database.get("PORT") else ""
    return f"postgres://{credentials}@{database['HOST'] or 'localhost'}{port}/{database['NAME']}"


@pytest.mark.postgres
def test_twenty_processes_deciding_one_step_at_once_record_exactly_one_decision(org):
    officers = [org.board_officer]
    for n in range(19):
        officer = UserFactory(username=f"board_officer_{n}")
        member(officer, org.board, Role.MEMBER)
        officers.append(officer)
    nomination = approve_until(submitted(org), "board_intake")
    task = open_step(nomination)
    assert len(holders(task)) == 20
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "DATABASE_URL": child_database_url()}
    deciders = [
        subprocess.Popen(
            [sys.executable, "-c", DECIDER, str(task.pk), str(officer.pk)],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for officer in officers
    ]
    watchdog = threading.Timer(180, lambda: [decider.kill() for decider in deciders])  # a hung child
    watchdog.start()
    try:
        for decider in deciders:
            assert decider.stdout.readline().strip() == "ready", decider.stderr.read()
        for decider in deciders:  # all are connected and waiting: let them go together
            decider.stdin.write("go\n")
            decider.stdin.flush()
        outcomes = []
        for decider in deciders:
            out, err = decider.communicate(timeout=120)
            assert decider.returncode == 0, err
            outcomes.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        watchdog.cancel()
        for decider in deciders:
            if decider.poll() is None:
                decider.kill()

    decided = ApprovalTask.objects.select_related("decided_by").get(pk=task.pk)
    winner = decided.decided_by.get_full_name() or decided.decided_by.get_username()
    when = timezone.localtime(decided.closed_at).strftime("%H:%M %d/%m/%Y")
    assert sorted(outcome["outcome"] for outcome in outcomes) == ["ok"] + ["workflow.errors.StepClosed"] * 19
    for outcome in outcomes:
        if outcome["outcome"] != "ok":
            assert f"already decided by {winner} at {when}" in outcome["message"]
    assert (decided.action, decided.decided_by in officers) == ("approve", True)
    (following,) = open_tasks(process=current_process(nomination))
    assert following.step.code == "board_appraisal"
    approvals = audit_entries_for(nomination).filter(
        action="processes.nomination.step_approved", data__step="board_intake"
    )
    assert [entry.actor for entry in approvals] == [decided.decided_by]
    assert Nomination.objects.get(pk=nomination.pk).stage == Stage.SUMMARISE
