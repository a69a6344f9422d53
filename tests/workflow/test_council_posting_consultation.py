"""Council sessions (secret ballot, quorum and threshold, the closing time, who convenes), public
posting windows (their timer, objections cleared or upheld by the Board) and consultation of other
agencies during the Board's appraisal, through the services as the screens call them.

The concurrency tests run on PostgreSQL (``@pytest.mark.postgres``); they interleave transactions
deterministically by waiting until one connection is blocked on a lock held by another.
"""

import json
import threading
import time as time_module
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, transaction
from django.utils import timezone, translation
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS
from viewflow.workflow.timers import fire_due_timers

from processes import errors, services
from processes.models import ChainAssignment, Consultation, Nomination, Objection, Role, Stage, UnitKind
from tests.factories import (
    AwardFormFactory,
    UnitFactory,
    UserFactory,
    approve_until,
    close_voting,
    holders,
    link,
    member,
    open_step,
    run_out,
    submitted,
)
from workflow.approvals import current_process, decisions_for
from workflow.audit import audit_entries_for
from workflow.errors import StepClosed, WorkflowError
from workflow.flows import ApprovalFlow, CouncilFlow
from workflow.models import (
    ApprovalTask,
    Ballot,
    BallotReceipt,
    ProcessTemplate,
    SealedBallot,
    StepKind,
    VoteItem,
    VoteSession,
)
from workflow.tasks import fire_timers
from workflow.voting import VoteError, awaiting_council

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
PASSED, FAILED, NO_QUORUM = VoteItem.Outcome.PASSED, VoteItem.Outcome.FAILED, VoteItem.Outcome.NO_QUORUM


def local(*args) -> datetime:
    return datetime(*args, tzinfo=HCM)


def end_of(day: date) -> datetime:
    return datetime.combine(day, time.max, tzinfo=HCM)


#: Monday 2/3/2026, 9:00. March 2026 has no public holiday: its working days are Monday to Friday.
MONDAY = local(2026, 3, 2, 9)


@pytest.fixture
def clock(monkeypatch):
    """Set the time every ``timezone.now()``/``localdate()`` call sees (no freezing library installed)."""

    def set_to(moment: datetime):
        monkeypatch.setattr(timezone, "now", lambda: moment)

    return set_to


def city_form(org, *, council_vote=True, posting_days=0, **rules):
    """A city form on city_regular; ``rules``: its council_* settings."""
    form = AwardFormFactory(
        code="CSTD_TP", council_vote=council_vote, public_posting_working_days=posting_days, **rules
    )
    ChainAssignment.objects.create(
        award_form=form, procedure="", template=ProcessTemplate.objects.get(code="city_regular")
    )
    return form


# --- council sessions ------------------------------------------------------------------------------


def at_council(org, **rules) -> tuple[Nomination, ApprovalTask]:
    """A case at council_review of a council of seven (six members join the org's one before the case
    reaches the vote: the step's holders, its voters, are resolved when its task is made)."""
    for n in range(2, 8):
        member(UserFactory(username=f"council_member_{n}"), org.council, Role.MEMBER)
    nomination = approve_until(submitted(org, award_form=city_form(org, **rules)), "council_review")
    task = open_step(nomination)
    assert (task.step.code, task.step.kind, task.unit_id) == ("council_review", StepKind.VOTE, org.council.pk)
    assert len(holders(task)) == 7
    return nomination, task


def session_for(org, task, *, by=None, closes_at=None) -> VoteSession:
    return services.council_session_open(
        by=by or org.board_officer,
        title="Phiên họp Hội đồng tháng 3",
        tasks=[task],
        closes_at=closes_at or timezone.now() + timedelta(days=3),
    )


def vote(session, voters, choices) -> None:
    item = session.items.get()
    for voter, choice in zip(voters, choices, strict=True):
        services.council_vote(session_id=session.pk, by=voter, choices={item.pk: choice})


def reload(model):
    model.refresh_from_db()
    return model


THRESHOLDS = [
    # 7 members, quorum 67 % of members (5), so every row below has its quorum.
    pytest.param("members", 90, ["yes"] * 7, PASSED, id="90pc-of-members-7-of-7-passes"),
    pytest.param("members", 90, ["yes"] * 6 + ["no"], FAILED, id="90pc-of-members-6-of-7-fails"),
    pytest.param("members", 90, ["yes"] * 6 + ["abstain"], FAILED, id="90pc-of-members-abstaining-is-not-for"),
    pytest.param("members", 90, ["yes"] * 6, FAILED, id="90pc-of-members-6-of-6-cast-fails"),
    pytest.param("cast", 90, ["yes"] * 6, PASSED, id="90pc-of-cast-6-of-6-cast-passes"),
    pytest.param("cast", 90, ["yes"] * 6 + ["no"], FAILED, id="90pc-of-cast-6-of-7-fails"),
    pytest.param("cast", 80, ["yes"] * 4 + ["no"], PASSED, id="80pc-of-cast-exactly-4-of-5-passes"),
    pytest.param("cast", 80, ["yes"] * 4 + ["no", "abstain"], FAILED, id="80pc-of-cast-abstaining-counts-as-cast"),
]


