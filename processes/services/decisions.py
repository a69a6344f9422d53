"""Decisions on a case's open step: approve, return, reject, the signed award, and handing the step
to someone else; and ``nomination_act``, the one entry point of screens and admin actions.
"""

from __future__ import annotations

from datetime import date

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransition

from processes import errors
from processes.actions import SENT_BACK, STEP_APPROVED
from processes.models import (
    AwardDecision,
    Decision,
    Membership,
    Nomination,
    Role,
)
from processes.organisation import OrgTree
from processes.permissions import INTERVENTION, decider_role, decisions_offered, may_reassign
from processes.permissions import deciding_unit_id as deciding_unit_id_of
from processes.selectors import known_subject, nomination_for_decision, nomination_of, reassignment_choices
from processes.services.consultations import refuse_while_consulting
from processes.services.nominations import (
    AUDIT_VERBS,
    nomination_resubmit,
    nomination_submit,
    nomination_withdraw,
    stale_error,
    transition,
)
from processes.services.replication import nomination_close
from processes.services.steps import not_yours, open_step, open_task_id
from processes.text import plain
from workflow.approvals import (
    approval_decide,
    approval_reassign,
    decisions_for,
    next_position,
    opened_summary,
)
from workflow.audit import audit_append
from workflow.errors import ActionNotAllowed
from workflow.kinds import kind_of
from workflow.models import ApprovalTask, StepAction

#: Decision → the transition it takes (approve takes ``award`` only at the last step).
DECISION_TRANSITIONS = {StepAction.RETURN: "return_for_completion", StepAction.REJECT: "reject"}


def nomination_decide(
    *,
    task_id: int,
    by,
    action: str,
    comment: str = "",
    decision_number: str = "",
    signed_on: date | None = None,
    expected_version: int | None = None,
    document: AwardDecision | None = None,
) -> Nomination:
    """Decide an open approval step: approve, return for completion or reject.

    Whoever holds the step decides; the step is read in the statement that locks its case, so of two
    people deciding at once one succeeds and the other is told who decided and when. An administrator
    who does not hold the step may move it as an intervention, with a reason, recorded as such; they
    never approve the last step (the signed award), which only its holder records. Nobody decides on
    their own nomination. ``expected_version``: the case's version the decider saw; a case changed
    since is refused as stale. Return and reject move the nomination (returned, rejected); approving
    the last step records the signed decision and moves it to replicate; any other approval moves
    the chain on. Each decision writes one audit entry on the nomination, which also says who was
    given the step it opened. ``document``: the numbered decision being signed (``decision_sign``),
    whose number, date and signature the award takes; the step must then be the last, of its issuer.
    """
    comment = plain(comment)
    if action in (StepAction.RETURN, StepAction.REJECT) and not comment:
        raise errors.DomainError(_("Please give a reason."))
    with open_step(task_id, user=by) as approval_task:
        nomination = nomination_for_decision(approval_task)
        with known_subject(nomination):
            return _decide(
                approval_task, nomination, by, action, comment, decision_number, signed_on, expected_version, document
            )


def _decide(
    approval_task, nomination, by, action, comment, decision_number, signed_on, expected_version, document=None
) -> Nomination:
    """``nomination_decide`` once the step is locked and its nomination read."""
    if nomination.nominee.user_id == by.pk:
        raise errors.PermissionDenied(_("Nobody decides on their own nomination."))
    role = decider_role(by, approval_task, nomination)
    if role is None:
        raise not_yours(approval_task)
    step = approval_task.step
    if kind_of(step).runs_out and not approval_task.candidates.exists():
        raise errors.TransitionNotAllowed(
            _("The nominee is publicly posted until %(until)s; the case moves on when the posting ends.")
            % {"until": timezone.localtime(approval_task.due_at).strftime("%d/%m/%Y %H:%M")}
        )
    if action not in decisions_for(step):
        raise ActionNotAllowed()
    is_last = next_position(approval_task.process, step.position) is None
    if action not in decisions_offered(approval_task, role, is_last=is_last):
        raise errors.PermissionDenied(
            _(
                "Only the holder of the signing step records the award decision; "
                "an administrator may return or reject the case with a reason."
            )
        )
    if role == INTERVENTION and not comment:
        raise errors.DomainError(_("An administrator moving a step that someone else holds must give the reason."))
    if document is not None and (action != StepAction.APPROVE or not is_last):
        raise errors.TransitionNotAllowed(_("The case is not at its signing step."))
    if document is not None and approval_task.unit_id != document.issuer_id:
        raise errors.DomainError(_("The case is signed by another unit than this decision's issuer."))
    if expected_version is not None and nomination.version != expected_version:
        raise stale_error(nomination)
    if action == StepAction.APPROVE and nomination.consulting:
        refuse_while_consulting(approval_task)
    data = {"step": step.code, "task": approval_task.pk}
    if role == INTERVENTION:
        data["intervention"] = True
        data["holders"] = [
            candidate.user.get_username() for candidate in approval_task.candidates.select_related("user")
        ]
    elif approval_task.on_behalf_of_id and approval_task.assignee_id == by.pk:
        data["on_behalf_of"] = approval_task.on_behalf_of.get_username()
    return apply_decision(
        approval_task=approval_task,
        nomination=nomination,
        by=by,
        action=action,
        comment=comment,
        data=data,
        decision_number=decision_number,
        signed_on=signed_on,
        expected_version=expected_version,
        intervention=role == INTERVENTION,
        is_last=is_last,
        document=document,
    )


