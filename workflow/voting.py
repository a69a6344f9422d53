"""Council sessions: secret ballots on the cases awaiting a council vote step.

The Board opens a session for cases whose open step is a vote step of one council; each member
then holds one ballot task (``CouncilFlow.ballot``) with a choice per case. A ballot stores each
choice in a ``Ballot`` row with a random key and neither voter nor time; the member's task, their
``BallotReceipt`` and the audit entry record only that they voted. When every member has voted,
or the closing time passes (a viewflow timer fired by ``fire_due_timers()``), the session is
tallied: per case, quorum (a share of all members), then the threshold (a share of all members or
of votes cast), each case's rules copied from its award form when the session opened. The
subject's adapter then applies each outcome to its case (``vote_decided``): passed moves the case
on, not passed rejects it, no quorum sends it back to the Board (or rejects it, as configured).
"""

from __future__ import annotations

import random
from datetime import datetime

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from viewflow.workflow.exceptions import FlowLockFailed
from viewflow.workflow.status import STATUS

from workflow.approvals import subject_adapter
from workflow.audit import audit_append
from workflow.errors import StepBusy, StepClosed, WorkflowError
from workflow.models import (
    ApprovalTask,
    Ballot,
    BallotReceipt,
    FailedQuorum,
    StepKind,
    VoteItem,
    VoteRules,
    VoteSession,
)

ACTIVE = (STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED)


class VoteError(WorkflowError):
    default_message = _("The vote could not be recorded.")


def _flow():
    from workflow.flows import CouncilFlow

    return CouncilFlow


def awaiting_council(*, council_unit_id: int | None = None):
    """Open vote steps not on the agenda of a session still open."""
    rows = ApprovalTask.objects.filter(closed_at__isnull=True, step__kind=StepKind.VOTE).filter(
        Q(vote_item__isnull=True) | Q(vote_item__session__closed_at__isnull=False)
    )
    if council_unit_id is not None:
        rows = rows.filter(unit_id=council_unit_id)
    return rows.select_related("step", "process").order_by("opened_at", "pk")