@pytest.mark.parametrize(("threshold_of", "threshold", "choices", "outcome"), THRESHOLDS)
def test_a_council_passes_a_case_exactly_from_its_threshold_of_members_or_of_votes_cast(
    org, threshold_of, threshold, choices, outcome
):
    nomination, task = at_council(
        org, council_quorum_percent=67, council_threshold_percent=threshold, council_threshold_of=threshold_of
    )
    session = session_for(org, task)
    vote(session, holders(task)[: len(choices)], choices)
    if len(choices) < 7:  # the others never vote: the closing time ends the session
        assert not reload(session).is_closed
        assert close_voting(session) == 7 - len(choices)

    item = session.items.get()
    counts = tuple(choices.count(choice) for choice in ("yes", "no", "abstain"))
    assert (item.yes, item.no, item.abstain, item.outcome) == (*counts, outcome)
    assert (item.threshold_percent, item.threshold_of, item.quorum_percent) == (threshold, threshold_of, 67)
    assert reload(session).is_closed
    decided = ApprovalTask.objects.get(pk=task.pk)
    nomination = Nomination.objects.get(pk=nomination.pk)
    if outcome == PASSED:
        assert (decided.action, decided.decided_by) == ("approve", None)
        assert open_step(nomination).step.code == "chairman_decision"
        assert nomination.stage == Stage.SUMMARISE
    else:
        assert (decided.action, decided.decided_by) == ("reject", None)
        assert open_step(nomination) is None
        assert nomination.stage == Stage.REJECTED
        assert current_process(nomination).status == STATUS.DONE


def test_without_quorum_the_case_goes_back_to_the_boards_appraisal_as_a_new_task(org):
    nomination, task = at_council(org, council_quorum_percent=67)  # 67 % of 7: five must vote
    first_appraisal = ApprovalTask.objects.get(process=task.process, step__code="board_appraisal")
    stage = nomination.stage
    session = session_for(org, task)
    vote(session, holders(task)[:4], ["yes"] * 4)
    assert close_voting(session) == 3

    item = session.items.get()
    assert (item.yes, item.no, item.abstain, item.outcome) == (4, 0, 0, NO_QUORUM)
    sent_back = ApprovalTask.objects.get(pk=task.pk)
    assert (sent_back.action, sent_back.decided_by, sent_back.is_open) == ("send_back", None, False)
    again = open_step(nomination)
    assert (again.step.code, holders(again)) == ("board_appraisal", [org.board_officer])
    assert again.pk not in (first_appraisal.pk, task.pk)
    assert again.is_open
    assert again.opened_at >= sent_back.closed_at
    assert Nomination.objects.get(pk=nomination.pk).stage == stage
    entry = audit_entries_for(nomination).get(action="processes.nomination.sent_back")
    assert (entry.actor, entry.data["step"], entry.data["outcome"], entry.data["for"]) == (
        None,
        "council_review",
        "no_quorum",
        4,
    )

    # The Board appraises it again, and a new session where five vote has its quorum.
    services.nomination_decide(task_id=again.pk, by=org.board_officer, action="approve")
    second_task = open_step(nomination)
    assert second_task.step.code == "council_review"
    assert second_task.pk != task.pk
    second = session_for(org, second_task)
    vote(second, holders(second_task)[:5], ["yes"] * 5)
    assert close_voting(second) == 2
    assert second.items.get().outcome == PASSED
    assert open_step(nomination).step.code == "chairman_decision"


def test_without_quorum_a_form_set_to_reject_rejects_the_case(org):
    nomination, task = at_council(org, council_quorum_percent=67, council_failed_quorum="reject")
    session = session_for(org, task)
    vote(session, holders(task)[:4], ["yes"] * 4)
    close_voting(session)

    assert session.items.get().outcome == NO_QUORUM
    assert Nomination.objects.get(pk=nomination.pk).stage == Stage.REJECTED
    assert open_step(nomination) is None
    assert current_process(nomination).status == STATUS.DONE
    assert ApprovalTask.objects.get(pk=task.pk).action == "reject"
    entry = audit_entries_for(nomination).get(action="processes.nomination.rejected")
    assert (entry.actor, entry.comment, entry.data["outcome"]) == (None, "No quorum", "no_quorum")
    assert not audit_entries_for(nomination).filter(action="processes.nomination.sent_back").exists()