def apply_decision(
    *,
    approval_task,
    nomination,
    by,
    action,
    comment,
    data,
    decision_number="",
    signed_on=None,
    engine=False,
    expected_version=None,
    intervention=False,
    is_last=None,
    document=None,
) -> Nomination:
    """What a decision does, under the case's lock and with ``nomination`` read inside it: the chain
    moves (``approval_decide``), the nomination takes its transition or a new version, and one audit
    entry records both, with the step the chain opened and who holds it."""
    step = approval_task.step

    def move_chain(_nomination) -> dict:
        with known_subject(nomination):
            opened = approval_decide(
                approval_task=approval_task,
                by=by,
                action=action,
                comment=comment,
                engine=engine,
                intervention=intervention,
            )
        return ({"opened": opened_summary(opened)}, {"opened": opened}) if opened else ({}, {})

    if is_last is None:
        is_last = next_position(approval_task.process, step.position) is None
    if action in DECISION_TRANSITIONS:
        nomination = transition(
            nomination=nomination,
            by=by,
            action=DECISION_TRANSITIONS[action],
            comment=comment,
            data=data,
            authorised=True,
            expected_version=expected_version,
            current=True,
            then=move_chain,
        )
    elif action == StepAction.APPROVE and is_last:
        nomination = _award(
            nomination=nomination,
            by=by,
            decision_number=decision_number,
            signed_on=signed_on,
            data=data,
            deciding_unit_id=approval_task.unit_id,
            expected_version=expected_version,
            then=move_chain,
            document=document,
        )
    else:
        try:
            nomination.save_moved(
                seen_version=nomination.version if expected_version is None else expected_version, fields=()
            )
        except ConcurrentTransition as exc:
            raise stale_error(Nomination.objects.get(pk=nomination.pk)) from exc
        extra, context = move_chain(nomination)
        audit_append(
            subject=nomination,
            actor=by,
            action=SENT_BACK if action == StepAction.SEND_BACK else STEP_APPROVED,
            from_state=nomination.stage,
            to_state=nomination.stage,
            comment=comment,
            data={**data, **extra},
            context=context,
        )
    if kind_of(step).runs_out:
        # Clearing (or rejecting over) the posting's objections settles them.
        nomination.objections.filter(resolved_at__isnull=True).update(resolved_at=timezone.now())
    return nomination


def nomination_return(*, nomination: Nomination, by, reason: str, expected_version: int | None = None) -> Nomination:
    """Return the case for completion, on its open step."""
    return nomination_decide(
        task_id=open_task_id(nomination),
        by=by,
        action=StepAction.RETURN,
        comment=reason,
        expected_version=expected_version,
    )


def nomination_reject(*, nomination: Nomination, by, reason: str, expected_version: int | None = None) -> Nomination:
    """Reject the case, on its open step."""
    return nomination_decide(
        task_id=open_task_id(nomination),
        by=by,
        action=StepAction.REJECT,
        comment=reason,
        expected_version=expected_version,
    )


def nomination_approve(*, nomination: Nomination, by, comment: str = "", **decision) -> Nomination:
    """Approve the case's open step (at the last step ``decision_number`` and ``signed_on`` apply;
    ``expected_version`` as for every write)."""
    return nomination_decide(
        task_id=open_task_id(nomination), by=by, action=StepAction.APPROVE, comment=comment, **decision
    )


def nomination_award(
    *,
    nomination: Nomination,
    by,
    decision_number: str,
    signed_on: date | None = None,
    expected_version: int | None = None,
) -> Nomination:
    """Approve the last step: record the signed decision and move the nomination to replicate."""
    return nomination_approve(
        nomination=nomination,
        by=by,
        decision_number=decision_number,
        signed_on=signed_on,
        expected_version=expected_version,
    )


