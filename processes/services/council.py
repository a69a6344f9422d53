"""Council sessions: the agenda, the secret ballots, and each case's outcome."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from processes import errors
from processes.permissions import may_open_session
from processes.selectors import nomination_of
from processes.services.decisions import apply_decision
from workflow.approvals import (
    approval_lock,
    locked_task,
    previous_group_position,
)
from workflow.errors import StepClosed
from workflow.models import StepAction, VoteItem, VoteSession
from workflow.voting import outcome_action, session_open, session_tally_due, vote_cast


def council_session_open(*, by, title: str, tasks, closes_at) -> VoteSession:
    """Put cases awaiting one council on a session's agenda; each member gets a ballot."""
    if not all(may_open_session(by, task.unit_id) for task in tasks):
        raise errors.PermissionDenied(_("Only the Board or the council's own secretariat opens a session."))
    with transaction.atomic():
        return session_open(by=by, title=title, tasks=list(tasks), closes_at=closes_at)


def council_vote(*, session_id: int, by, choices: dict[int, str]) -> None:
    """A member's secret ballot, sealed, in a transaction of its own; after the last ballot the
    session is tallied in another (the closing time's timers tally it otherwise), so that no ballot
    row shares a transaction with a receipt. Call it outside any transaction to keep them apart."""
    with transaction.atomic():
        vote_cast(session_id=session_id, by=by, choices=choices)
    session_tally_due(session_id=session_id)


def council_outcome(*, item) -> None:
    """Apply a closed council session's outcome to the case's vote step (called by the tally)."""
    action = outcome_action(item)
    with approval_lock(item.approval_task.process_id):
        try:
            approval_task = locked_task(item.approval_task_id)
        except StepClosed:
            return
        if (
            action == StepAction.SEND_BACK
            and previous_group_position(approval_task.process, approval_task.step.position) is None
        ):
            action = StepAction.REJECT  # no earlier Board step to go back to (a level council)
        apply_decision(
            approval_task=approval_task,
            nomination=nomination_of(approval_task.process),
            by=None,
            action=action,
            comment=str(VoteItem.Outcome(item.outcome).label),
            data={
                "step": approval_task.step.code,
                "task": approval_task.pk,
                "session": item.session_id,
                "for": item.yes,
                "against": item.no,
                "abstain": item.abstain,
                "outcome": item.outcome,
            },
            engine=True,
        )
