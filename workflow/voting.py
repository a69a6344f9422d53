"""Council sessions: secret ballots on the cases awaiting a council vote step, counted per case.

Whoever the domain allows opens a session for cases whose open step is a vote step of one voting
body. The roster is the body's membership on the day the session opens, asked of the subject's
adapter (never the vote steps' candidates, resolved when each step opened); a member conflicted on a
case (the adapter says who, and why) has no choice on it (a ``VoteRecusal``), and a member
conflicted on every case gets no ballot. Each member with a ballot holds one task
(``CouncilFlow.ballot``) with a choice per case they may vote on.

Secrecy: the voter's transaction writes their receipt (``BallotReceipt``: that they voted) and
their choices sealed (``SealedBallot``, encrypted with a key kept outside the database, naming no
voter, no time). When every ballot is in, or the closing time passes (viewflow timers fired by
``fire_due_timers()``), the session's tally timer falls due; the tally runs in a transaction of its
own (``session_tally_due``, right after the last vote; else the timer dispatcher): it opens every
sealed ballot, writes the choices as ``Ballot`` rows in random order with random keys, deletes the
sealed ones, and counts each case: quorum (a share of the members eligible for that case), then the
threshold (a share of those members or of votes cast), the rules copied from its award form when
the session opened. The subject's adapter then applies each outcome (``vote_decided``): passed moves
the case on, not passed rejects it, no quorum sends it back to the nearest earlier group step (or
rejects it).
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import DatabaseError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from viewflow.workflow.exceptions import FlowLockFailed
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from workflow.audit import audit_append
from workflow.ballot_seal import seal
from workflow.errors import StepBusy, StepClosed, WorkflowError
from workflow.flows import CouncilFlow
from workflow.models import (
    ApprovalTask,
    Ballot,
    BallotReceipt,
    SealedBallot,
    StepKind,
    VoteItem,
    VoteRecusal,
    VoteSession,
)
from workflow.subject import subject_adapter
from workflow.tally import outcome_action, session_tally, tally  # noqa: F401 (public names of the session)

logger = logging.getLogger(__name__)

ACTIVE = (STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED)


class VoteError(WorkflowError):
    default_message = _("The vote could not be recorded.")


def _flow():
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
    """Put ``tasks`` (open vote steps of one council) on a new session's agenda; each member of the
    council that day who may vote on at least one case gets a ballot task at once. The caller checks
    that ``by`` may and opens the transaction."""
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
    waiting = list(awaiting_council().filter(pk__in=ids))
    if len(waiting) != len(set(ids)):
        raise VoteError(_("A chosen case is no longer waiting for the council, or is on another session's agenda."))
    councils = {task.unit_id for task in waiting}
    if len(councils) != 1 or None in councils:
        raise VoteError(_("All cases of a session must await the same council."))
    adapter = subject_adapter()
    council_unit_id = waiting[0].unit_id
    day = timezone.localdate()
    roster = list(dict.fromkeys(adapter.council_members(unit_id=council_unit_id, day=day)))
    if not roster:
        raise VoteError(_("The council has no members to vote."))
    conflicts = {}
    for task in waiting:
        found = adapter.vote_conflicts(process=task.process, members=roster, day=day)
        conflicts[task.pk] = {user_id: reason for user_id, reason in found.items() if user_id in roster}
        if len(conflicts[task.pk]) == len(roster):
            raise VoteError(
                _("No member of the council may vote on “%(case)s”: every member has a conflict of interest.")
                % {"case": adapter.label(process=task.process)}
            )
    voters = [user_id for user_id in roster if any(user_id not in conflicts[task.pk] for task in waiting)]
    session = _flow().start.run(
        title=title[:255],
        council_unit_id=council_unit_id,
        council_label=waiting[0].unit_label,
        opened_by=by,
        opened_at=timezone.now(),
        closes_at=closes_at,
        member_count=len(roster),
        members=voters,
    )
    usernames = dict(get_user_model()._default_manager.filter(pk__in=roster).values_list("pk", "username"))
    recused = {}
    for task in waiting:
        rules = adapter.vote_rules(process=task.process)
        item = VoteItem.objects.create(
            session=session,
            approval_task=task,
            subject_label=adapter.label(process=task.process)[:255],
            quorum_percent=rules["quorum_percent"],
            threshold_percent=rules["threshold_percent"],
            threshold_of=rules["threshold_of"],
            failed_quorum=rules["failed_quorum"],
            eligible_count=len(roster) - len(conflicts[task.pk]),
        )
        VoteRecusal.objects.bulk_create(
            VoteRecusal(item=item, user_id=user_id, reason=reason) for user_id, reason in conflicts[task.pk].items()
        )
        if conflicts[task.pk]:
            recused[str(task.pk)] = {usernames[user_id]: reason for user_id, reason in conflicts[task.pk].items()}
    audit_append(
        subject=session,
        actor=by,
        action="workflow.vote.session_opened",
        data={
            "cases": len(waiting),
            "members": len(roster),
            "ballots": len(voters),
            "recused": recused,
            "closes_at": closes_at.isoformat(),
        },
    )
    return session


def ballot_task(session: VoteSession, user):
    """``user``'s open ballot task in ``session``, or None."""
    return session.task_set.filter(flow_task=_flow().ballot, owner_id=user.pk, status__in=ACTIVE).order_by("pk").first()