def _award(
    *,
    nomination: Nomination,
    by,
    decision_number: str,
    signed_on: date | None,
    data: dict,
    deciding_unit_id=None,
    expected_version: int | None = None,
    then=None,
    document: AwardDecision | None = None,
) -> Nomination:
    """A deputy (a vice-chairman for city forms) signs on the head's behalf; the decision says so.

    The deciding unit is the last step's (resolved over the tree of the case's start), so a case
    started before a reorganisation is signed in person by the old level's head. With ``document``
    (the product numbered the decision) the award takes its number, date and signature and lists
    itself in it; without, ``decision_number`` records a decision signed outside the product."""
    if document is not None:
        decision_number, signed_on, on_behalf = document.number, document.signed_on, document.on_behalf
    else:
        decision_number = (decision_number or "").strip()
        if not decision_number:
            raise errors.DomainError(_("A decision number is required."))
        signed_on = signed_on or timezone.localdate()
        unit_id = deciding_unit_id or deciding_unit_id_of(nomination, OrgTree.on(signed_on))
        on_behalf = signer_on_behalf(by, unit_id=unit_id, day=signed_on)
    if document is not None:
        data = {**data, "award_decision": document.pk}
    current = transition(
        nomination=nomination,
        by=by,
        action="award",
        expected_version=expected_version,
        data={
            **data,
            "decision_number": decision_number,
            "signed_on": signed_on.isoformat(),
            "on_behalf": on_behalf,
        },
        authorised=True,
        current=True,
        then=then,
    )
    Decision.objects.create(
        nomination=current,
        number=decision_number,
        signed_on=signed_on,
        signer=by,
        on_behalf=on_behalf,
        document=document,
    )
    return current


def signer_on_behalf(user, *, unit_id, day: date) -> bool:
    """Whether ``user`` signs a decision of ``unit_id`` on its head's behalf (they are not its head)."""
    return not Membership.objects.on(day).filter(user=user, unit_id=unit_id, role=Role.HEAD).exists()


def nomination_act(
    *,
    nomination: Nomination,
    by,
    action: str,
    comment: str = "",
    expected_version: int | None = None,
    decision_number: str = "",
    signed_on: date | None = None,
) -> Nomination:
    """Take the named transition through its service: one entry point for screens and admin actions.

    Return, reject and award act on the case's open approval step (the admin decides it).
    """
    common = {"nomination": nomination, "by": by, "expected_version": expected_version}
    if action == "award":
        return nomination_award(**common, decision_number=decision_number, signed_on=signed_on)
    if action == "return_for_completion":
        return nomination_return(**common, reason=comment)
    if action == "reject":
        return nomination_reject(**common, reason=comment)
    if action == "withdraw":
        return nomination_withdraw(**common, reason=comment)
    if action in ("submit", "submit_simplified"):
        return nomination_submit(**common, comment=comment, action=action)
    if action == "resubmit":
        return nomination_resubmit(**common, comment=comment)
    if action == "close":
        return nomination_close(**common, reason=comment)
    if action not in AUDIT_VERBS:
        raise errors.DomainError(_("Unknown action."))
    return transition(nomination=nomination, by=by, action=action, comment=comment, expected_version=expected_version)


def step_reassign(*, task_id: int, to, by, reason: str) -> ApprovalTask:
    """Give an open step to another eligible user, with a reason; audited on the nomination. A step
    nobody can hold any more passes to the successor unit's holder, and the step with it."""
    reason = plain(reason)
    if not reason:
        raise errors.DomainError(_("Please give a reason."))
    with open_step(task_id) as approval_task:
        if not may_reassign(by, approval_task):
            raise errors.PermissionDenied(
                _("Only a secretary of the step's level or an administrator may reassign it.")
            )
        option = next((option for option in reassignment_choices(approval_task) if option.pk == to.pk), None)
        if option is None:
            raise errors.DomainError(
                _("%(who)s cannot take this step.") % {"who": to.get_full_name() or to.get_username()}
            )
        before = [candidate.user.get_username() for candidate in approval_task.candidates.select_related("user")]
        data = {"step": approval_task.step.code, "task": approval_task.pk, "from": before, "to": to.get_username()}
        if option.unit is not None and option.unit.pk != approval_task.unit_id:
            data["successor_unit"] = option.unit.code
            data["previous_unit"] = approval_task.unit_label
            approval_task.unit_id = option.unit.pk
            approval_task.unit_label = str(option.unit)[:255]
            approval_task.save(update_fields=["unit_id", "unit_label"])
        approval_reassign(approval_task=approval_task, to=to, by=by, reason=reason)
        audit_append(
            subject=nomination_of(approval_task.process),
            actor=by,
            action="processes.nomination.step_reassigned",
            comment=reason,
            data=data,
        )
    return approval_task