def test_without_quorum_and_no_board_step_before_the_council_the_case_is_rejected(org):
    nomination = approve_until(submitted(org, award_form=org.unit_form), "level_council")
    task = open_step(nomination)
    assert holders(task) == [org.director, org.department_secretary]  # 67 % of 2: both must vote
    session = session_for(org, task, by=org.director)
    vote(session, [org.director], ["yes"])
    close_voting(session)

    assert session.items.get().outcome == NO_QUORUM
    assert current_process(nomination).status == STATUS.DONE
    assert Nomination.objects.get(pk=nomination.pk).stage == Stage.REJECTED
    entry = audit_entries_for(nomination).get(data__step="level_council", action="processes.nomination.rejected")
    assert entry.actor is None


def test_a_ballot_is_secret_and_the_tally_is_hidden_until_the_session_closes(org):
    # A ballot row names no voter and has no time; a receipt says who voted, never what.
    assert sorted(field.name for field in Ballot._meta.get_fields()) == ["choice", "id", "item"]
    assert Ballot._meta.pk.name == "id"
    assert Ballot._meta.pk.default is not None
    assert sorted(field.name for field in BallotReceipt._meta.get_fields()) == ["id", "session", "user", "voted_at"]
    _nomination, task = at_council(org)
    members = holders(task)
    session = session_for(org, task)
    item = session.items.get()
    ballots = session.task_set.filter(flow_task=CouncilFlow.ballot)
    assert sorted(ballots.values_list("owner_id", flat=True)) == sorted(user.pk for user in members)
    assert session.task_set.filter(flow_task_type="TIMER", status=STATUS.SCHEDULED).count() == 7

    choices = ["yes", "no", "abstain", "yes", "yes", "yes"]
    vote(session, members[:6], choices)

    item.refresh_from_db()
    assert (item.yes, item.no, item.abstain, item.outcome) == (None, None, None, "")
    assert not reload(session).is_closed
    # Until the tally the ballots stay sealed: no choice is stored in the clear.
    assert not Ballot.objects.exists()
    assert SealedBallot.objects.filter(session=session).count() == 6
    assert set(BallotReceipt.objects.filter(session=session).values_list("user_id", flat=True)) == {
        user.pk for user in members[:6]
    }
    # A member votes once; someone without a ballot in the session does not vote at all.
    with pytest.raises(StepClosed, match="already voted"):
        vote(session, [members[0]], ["no"])
    for stranger in (org.outsider, org.board_officer, org.chairman):
        with pytest.raises(VoteError, match="no ballot"):
            vote(session, [stranger], ["yes"])
    with pytest.raises(VoteError, match="every case"):
        services.council_vote(session_id=session.pk, by=members[6], choices={})
    assert SealedBallot.objects.filter(session=session).count() == 6

    vote(session, [members[6]], ["yes"])  # the last ballot closes the session

    item.refresh_from_db()
    assert (item.yes, item.no, item.abstain, item.outcome) == (5, 1, 1, PASSED)
    assert sorted(Ballot.objects.filter(item=item).values_list("choice", flat=True)) == sorted([*choices, "yes"])
    assert not SealedBallot.objects.exists()
    assert reload(session).is_closed
    with pytest.raises(StepClosed, match="closed"):
        vote(session, [members[1]], ["yes"])
    # What is kept of a member's vote: a finished task naming only them, and "voted" in the audit.
    for ballot in session.task_set.filter(flow_task=CouncilFlow.ballot):
        assert ballot.status == STATUS.DONE
        assert ballot.data == {"member": ballot.owner_id}
        assert ballot.artifact_object_id is None
    entries = list(audit_entries_for(session))
    assert [entry.action for entry in entries] == [
        "workflow.vote.session_opened",
        *["workflow.vote.cast"] * 7,
        "workflow.vote.session_closed",
    ]
    assert [entry.actor for entry in entries[1:8]] == [*members[:6], members[6]]
    assert [(entry.actor, entry.data["voted"]) for entry in entries[-1:]] == [(None, 7)]
    for entry in entries:
        kept = json.dumps([entry.comment, entry.data, entry.from_state, entry.to_state])
        assert "choice" not in kept
        assert not any(f'"{choice}"' in kept for choice in Ballot.Choice.values), kept
    for entry in entries[1:8]:
        assert (entry.data, entry.comment) == ({}, "")