def ballot_holders(session: VoteSession) -> list[int]:
    """The ids of the members who hold (or held) a ballot in ``session``."""
    return list(session.task_set.filter(flow_task=_flow().ballot).order_by("pk").values_list("owner_id", flat=True))


def open_ballots(user) -> list[VoteSession]:
    """Sessions in which ``user`` still has a ballot to cast, closing soonest first."""
    return list(
        VoteSession.objects.filter(
            task__flow_task=_flow().ballot, task__owner_id=user.pk, task__status__in=ACTIVE, closed_at__isnull=True
        ).order_by("closes_at")[:50]
    )


def recusals_of(session: VoteSession, user) -> dict[int, str]:
    """The cases of ``session`` ``user`` does not vote on: item id → ``VoteRecusal.Reason``."""
    return dict(VoteRecusal.objects.filter(item__session=session, user_id=user.pk).values_list("item_id", "reason"))


def ballot_refusal(session: VoteSession, user) -> WorkflowError | None:
    """Why ``user`` may not vote in ``session`` now (closed, already voted, no ballot), or None."""
    if session.is_closed or timezone.now() >= session.closes_at:
        return StepClosed(_("Voting in this session has closed."))
    if BallotReceipt.objects.filter(session=session, user_id=user.pk).exists():
        return StepClosed(_("You have already voted in this session."))
    if ballot_task(session, user) is None:
        return VoteError(_("You have no ballot in this session."))
    return None


def vote_cast(*, session_id: int, by, choices: dict[int, str]) -> None:
    """Record ``by``'s ballot: a choice (yes, no, abstain) for every case on the agenda they may vote
    on, once. The choices are sealed; the receipt says only that ``by`` voted."""
    flow = _flow()
    try:
        with flow.lock(session_id):
            session = VoteSession.objects.get(pk=session_id)
            refusal = ballot_refusal(session, by)
            if refusal is not None:
                raise refusal
            items = {item.pk: item for item in session.items.all()}
            recused = recusals_of(session, by)
            conflicted = sorted(set(choices) & set(recused))
            if conflicted:
                raise VoteError(
                    _("You do not vote on “%(case)s”: %(reason)s.")
                    % {
                        "case": items[conflicted[0]].subject_label,
                        "reason": VoteRecusal.Reason(recused[conflicted[0]]).label,
                    }
                )
            wanted = set(items) - set(recused)
            if set(choices) != wanted or any(choice not in Ballot.Choice.values for choice in choices.values()):
                raise VoteError(_("Choose for, against or abstain for every case on the agenda."))
            task = ballot_task(session, by)
            SealedBallot.objects.create(session=session, payload=seal(session_id=session.pk, choices=choices))
            BallotReceipt.objects.create(session=session, user=by, voted_at=timezone.now())
            audit_append(subject=session, actor=by, action="workflow.vote.cast")
            activation = task.flow_task.activation_class(task)
            activation.start(None)
            activation.execute()
    except FlowLockFailed:
        raise StepBusy() from None


def session_tally_due(*, session_id: int) -> bool:
    """Tally ``session_id`` now if its ballots are all in (every one cast, or the closing time passed).

    Called after the last vote's transaction committed, so the tally runs in a transaction of its
    own and no ballot it writes shares one with a receipt. Should it never run (the process died in
    between), the sealed ballots are safe and the timer dispatcher (beat, every minute) tallies.
    """
    task = Task.objects.filter(process_id=session_id, flow_task=_flow().tally_due, status=STATUS.SCHEDULED).first()
    if task is None:
        return False
    try:
        with task.activation() as activation:
            if not activation.start.can_proceed():
                return False
            activation.start()
            activation.execute()
    except (FlowLockFailed, DatabaseError):
        logger.exception("Session %s: tally left to the timer dispatcher", session_id)
        return False
    return True