def session_open(*, by, title: str, tasks: list[ApprovalTask], closes_at: datetime) -> VoteSession:
    """Put ``tasks`` (open vote steps of one council) on a new session's agenda; each member gets a
    ballot task at once. The caller checks that ``by`` may (the Board) and opens the transaction."""
    title = (title or "").strip()
    if not title:
        raise VoteError(_("Give the session a title."))
    if not tasks:
        raise VoteError(_("Choose at least one case for the agenda."))
    if closes_at <= timezone.now():
        raise VoteError(_("The closing time must be in the future."))
    ids = [task.pk for task in tasks]
    # Two officers putting one case on two agendas at once: the second waits here, then finds it taken.
    list(ApprovalTask.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk", flat=True))
    waiting = list(awaiting_council().filter(pk__in=ids).prefetch_related("candidates__user"))
    if len(waiting) != len(set(ids)):
        raise VoteError(_("A chosen case is no longer waiting for the council, or is on another session's agenda."))
    councils = {task.unit_id for task in waiting}
    if len(councils) != 1 or None in councils:
        raise VoteError(_("All cases of a session must await the same council."))
    members = sorted({candidate.user_id for task in waiting for candidate in task.candidates.all()})
    if not members:
        raise VoteError(_("The council has no members to vote."))
    adapter = subject_adapter()
    session = _flow().start.run(
        title=title[:255],
        council_unit_id=waiting[0].unit_id,
        council_label=waiting[0].unit_label,
        opened_by=by,
        opened_at=timezone.now(),
        closes_at=closes_at,
        member_count=len(members),
        members=members,
    )
    for task in waiting:
        rules = adapter.vote_rules(process=task.process)
        VoteItem.objects.create(
            session=session,
            approval_task=task,
            subject_label=adapter.label(process=task.process)[:255],
            quorum_percent=rules["quorum_percent"],
            threshold_percent=rules["threshold_percent"],
            threshold_of=rules["threshold_of"],
            failed_quorum=rules["failed_quorum"],
        )
    audit_append(
        subject=session,
        actor=by,
        action="workflow.vote.session_opened",
        data={"cases": len(waiting), "members": len(members), "closes_at": closes_at.isoformat()},
    )
    return session


def ballot_task(session: VoteSession, user):
    """``user``'s open ballot task in ``session``, or None."""
    return session.task_set.filter(flow_task=_flow().ballot, owner_id=user.pk, status__in=ACTIVE).order_by("pk").first()


def open_ballots(user) -> list[VoteSession]:
    """Sessions in which ``user`` still has a ballot to cast, closing soonest first."""
    return list(
        VoteSession.objects.filter(
            task__flow_task=_flow().ballot, task__owner_id=user.pk, task__status__in=ACTIVE, closed_at__isnull=True
        ).order_by("closes_at")[:50]
    )


def vote_cast(*, session_id: int, by, choices: dict[int, str]) -> None:
    """Record ``by``'s ballot: a choice (yes, no, abstain) for every case on the agenda, once."""
    flow = _flow()
    try:
        with flow.lock(session_id):
            session = VoteSession.objects.get(pk=session_id)
            if session.is_closed or timezone.now() >= session.closes_at:
                raise StepClosed(_("Voting in this session has closed."))
            if BallotReceipt.objects.filter(session=session, user=by).exists():
                raise StepClosed(_("You have already voted in this session."))
            task = ballot_task(session, by)
            if task is None:
                raise VoteError(_("You have no ballot in this session."))
            items = list(session.items.all())
            wanted = {item.pk for item in items}
            if set(choices) != wanted or any(choice not in Ballot.Choice.values for choice in choices.values()):
                raise VoteError(_("Choose for, against or abstain for every case on the agenda."))
            ballots = [Ballot(item_id=item_id, choice=choice) for item_id, choice in choices.items()]
            random.SystemRandom().shuffle(ballots)
            Ballot.objects.bulk_create(ballots)
            BallotReceipt.objects.create(session=session, user=by, voted_at=timezone.now())
            audit_append(subject=session, actor=by, action="workflow.vote.cast")
            activation = task.flow_task.activation_class(task)
            activation.start(None)
            activation.execute()
    except FlowLockFailed:
        raise StepBusy() from None


def tally(item: VoteItem, *, members: int) -> dict:
    counts = dict(item.ballots.values_list("choice").annotate(n=Count("id")).values_list("choice", "n"))
    yes, no, abstain = (counts.get(choice, 0) for choice in Ballot.Choice.values)
    cast = yes + no + abstain
    if members == 0 or cast * 100 < item.quorum_percent * members:
        outcome = VoteItem.Outcome.NO_QUORUM
    else:
        base = members if item.threshold_of == VoteRules.MEMBERS else cast
        passed = base > 0 and yes * 100 >= item.threshold_percent * base
        outcome = VoteItem.Outcome.PASSED if passed else VoteItem.Outcome.FAILED
    return {"yes": yes, "no": no, "abstain": abstain, "outcome": outcome}


def session_tally(session: VoteSession) -> None:
    """Close the session (every member voted, or the closing time came) and apply each outcome."""
    session.closed_at = timezone.now()
    session.save(update_fields=["closed_at"])
    adapter = subject_adapter()
    results = {}
    for item in session.items.select_related("approval_task"):
        for name, value in tally(item, members=session.member_count).items():
            setattr(item, name, value)
        item.save(update_fields=["yes", "no", "abstain", "outcome"])
        results[item.pk] = item.outcome
        if item.approval_task.closed_at is None:  # a case withdrawn meanwhile is left alone
            adapter.vote_decided(item=item)
    audit_append(
        subject=session,
        actor=None,
        action="workflow.vote.session_closed",
        data={"voted": session.receipts.count(), "members": session.member_count, "outcomes": results},
    )


#: How an outcome moves the case's vote step.
OUTCOME_ACTIONS = {
    VoteItem.Outcome.PASSED: "approve",
    VoteItem.Outcome.FAILED: "reject",
}


def outcome_action(item: VoteItem) -> str:
    if item.outcome == VoteItem.Outcome.NO_QUORUM:
        return "send_back" if item.failed_quorum == FailedQuorum.BACK else "reject"
    return OUTCOME_ACTIONS[item.outcome]