def test_the_closing_time_closes_the_session_with_the_ballots_cast_so_far(org, clock):
    clock(MONDAY)
    nomination, task = at_council(org)  # quorum 67 %, threshold 50 % of votes cast (the defaults)
    members = holders(task)
    closes_at = local(2026, 3, 6, 17)
    session = session_for(org, task, closes_at=closes_at)
    timers = session.task_set.filter(flow_task_type="TIMER", status=STATUS.SCHEDULED)
    assert sorted(timers.values_list("scheduled", flat=True)) == [closes_at] * 7
    vote(session, members[:5], ["yes", "yes", "yes", "no", "abstain"])
    assert timers.count() == 2  # a vote disarms the voter's timer

    clock(closes_at - timedelta(microseconds=1))
    assert fire_due_timers() == 0
    assert not reload(session).is_closed
    assert session.items.get().outcome == ""

    clock(closes_at)
    assert fire_due_timers() == 2  # the two unvoted ballots: their closing makes the tally due
    assert not reload(session).is_closed
    assert fire_timers() == 1  # beat's run fires it too

    assert reload(session).closed_at == closes_at
    item = session.items.get()
    assert (item.yes, item.no, item.abstain, item.outcome) == (3, 1, 1, PASSED)
    assert open_step(nomination).step.code == "chairman_decision"
    unvoted = session.task_set.filter(flow_task=CouncilFlow.ballot, owner__in=members[5:])
    assert list(unvoted.values_list("status", flat=True)) == [STATUS.CANCELED] * 2
    assert not session.task_set.exclude(status__in=[STATUS.DONE, STATUS.CANCELED]).exists()
    with pytest.raises(StepClosed, match="closed"):
        vote(session, [members[5]], ["no"])
    closed = audit_entries_for(session).get(action="workflow.vote.session_closed")
    assert (closed.actor, closed.data["voted"], closed.data["members"]) == (None, 5, 7)


def test_a_ballot_after_the_closing_time_is_refused_even_before_the_timers_have_fired(org, clock):
    clock(MONDAY)
    _nomination, task = at_council(org)
    members = holders(task)
    session = session_for(org, task, closes_at=local(2026, 3, 6, 17))
    vote(session, members[:5], ["yes"] * 5)

    clock(local(2026, 3, 6, 17, 30))  # the dispatcher has not run yet
    with pytest.raises(StepClosed):
        vote(session, [members[5]], ["no"])
    assert SealedBallot.objects.filter(session=session).count() == 5
    assert BallotReceipt.objects.filter(session=session).count() == 5


def test_only_the_board_or_the_councils_secretariat_opens_a_session(org):
    _nomination, task = at_council(org)
    secretary = UserFactory(username="council_secretary")
    member(secretary, org.council, Role.SECRETARY)
    refused = [org.council_member, org.hospital_head, org.director, org.district_chairman, org.outsider]
    for user in refused:
        assert not services.may_open_session(user, task.unit_id), user
        with pytest.raises(errors.PermissionDenied, match="Only the Board"):
            session_for(org, task, by=user)
    assert not VoteSession.objects.exists()
    assert [services.may_open_session(user, task.unit_id) for user in (secretary, org.board_officer)] == [True] * 2

    session = session_for(org, task, by=secretary)

    # The roster is the council's membership on the session's day: its secretary, who joined after the
    # case reached the council, sits on it and votes too.
    assert (session.opened_by, session.council_unit_id, session.member_count) == (secretary, org.council.pk, 8)
    assert session.items.get().approval_task_id == task.pk
    opened = audit_entries_for(session).get(action="workflow.vote.session_opened")
    assert (opened.actor, opened.data["cases"], opened.data["members"]) == (secretary, 1, 8)


def test_a_case_is_on_one_open_session_at_a_time(org):
    _nomination, task = at_council(org)
    assert list(awaiting_council()) == [task]
    first = session_for(org, task)
    assert list(awaiting_council()) == []

    with pytest.raises(VoteError, match="another session"):
        session_for(org, task)
    with pytest.raises(VoteError, match="another session"):
        session_for(org, task, by=org.admin)

    assert list(VoteSession.objects.all()) == [first]
    assert VoteItem.objects.get(approval_task=task).session == first


# --- concurrency (PostgreSQL) ----------------------------------------------------------------------


def in_thread(target, *args) -> tuple[threading.Thread, dict]:
    """Run ``target`` on its own connection; the result or the error lands in the returned dict."""
    result = {}

    def run():
        try:
            with translation.override("en"):
                result["value"] = target(*args)
        except Exception as exc:
            result["error"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, result


def wait_until_blocked(thread: threading.Thread, timeout: float = 10) -> bool:
    """Wait until ``thread`` finished, or some connection to the test database waits for a lock."""
    deadline = time_module.monotonic() + timeout
    while thread.is_alive() and time_module.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return True
        time_module.sleep(0.02)
    return False


def held_open(action, ready: threading.Event, release: threading.Event):
    """Do ``action`` in a transaction and keep it uncommitted until ``release``."""

    def run():
        with transaction.atomic():
            value = action()
            ready.set()
            assert release.wait(30)
        return value

    return run


@pytest.mark.postgres
def test_members_voting_at_once_are_each_counted_and_the_session_is_tallied_once(org):
    nomination, task = at_council(org)
    members = holders(task)
    session = session_for(org, task)
    item = session.items.get()
    barrier = threading.Barrier(len(members))

    def cast(user):
        barrier.wait(10)
        services.council_vote(session_id=session.pk, by=user, choices={item.pk: "yes"})
        return "ok"

    voters = [in_thread(cast, user) for user in members]
    for thread, _result in voters:
        thread.join(60)
    assert [result for _thread, result in voters] == [{"value": "ok"}] * 7

    item.refresh_from_db()
    assert (item.yes, item.no, item.abstain, item.outcome) == (7, 0, 0, PASSED)
    assert reload(session).is_closed
    assert audit_entries_for(session).filter(action="workflow.vote.session_closed").count() == 1
    assert session.task_set.filter(flow_task=CouncilFlow.tally, status=STATUS.DONE).count() == 1
    approvals = audit_entries_for(nomination).filter(
        action="processes.nomination.step_approved", data__step="council_review"
    )
    assert [entry.actor for entry in approvals] == [None]
    assert open_step(nomination).step.code == "chairman_decision"


@pytest.mark.postgres
def test_two_sessions_opened_at_once_put_the_case_on_one_agenda_and_the_second_is_told_why(org):
    _nomination, task = at_council(org)
    ready, release = threading.Event(), threading.Event()
    # The first session's transaction is still open when the second is asked for.
    first, first_result = in_thread(held_open(lambda: session_for(org, task), ready, release))
    assert ready.wait(10)
    second, second_result = in_thread(lambda: session_for(org, task, by=org.admin))
    assert wait_until_blocked(second)  # on the case's step, locked by the first
    release.set()
    first.join(30)
    second.join(30)

    assert "error" not in first_result, first_result
    assert list(VoteSession.objects.all()) == [first_result["value"]]
    assert VoteItem.objects.get(approval_task=task).session == first_result["value"]
    assert isinstance(second_result.get("error"), VoteError), second_result
    assert "another session" in str(second_result["error"])


# --- public posting --------------------------------------------------------------------------------


def posted(org, *, council_vote=True) -> tuple[Nomination, ApprovalTask]:
    """A case whose public posting window (10 working days) is open."""
    form = city_form(org, council_vote=council_vote, posting_days=10)
    nomination = approve_until(submitted(org, award_form=form), "public_posting")
    window = open_step(nomination)
    assert (window.step.code, window.step.kind, window.task.flow_task) == (
        "public_posting",
        StepKind.POSTING,
        ApprovalFlow.posting,
    )
    assert (window.task.status, holders(window)) == (STATUS.SCHEDULED, [])
    return nomination, window


def object_to(nomination, by, content="Cá nhân này từng bị kỷ luật năm 2025") -> Objection:
    return services.objection_record(nomination=nomination, by=by, author="Trần Văn Bình", content=content)


def test_a_posting_window_lasts_ten_working_days_then_its_timer_moves_the_case_on_to_the_council(org, clock):
    clock(MONDAY)
    nomination, window = posted(org)
    # Tue 3 to Fri 6/3 (4), Mon 9 to Fri 13/3 (9), Mon 16/3 (10); the step's own deadline is 5 days.
    assert window.step.deadline_working_days == 5
    assert (window.opened_at, window.due_at, window.task.scheduled) == (
        MONDAY,
        end_of(date(2026, 3, 16)),
        end_of(date(2026, 3, 16)),
    )

    clock(local(2026, 3, 16, 23, 59))
    assert fire_due_timers() == 0
    assert open_step(nomination).pk == window.pk

    clock(local(2026, 3, 17, 0, 0))
    assert fire_due_timers() == 1

    closed = ApprovalTask.objects.get(pk=window.pk)
    assert (closed.closed_at, closed.action, closed.decided_by) == (local(2026, 3, 17), "", None)
    task = open_step(nomination)
    assert (task.step.code, task.opened_at) == ("council_review", local(2026, 3, 17))
    entry = audit_entries_for(nomination).get(action="processes.nomination.posting_closed")
    assert (entry.actor, entry.data["step"], entry.data["open_objections"]) == (None, "public_posting", 0)


def test_an_objection_brings_the_case_to_the_board_whose_clearing_resolves_it_and_moves_the_case_on(org):
    nomination, window = posted(org)
    objection = object_to(nomination, org.board_officer)
    assert (objection.window, objection.recorded_by, objection.resolved_at) == (window, org.board_officer, None)

    run_out(window)

    task = open_step(nomination)
    assert (task.step.code, holders(task), decisions_for(task.step)) == (
        "public_posting",
        [org.board_officer],
        ["approve", "reject"],
    )
    assert task.pk != window.pk
    assert not ApprovalTask.objects.get(pk=window.pk).is_open
    assert reload(objection).resolved_at is None
    closed = audit_entries_for(nomination).get(action="processes.nomination.posting_closed")
    assert closed.data["open_objections"] == 1

    services.nomination_decide(task_id=task.pk, by=org.board_officer, action="approve", comment="Đã xác minh")

    assert reload(objection).resolved_at is not None
    assert open_step(nomination).step.code == "council_review"
    assert Nomination.objects.get(pk=nomination.pk).stage == Stage.SUMMARISE
    entries = audit_entries_for(nomination)
    recorded = entries.get(action="processes.nomination.objection_recorded")
    assert (recorded.actor, recorded.data["author"], recorded.data["task"]) == (
        org.board_officer,
        "Trần Văn Bình",
        window.pk,
    )
    cleared = entries.get(action="processes.nomination.step_approved", data__step="public_posting")
    assert (cleared.actor, cleared.data["task"]) == (org.board_officer, task.pk)


def test_the_board_upholding_an_objection_rejects_the_case(org):
    nomination, window = posted(org)
    objection = object_to(nomination, org.board_officer)
    run_out(window)
    task = open_step(nomination)

    services.nomination_decide(task_id=task.pk, by=org.board_officer, action="reject", comment="Phản ánh đúng")

    assert Nomination.objects.get(pk=nomination.pk).stage == Stage.REJECTED
    assert open_step(nomination) is None
    assert current_process(nomination).status == STATUS.DONE
    assert reload(objection).resolved_at is not None
    rejected = audit_entries_for(nomination).get(action="processes.nomination.rejected")
    assert (rejected.actor, rejected.data["step"]) == (org.board_officer, "public_posting")


def test_objections_are_recorded_only_while_the_window_is_open(org):
    nomination = approve_until(submitted(org, award_form=city_form(org, posting_days=10)), "board_appraisal")
    with pytest.raises(errors.TransitionNotAllowed, match="not publicly posted"):
        object_to(nomination, org.board_officer)
    services.nomination_decide(task_id=open_step(nomination).pk, by=org.board_officer, action="approve")
    window = open_step(nomination)
    object_to(nomination, org.board_officer)
    run_out(window)
    board_task = open_step(nomination)
    assert board_task.step.code == "public_posting"
    with pytest.raises(errors.TransitionNotAllowed, match="not publicly posted"):  # the window is over
        object_to(nomination, org.board_officer, content="Phản ánh muộn")
    services.nomination_decide(task_id=board_task.pk, by=org.board_officer, action="approve")
    with pytest.raises(errors.TransitionNotAllowed, match="not publicly posted"):
        object_to(nomination, org.board_officer, content="Phản ánh muộn")

    assert Objection.objects.filter(nomination=nomination).count() == 1
    assert audit_entries_for(nomination).filter(action="processes.nomination.objection_recorded").count() == 1


def test_only_the_board_records_objections(org):
    nomination, window = posted(org)
    for user in (
        org.hospital_head,
        org.hospital_secretary,
        org.director,
        org.council_member,
        org.chairman,
        org.outsider,
    ):
        with pytest.raises(errors.PermissionDenied, match="recorded by the Emulation and Commendation Board"):
            object_to(nomination, user)
    with pytest.raises(errors.DomainError, match="Say who objects"):
        services.objection_record(nomination=nomination, by=org.board_officer, author="", content="Nội dung")
    assert not Objection.objects.exists()

    run_out(window)  # nothing recorded: the case goes straight on

    assert open_step(nomination).step.code == "council_review"


@pytest.mark.postgres
def test_an_objection_recorded_while_the_window_closes_is_refused_or_reaches_the_board(org):
    nomination, window = posted(org)
    Task.objects.filter(pk=window.pk).update(scheduled=timezone.now())  # the window's time is up
    ready, release = threading.Event(), threading.Event()
    closing, closing_result = in_thread(held_open(fire_due_timers, ready, release))
    assert ready.wait(10)
    recording, recording_result = in_thread(lambda: object_to(nomination, org.board_officer))
    wait_until_blocked(recording)
    release.set()
    closing.join(30)
    recording.join(30)
    assert closing_result == {"value": 1}

    task = open_step(nomination)
    if "error" in recording_result:  # refused: the window had closed
        assert isinstance(recording_result["error"], errors.TransitionNotAllowed), recording_result
        assert not Objection.objects.exists()
        assert task.step.code == "council_review"
    else:  # recorded in time: the Board must clear it
        assert (task.step.code, holders(task)) == ("public_posting", [org.board_officer])


def test_an_administrator_rejecting_a_posted_case_rejects_it_or_is_told_why_not(org):
    nomination, window = posted(org)
    try:
        services.nomination_reject(nomination=nomination, by=org.admin, reason="Vi phạm quy định")
    except WorkflowError:
        assert Nomination.objects.get(pk=nomination.pk).stage == Stage.SUMMARISE
        assert open_step(nomination).pk == window.pk
    else:
        assert Nomination.objects.get(pk=nomination.pk).stage == Stage.REJECTED
        assert current_process(nomination).status == STATUS.DONE
        assert not current_process(nomination).task_set.filter(status=STATUS.SCHEDULED).exists()


# --- consultation of other agencies ----------------------------------------------------------------


def tax_department(org):
    """An agency in the tree with a secretary who answers for it."""
    tax = UnitFactory(code="HP.CT", name="Cục Thuế thành phố", kind=UnitKind.DEPARTMENT)
    link(tax, org.city)
    secretary = UserFactory(username="tax_secretary")
    member(secretary, tax, Role.SECRETARY)
    return tax, secretary


def at_appraisal(org) -> tuple[Nomination, ApprovalTask]:
    nomination = approve_until(submitted(org), "board_appraisal")
    return nomination, open_step(nomination)


def approve(task, by):
    return services.nomination_decide(task_id=task.pk, by=by, action="approve")


def test_the_appraisal_waits_for_each_agency_until_it_answers_or_its_deadline_passes(org, clock):
    tax, tax_secretary = tax_department(org)
    clock(MONDAY)
    nomination, task = at_appraisal(org)
    assert (task.opened_at, task.due_at) == (MONDAY, end_of(date(2026, 3, 16)))  # 10 working days

    asked = services.consultation_request(
        task_id=task.pk,
        by=org.board_officer,
        agencies=[(tax, "", 5), (None, "Bảo hiểm xã hội thành phố", 3)],
        question="Đề nghị cho ý kiến về việc chấp hành chính sách pháp luật",
    )

    assert [(row.agency, row.agency_name, row.due_at) for row in asked] == [
        (tax, "Cục Thuế thành phố", end_of(date(2026, 3, 9))),  # Tue 3 ... Mon 9/3
        (None, "Bảo hiểm xã hội thành phố", end_of(date(2026, 3, 5))),
    ]
    # 20 working days from the appraisal's opening: 3-6/3 (4), 9-13 (9), 16-20 (14), 23-27 (19), 30/3.
    task = ApprovalTask.objects.get(pk=task.pk)
    assert task.due_at == end_of(date(2026, 3, 30))
    assert [candidate.due_at for candidate in task.candidates.all()] == [end_of(date(2026, 3, 30))]
    with pytest.raises(errors.TransitionNotAllowed, match="Waiting for the opinion of") as refused:
        approve(task, org.board_officer)
    assert "Cục Thuế thành phố" in str(refused.value)
    assert "Bảo hiểm xã hội thành phố" in str(refused.value)

    clock(local(2026, 3, 4, 10))
    services.consultation_answer(consultation_id=asked[0].pk, by=tax_secretary, answer="Đã hoàn thành nghĩa vụ thuế")
    with pytest.raises(errors.TransitionNotAllowed) as refused:
        approve(task, org.board_officer)
    assert str(refused.value) == "Waiting for the opinion of Bảo hiểm xã hội thành phố (until 05/03/2026)."
    clock(local(2026, 3, 5, 23, 59))
    with pytest.raises(errors.TransitionNotAllowed, match="Bảo hiểm xã hội"):
        approve(task, org.board_officer)
    assert open_step(nomination).pk == task.pk

    clock(local(2026, 3, 6, 8))  # the insurance's deadline has passed without an answer
    approve(task, org.board_officer)

    assert open_step(nomination).step.code == "chairman_decision"
    kept = Consultation.objects.filter(nomination=nomination).order_by("pk")
    assert [(row.agency_name, row.answer, row.answered_by, row.answered_at, row.via_board) for row in kept] == [
        ("Cục Thuế thành phố", "Đã hoàn thành nghĩa vụ thuế", tax_secretary, local(2026, 3, 4, 10), False),
        ("Bảo hiểm xã hội thành phố", "", None, None, False),
    ]
    entries = audit_entries_for(nomination)
    requested = entries.get(action="processes.nomination.consultation_requested")
    assert (requested.actor, requested.data["agencies"], requested.data["step_due_at"]) == (
        org.board_officer,
        ["Cục Thuế thành phố", "Bảo hiểm xã hội thành phố"],
        end_of(date(2026, 3, 30)).isoformat(),
    )
    answered = entries.get(action="processes.nomination.consultation_answered")
    assert (answered.actor, answered.data["agency"], answered.data["via_board"]) == (
        tax_secretary,
        "Cục Thuế thành phố",
        False,
    )


def test_the_board_records_the_letter_of_an_agency_nobody_answers_for_and_each_opinion_is_recorded_once(org):
    tax, tax_secretary = tax_department(org)
    insurance = UnitFactory(code="HP.BHXH", name="Bảo hiểm xã hội thành phố", kind=UnitKind.DEPARTMENT)
    link(insurance, org.city)  # in the tree, nobody in it
    nomination, task = at_appraisal(org)
    tax_row, insurance_row, environment_row = services.consultation_request(
        task_id=task.pk,
        by=org.board_officer,
        agencies=[(tax, "", 10), (insurance, "", 10), (None, "Sở Tài nguyên và Môi trường", 10)],
        question="Đề nghị cho ý kiến",
    )
    refused = [
        (tax_row, org.board_officer),  # the agency has its own staff in the system
        (tax_row, org.outsider),
        (tax_row, org.hospital_head),
        (insurance_row, tax_secretary),
        (insurance_row, org.outsider),
        (environment_row, org.hospital_head),
        (environment_row, org.outsider),
    ]
    for row, user in refused:
        assert not services.may_answer(user, row), (row.agency_name, user)
        with pytest.raises(errors.PermissionDenied, match="Only the agency"):
            services.consultation_answer(consultation_id=row.pk, by=user, answer="Ý kiến")
    assert not Consultation.objects.filter(answered_at__isnull=False).exists()

    services.consultation_answer(consultation_id=tax_row.pk, by=tax_secretary, answer="Không có vi phạm")
    services.consultation_answer(consultation_id=insurance_row.pk, by=org.board_officer, answer="Công văn 12/BHXH")
    services.consultation_answer(consultation_id=environment_row.pk, by=org.board_officer, answer="Công văn 34/STNMT")
    for row, user in ((tax_row, tax_secretary), (environment_row, org.board_officer), (tax_row, org.admin)):
        with pytest.raises(errors.StaleObject, match="already been recorded"):
            services.consultation_answer(consultation_id=row.pk, by=user, answer="Ý kiến khác")

    kept = Consultation.objects.filter(nomination=nomination).order_by("pk")
    assert [(row.answer, row.answered_by, row.via_board) for row in kept] == [
        ("Không có vi phạm", tax_secretary, False),
        ("Công văn 12/BHXH", org.board_officer, True),
        ("Công văn 34/STNMT", org.board_officer, True),
    ]
    answers = audit_entries_for(nomination).filter(action="processes.nomination.consultation_answered")
    assert [(entry.actor, entry.data["via_board"]) for entry in answers] == [
        (tax_secretary, False),
        (org.board_officer, True),
        (org.board_officer, True),
    ]
    approve(task, org.board_officer)  # every agency answered: no need to wait for the deadlines
    assert open_step(nomination).step.code == "chairman_decision"


def test_only_the_appraisals_holder_consults_and_an_agency_gets_one_to_ten_working_days(org, clock):
    tax, _secretary = tax_department(org)
    clock(MONDAY)
    _nomination, task = at_appraisal(org)
    for user in (org.hospital_head, org.council_member, org.outsider):
        with pytest.raises(errors.PermissionDenied):
            services.consultation_request(task_id=task.pk, by=user, agencies=[(tax, "", 5)], question="Ý kiến")
    for days in (0, 11):
        with pytest.raises(errors.DomainError, match="between 1 and 10 working days"):
            services.consultation_request(
                task_id=task.pk, by=org.board_officer, agencies=[(tax, "", days)], question="Ý kiến"
            )
    assert not Consultation.objects.exists()
    assert ApprovalTask.objects.get(pk=task.pk).due_at == end_of(date(2026, 3, 16))

    clock(local(2026, 3, 4, 15))  # asked on the third day: still 20 working days from the opening
    (row,) = services.consultation_request(
        task_id=task.pk, by=org.board_officer, agencies=[(tax, "", 10)], question="Ý kiến"
    )

    assert row.due_at == end_of(date(2026, 3, 18))
    assert ApprovalTask.objects.get(pk=task.pk).due_at == end_of(date(2026, 3, 30))


@pytest.mark.postgres
def test_two_people_recording_one_agencys_opinion_at_once_record_it_once(org):
    tax, tax_secretary = tax_department(org)
    tax_head = UserFactory(username="tax_head")
    member(tax_head, tax, Role.HEAD)
    nomination, task = at_appraisal(org)
    (row,) = services.consultation_request(
        task_id=task.pk, by=org.board_officer, agencies=[(tax, "", 5)], question="Ý kiến"
    )
    ready, release = threading.Event(), threading.Event()
    first, first_result = in_thread(
        held_open(
            lambda: services.consultation_answer(consultation_id=row.pk, by=tax_secretary, answer="Lần một"),
            ready,
            release,
        )
    )
    assert ready.wait(10)
    second, second_result = in_thread(
        lambda: services.consultation_answer(consultation_id=row.pk, by=tax_head, answer="Lần hai")
    )
    assert wait_until_blocked(second)  # on the consultation's row lock
    release.set()
    first.join(30)
    second.join(30)

    assert "error" not in first_result, first_result
    assert isinstance(second_result.get("error"), errors.StaleObject), second_result
    row.refresh_from_db()
    assert (row.answer, row.answered_by) == ("Lần một", tax_secretary)
    assert audit_entries_for(nomination).filter(action="processes.nomination.consultation_answered").count() == 1
