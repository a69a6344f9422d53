"""Every write to the award domain. Views, admin actions, commands and flow nodes call these.

Each service is atomic on its own; called inside a caller's transaction it joins it (flow nodes
rely on that). Each state change writes one audit entry in the same transaction.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransition, can_proceed
from viewflow.workflow.status import STATUS

from processes import errors
from processes.approvers import eligible_for_reassignment, successor_assignment, template_for
from processes.chains import nomination_of
from processes.guards import award_form_accepts
from processes.models import (
    FINAL_STAGES,
    AwardForm,
    Campaign,
    Consultation,
    Decision,
    Delegation,
    Membership,
    Nomination,
    Nominee,
    Objection,
    OrganisationUnit,
    Procedure,
    Role,
    Stage,
)
from processes.organisation import OrgTree
from processes.permissions import STAFF_ROLES, C, can_edit, can_propose_in, can_transition, capacities, user_scope
from processes.permissions import deciding_unit_id as deciding_unit_id_of
from processes.text import normalise, validate_name, validate_text
from workflow.approvals import (
    FlowLockFailed,
    approval_cancel,
    approval_decide,
    approval_lock,
    approval_reassign,
    approval_resume,
    approval_start,
    current_process,
    decisions_for,
    is_candidate,
    lock_failed,
    locked_task,
    next_position,
    open_tasks,
    previous_group_position,
)
from workflow.audit import audit_append, audit_entries_for
from workflow.calendar import due_at as working_due_at
from workflow.errors import ActionNotAllowed, StepClosed
from workflow.models import ApprovalTask, StepAction, StepKind, VoteItem, VoteSession
from workflow.process_templates import template_version_for
from workflow.voting import outcome_action, session_open, session_tally_due, vote_cast

#: Transition method → the verb of its audit action ``processes.nomination.<verb>``.
AUDIT_VERBS = {
    "start_cultivation": "cultivation_started",
    "submit": "submitted",
    "submit_simplified": "submitted_simplified",
    "return_for_completion": "returned",
    "resubmit": "resubmitted",
    "reject": "rejected",
    "award": "awarded",
    "close": "closed",
    "withdraw": "withdrawn",
}
REASON_REQUIRED = {"return_for_completion", "reject", "withdraw"}
EDITABLE_FIELDS = {"achievement_summary", "cultivation_goals", "mentor"}


def _plain(text: str | None, *, one_line: bool = False) -> str:
    """Text a person wrote, as stored: stripped, composed (NFC), without invisible characters. Screens
    check this in their forms; services check it again for every other caller."""
    text = normalise((text or "").strip())
    try:
        (validate_name if one_line else validate_text)(text)
    except ValidationError as exc:
        raise errors.DomainError(exc.messages[0]) from None
    return text


# --- organisation -------------------------------------------------------------------------------


def membership_create(
    *, user, unit: OrganisationUnit, role: str, valid_from: date, valid_to: date | None = None
) -> Membership:
    """Add a dated membership; a second head for an overlapping period is refused."""
    with transaction.atomic():
        # Serialise head appointments per unit: the overlap check and the insert see the same rows.
        OrganisationUnit.objects.select_for_update().filter(pk=unit.pk).first()
        membership = Membership(user=user, unit=unit, role=role, valid_from=valid_from, valid_to=valid_to)
        if (
            role == Role.HEAD
            and Membership.objects.filter(unit=unit, role=Role.HEAD).overlapping(valid_from, valid_to).exists()
        ):
            raise errors.OverlappingMembership()
        try:
            with transaction.atomic():
                membership.save()
        except IntegrityError as exc:  # the PostgreSQL exclusion constraint, under a race
            raise errors.OverlappingMembership() from exc
    return membership


# --- nominees ----------------------------------------------------------------------------------

#: What a unit records about a nominee, in the order the form asks for it.
NOMINEE_FIELDS = (
    "kind",
    "name",
    "gender",
    "birth_date",
    "ethnicity",
    "position",
    "id_number",
    "category",
    "collective_type",
    "remote_or_island",
    "pending_discipline",
    "under_investigation",
    "pending_complaint",
)


def nominee_create(*, by, unit: OrganisationUnit, **fields) -> Nominee:
    """Register a person or collective of ``unit``; only the unit's staff may (as for proposing)."""
    unknown = set(fields) - set(NOMINEE_FIELDS)
    if unknown:
        raise ValueError(f"unknown nominee fields: {', '.join(sorted(unknown))}")
    if not can_propose_in(by, unit):
        raise errors.PermissionDenied(_("Only the head, a deputy or the secretary of the unit may register nominees."))
    nominee = Nominee(unit=unit, **fields)
    nominee.full_clean()
    nominee.save(force_insert=True)
    return nominee


#: Decree 152/2025/ND-CP: no award while any of these is pending.
PROCEEDINGS_FLAGS = ("pending_discipline", "under_investigation", "pending_complaint")


def nominee_update(*, nominee: Nominee, by, **fields) -> Nominee:
    """Edit a nominee's record (their unit's staff, or an administrator). A pending-proceedings flag
    set or cleared is written on the log of each of their open cases, where the steps' holders see
    it at once and are told: the case can go on being appraised, but no award is made while one is
    pending."""
    unknown = set(fields) - set(NOMINEE_FIELDS)
    if unknown:
        raise ValueError(f"not editable here: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        current = Nominee.objects.select_for_update().get(pk=nominee.pk)
        if not can_propose_in(by, current.unit):
            raise errors.PermissionDenied(_("Only the head, a deputy or the secretary of the unit may edit nominees."))
        before = {name: getattr(current, name) for name in PROCEEDINGS_FLAGS}
        changed = {name: value for name, value in fields.items() if getattr(current, name) != value}
        for name, value in changed.items():
            setattr(current, name, value)
        current.full_clean()
        current.save()
        raised = sorted(name for name in PROCEEDINGS_FLAGS if getattr(current, name) and not before[name])
        lifted = sorted(name for name in PROCEEDINGS_FLAGS if before[name] and not getattr(current, name))
        if raised or lifted:
            open_cases = Nomination.objects.filter(nominee=current).exclude(stage__in=FINAL_STAGES).order_by("pk")
            for nomination in open_cases:
                audit_append(
                    subject=nomination,
                    actor=by,
                    action=(
                        "processes.nomination.proceedings_flagged"
                        if current.has_pending_proceedings
                        else "processes.nomination.proceedings_cleared"
                    ),
                    data={"raised": raised, "lifted": lifted},
                )
    return current


# --- nominations --------------------------------------------------------------------------------


def nomination_create(
    *,
    by,
    campaign: Campaign,
    award_form: AwardForm,
    nominee: Nominee,
    procedure: str = Procedure.REGULAR,
    unit: OrganisationUnit | None = None,
    achievement_summary: str = "",
    cultivation_goals: str = "",
    mentor: str = "",
) -> Nomination:
    unit = unit or nominee.unit
    if not can_propose_in(by, unit):
        raise errors.PermissionDenied(_("Only the head, a deputy or the secretary of the unit may propose."))
    if not award_form.is_active:
        raise errors.DomainError(_("This award form is no longer in use."))
    if not award_form_accepts(award_form, nominee):
        raise errors.DomainError(_("This award form is not given to this kind of nominee."))
    nomination = Nomination(
        campaign=campaign,
        award_form=award_form,
        nominee=nominee,
        unit=unit,
        procedure=procedure,
        achievement_summary=achievement_summary,
        cultivation_goals=cultivation_goals,
        mentor=mentor,
        created_by=by,
    )
    try:
        with transaction.atomic():
            nomination.save(force_insert=True)
            audit_append(
                subject=nomination,
                actor=by,
                action="processes.nomination.created",
                to_state=nomination.stage,
            )
    except IntegrityError as exc:
        if (
            Nomination.objects.filter(nominee=nominee, award_form=award_form, campaign=campaign)
            .exclude(stage__in=[Stage.REJECTED, Stage.WITHDRAWN])
            .exists()
        ):
            raise errors.DuplicateNomination() from exc
        raise
    return nomination


def _lock_current(nomination: Nomination, *, expected_version: int | None) -> Nomination:
    """Re-read the row under a lock and refuse to act on a version the caller never saw."""
    locked = (
        Nomination.objects.select_for_update(of=("self",))
        .select_related("award_form", "nominee", "campaign")
        .get(pk=nomination.pk)
    )
    expected = nomination.version if expected_version is None else expected_version
    if locked.version != expected:
        raise _stale(locked)
    return locked


def _stale(current: Nomination) -> errors.StaleObject:
    last = audit_entries_for(current).order_by("-seq").first()
    if last is None:
        return errors.StaleObject()
    who = (last.actor.get_full_name() or last.actor.get_username()) if last.actor else _("the system")
    when = timezone.localtime(last.created_at).strftime("%H:%M %d/%m/%Y")
    return errors.StaleObject(
        _(
            "%(who)s changed this nomination at %(when)s, after you opened it; it is now “%(stage)s”. "
            "Reload the page and try again."
        )
        % {"who": who, "when": when, "stage": current.get_stage_display()}
    )


def _transition(
    *,
    nomination: Nomination,
    by,
    action: str,
    comment: str = "",
    expected_version: int | None = None,
    data=None,
    authorised: bool = False,
) -> Nomination:
    """Take one FSM transition under the row lock. ``authorised``: the caller already checked who
    may act (a decision on an open step: holding the step is the permission)."""
    comment = _plain(comment)
    if action in REASON_REQUIRED and not comment:
        raise errors.DomainError(_("Please give a reason."))
    with transaction.atomic():
        current = _lock_current(nomination, expected_version=expected_version)
        method = getattr(current, action)
        meta = method._django_fsm
        if not can_proceed(method, check_conditions=False):
            raise errors.TransitionNotAllowed(
                _("This step is not possible while the nomination is in “%(stage)s”.")
                % {"stage": current.get_stage_display()}
            )
        if not authorised and not can_transition(by, current, action):
            raise errors.PermissionDenied()
        conditions = meta.get_transition(current.stage).conditions
        unmet = [condition.explain(current) for condition in conditions if not condition(current)]
        if unmet:
            raise errors.TransitionNotAllowed(reasons=unmet)
        from_stage = current.stage
        method()
        current.version += 1
        current.updated_at = timezone.now()
        try:
            current.save()
        except ConcurrentTransition as exc:
            raise errors.StaleObject() from exc
        audit_append(
            subject=current,
            actor=by,
            action=f"processes.nomination.{AUDIT_VERBS[action]}",
            from_state=from_stage,
            to_state=current.stage,
            comment=comment,
            data=data,
        )
    return current


def nomination_start_cultivation(*, nomination: Nomination, by, expected_version: int | None = None) -> Nomination:
    return _transition(nomination=nomination, by=by, action="start_cultivation", expected_version=expected_version)


def nomination_submit(
    *, nomination: Nomination, by, comment: str = "", expected_version: int | None = None, action: str = ""
) -> Nomination:
    """Submit for approval: from cultivate, or straight from discover under the simplified procedure.

    The approval chain starts in the same transaction, on the template version in force today and
    the organisation of today; a form with no chain cannot be submitted.
    """
    action = action or ("submit_simplified" if nomination.stage == Stage.DISCOVER else "submit")
    with transaction.atomic():
        current = _transition(
            nomination=nomination, by=by, action=action, comment=comment, expected_version=expected_version
        )
        today = timezone.localdate()
        version = template_version_for(template=template_for(nomination=current), on=today)
        approval_start(subject=current, version=version, structure_on=today)
    return current


def _running_process(nomination: Nomination):
    process = current_process(nomination)
    if process is None or process.status in (STATUS.DONE, STATUS.CANCELED):
        return None
    return process


def nomination_resubmit(
    *, nomination: Nomination, by, comment: str = "", expected_version: int | None = None
) -> Nomination:
    """Send a returned case back up: the chain resumes at the step that returned it."""
    with transaction.atomic():
        process = _running_process(nomination)
        if process is None:
            return _transition(
                nomination=nomination, by=by, action="resubmit", comment=comment, expected_version=expected_version
            )
        with approval_lock(process.pk):  # the process first, then the nomination: as decisions do
            current = _transition(
                nomination=nomination, by=by, action="resubmit", comment=comment, expected_version=expected_version
            )
            approval_resume(process=process)
    return current


def nomination_withdraw(*, nomination: Nomination, by, reason: str, expected_version: int | None = None) -> Nomination:
    """The proposing unit pulls the case back; a running chain ends and its open step closes."""
    with transaction.atomic():
        process = _running_process(nomination)
        if process is None:
            return _transition(
                nomination=nomination, by=by, action="withdraw", comment=reason, expected_version=expected_version
            )
        with approval_lock(process.pk):
            current = _transition(
                nomination=nomination, by=by, action="withdraw", comment=reason, expected_version=expected_version
            )
            approval_cancel(process=process)
    return current


# --- decisions on the open step ---------------------------------------------------------------

#: Decision → the transition it takes (approve takes ``award`` only at the last step).
DECISION_TRANSITIONS = {StepAction.RETURN: "return_for_completion", StepAction.REJECT: "reject"}


def _open_task_id(nomination: Nomination) -> int:
    process = _running_process(nomination)
    task = open_tasks(process=process).first() if process is not None else None
    if task is None:
        raise errors.TransitionNotAllowed(_("No approval step of this nomination is open."))
    return task.pk


@contextmanager
def _open_step(task_id: int):
    """The open step ``task_id``, re-read in a transaction under its case's lock. A step that does not
    exist is a DomainError, a closed one StepClosed naming who closed it and when; a wait for the
    lock that runs out says who decided meanwhile, or that someone is deciding."""
    process_id = ApprovalTask.objects.filter(pk=task_id).values_list("process_id", flat=True).first()
    if process_id is None:
        raise errors.DomainError(_("This approval step does not exist."))
    try:
        with transaction.atomic(), approval_lock(process_id):
            yield locked_task(task_id)
    except FlowLockFailed:
        raise lock_failed(task_id) from None


#: How someone may decide an open step: as one of its holders, or as an administrator stepping in
#: for them (with a reason, audited as such, never signing an award).
HOLDER = "holder"
INTERVENTION = "intervention"


def decider_role(user, approval_task: ApprovalTask, nomination: Nomination) -> str | None:
    """``HOLDER``, ``INTERVENTION`` or None. Nobody decides on their own nomination, superusers included."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if nomination.nominee.user_id == user.pk:
        return None
    if is_candidate(approval_task, user):
        return HOLDER
    if user.is_superuser:
        return INTERVENTION
    return None


def decisions_offered(approval_task: ApprovalTask, role: str | None, *, is_last: bool) -> list[str]:
    """The decisions ``role`` may take on the step: an administrator stepping in never signs the award."""
    if role is None:
        return []
    offered = decisions_for(approval_task.step)
    if role == INTERVENTION and is_last:
        offered = [action for action in offered if action != StepAction.APPROVE]
    return offered


def nomination_decide(
    *,
    task_id: int,
    by,
    action: str,
    comment: str = "",
    decision_number: str = "",
    signed_on: date | None = None,
    expected_version: int | None = None,
) -> Nomination:
    """Decide an open approval step: approve, return for completion or reject.

    Whoever holds the step decides; the task is re-read under the process lock, so of two people
    deciding at once one succeeds and the other is told who decided and when. An administrator who
    does not hold the step may move it as an intervention, with a reason, recorded as such; they never
    approve the last step (the signed award), which only its holder records. Nobody decides on their
    own nomination. ``expected_version``: the case's version the decider saw; a case changed since
    is refused as stale. Return and reject move the nomination (returned, rejected); approving the
    last step records the signed decision and moves it to replicate; any other approval moves the
    chain on. Each decision writes one audit entry on the nomination.
    """
    comment = _plain(comment)
    if action in (StepAction.RETURN, StepAction.REJECT) and not comment:
        raise errors.DomainError(_("Please give a reason."))
    with _open_step(task_id) as approval_task:
        nomination = nomination_of(approval_task.process)
        if nomination.nominee.user_id == by.pk:
            raise errors.PermissionDenied(_("Nobody decides on their own nomination."))
        role = decider_role(by, approval_task, nomination)
        if role is None:
            raise _not_yours(approval_task)
        step = approval_task.step
        if step.kind == StepKind.POSTING and not approval_task.candidates.exists():
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
        if expected_version is not None and nomination.version != expected_version:
            raise _stale(nomination)
        if action == StepAction.APPROVE:
            _refuse_while_consulting(approval_task)
        data = {"step": step.code, "task": approval_task.pk}
        if role == INTERVENTION:
            data["intervention"] = True
            data["holders"] = [
                candidate.user.get_username() for candidate in approval_task.candidates.select_related("user")
            ]
        elif approval_task.on_behalf_of_id and approval_task.assignee_id == by.pk:
            data["on_behalf_of"] = approval_task.on_behalf_of.get_username()
        return _apply_decision(
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
        )


def _apply_decision(
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
) -> Nomination:
    """What a decision does to the nomination (one audit entry), then to the chain; under the lock."""
    step = approval_task.step
    if action in DECISION_TRANSITIONS:
        nomination = _transition(
            nomination=nomination,
            by=by,
            action=DECISION_TRANSITIONS[action],
            comment=comment,
            data=data,
            authorised=True,
            expected_version=expected_version,
        )
    elif action == StepAction.APPROVE and next_position(approval_task.process, step.position) is None:
        nomination = _award(
            nomination=nomination,
            by=by,
            decision_number=decision_number,
            signed_on=signed_on,
            data=data,
            deciding_unit_id=approval_task.unit_id,
            expected_version=expected_version,
        )
    else:
        nomination = _lock_current(nomination, expected_version=expected_version)
        nomination.version += 1
        nomination.updated_at = timezone.now()
        nomination.save(update_fields=["version", "updated_at"])
        verb = "sent_back" if action == StepAction.SEND_BACK else "step_approved"
        audit_append(
            subject=nomination,
            actor=by,
            action=f"processes.nomination.{verb}",
            from_state=nomination.stage,
            to_state=nomination.stage,
            comment=comment,
            data=data,
        )
    if step.kind == StepKind.POSTING:
        # Clearing (or rejecting over) the posting's objections settles them.
        nomination.objections.filter(resolved_at__isnull=True).update(resolved_at=timezone.now())
    approval_decide(
        approval_task=approval_task, by=by, action=action, comment=comment, engine=engine, intervention=intervention
    )
    return nomination


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
        _apply_decision(
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


def _not_yours(approval_task) -> errors.PermissionDenied:
    held_by = [candidate.user for candidate in approval_task.candidates.select_related("user")[:3]]
    names = ", ".join(user.get_full_name() or user.get_username() for user in held_by)
    if not names:
        return errors.PermissionDenied(
            _("The step “%(step)s” is waiting to be assigned.") % {"step": approval_task.step.name}
        )
    return errors.PermissionDenied(
        _("The step “%(step)s” is held by %(who)s.") % {"step": approval_task.step.name, "who": names}
    )


def nomination_return(*, nomination: Nomination, by, reason: str, expected_version: int | None = None) -> Nomination:
    """Return the case for completion, on its open step."""
    return nomination_decide(
        task_id=_open_task_id(nomination),
        by=by,
        action=StepAction.RETURN,
        comment=reason,
        expected_version=expected_version,
    )


def nomination_reject(*, nomination: Nomination, by, reason: str, expected_version: int | None = None) -> Nomination:
    """Reject the case, on its open step."""
    return nomination_decide(
        task_id=_open_task_id(nomination),
        by=by,
        action=StepAction.REJECT,
        comment=reason,
        expected_version=expected_version,
    )


def nomination_approve(*, nomination: Nomination, by, comment: str = "", **decision) -> Nomination:
    """Approve the case's open step (at the last step ``decision_number`` and ``signed_on`` apply;
    ``expected_version`` as for every write)."""
    return nomination_decide(
        task_id=_open_task_id(nomination), by=by, action=StepAction.APPROVE, comment=comment, **decision
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
) -> Nomination:
    """A deputy (a vice-chairman for city forms) signs on the head's behalf; the decision says so.

    The deciding unit is the last step's (resolved over the tree of the case's start), so a case
    started before a reorganisation is signed in person by the old level's head."""
    decision_number = (decision_number or "").strip()
    if not decision_number:
        raise errors.DomainError(_("A decision number is required."))
    signed_on = signed_on or timezone.localdate()
    scope = user_scope(by, day=signed_on)
    unit_id = deciding_unit_id or deciding_unit_id_of(nomination, scope.tree)
    on_behalf = not scope.roles.get(unit_id, frozenset()) & {Role.HEAD}
    current = _transition(
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
    )
    Decision.objects.create(
        nomination=current, number=decision_number, signed_on=signed_on, signer=by, on_behalf=on_behalf
    )
    return current


def nomination_close(
    *, nomination: Nomination, by, comment: str = "", expected_version: int | None = None
) -> Nomination:
    return _transition(nomination=nomination, by=by, action="close", comment=comment, expected_version=expected_version)


def nomination_update(*, nomination: Nomination, by, expected_version: int | None = None, **fields) -> Nomination:
    """Edit the dossier's text fields; a version the caller never saw is refused, not overwritten."""
    unknown = set(fields) - EDITABLE_FIELDS
    if unknown:
        raise ValueError(f"not editable here: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        current = _lock_current(nomination, expected_version=expected_version)
        if not can_edit(by, current):
            raise errors.PermissionDenied()
        changed = {name: value for name, value in fields.items() if getattr(current, name) != value}
        if not changed:
            return current
        for name, value in changed.items():
            setattr(current, name, value)
        current.version += 1
        current.updated_at = timezone.now()
        current.save(update_fields=[*changed, "version", "updated_at"])
        audit_append(
            subject=current,
            actor=by,
            action="processes.nomination.updated",
            data={"fields": sorted(changed)},
        )
    return current


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
    if action not in AUDIT_VERBS:
        raise errors.DomainError(_("Unknown action."))
    return _transition(nomination=nomination, by=by, action=action, comment=comment, expected_version=expected_version)


# --- who holds a step ----------------------------------------------------------------------------


def may_reassign(user, approval_task: ApprovalTask) -> bool:
    """An administrator, or a secretary of the step's unit or of a unit above it (the owning level),
    in today's tree or in the tree the case climbs (a unit abolished since has no parent today)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    if approval_task.unit_id is None:
        return False
    scope = user_scope(user)
    secretary_of = {unit_id for unit_id, held in scope.roles.items() if Role.SECRETARY in held}
    if not secretary_of:
        return False
    owning = {approval_task.unit_id, *scope.tree.ancestors(approval_task.unit_id)}
    if owning & secretary_of:
        return True
    structure_on = approval_task.process.structure_on
    if structure_on == scope.tree.day:
        return False
    return bool(set(OrgTree.on(structure_on).ancestors(approval_task.unit_id)) & secretary_of)


@dataclass(frozen=True)
class ReassignOption:
    """Someone a step may be given to; ``unit`` is set when the step passes to a successor unit
    (after a reorganisation left nobody to hold it where it was)."""

    user: object
    unit: OrganisationUnit | None = None

    @property
    def pk(self) -> int:
        return self.user.pk

    def __str__(self) -> str:
        name = self.user.get_full_name() or self.user.get_username()
        return f"{name} · {self.unit}" if self.unit is not None else name


def reassignment_choices(approval_task: ApprovalTask) -> list[ReassignOption]:
    """Who may be given the step: those the rule allows today (the resolved holders, the head they
    stand in for, the unit's deputies); else the active members of the step's unit; and when the step
    can no longer be held where it was (a reorganisation abolished or emptied its unit), whoever holds
    the same rule today in the successor unit (``approvers.successor_assignment``)."""
    process = approval_task.process
    nomination = nomination_of(process)
    today = timezone.localdate()
    try:
        return [
            ReassignOption(user)
            for user in eligible_for_reassignment(
                nomination=nomination, step=approval_task.step, structure_on=process.structure_on, people_on=today
            )
        ]
    except errors.NoApprover:
        pass
    if approval_task.unit_id is not None:
        rows = (
            Membership.objects.on(today)
            .filter(unit_id=approval_task.unit_id, user__is_active=True)
            .exclude(user_id=nomination.nominee.user_id)
            .select_related("user")
            .order_by("role", "user_id")
        )
        members = list({row.user_id: row.user for row in rows}.values())
        if members:
            return [ReassignOption(user) for user in members]
    try:
        successor = successor_assignment(nomination=nomination, step=approval_task.step, day=today)
    except errors.NoApprover:
        return []
    people = [*successor.users]
    if successor.on_behalf_of is not None:
        people.append(successor.on_behalf_of)
    options, seen = [], {nomination.nominee.user_id}
    for user in people:
        if user.pk not in seen:
            seen.add(user.pk)
            options.append(ReassignOption(user, unit=successor.unit))
    return options


def step_reassign(*, task_id: int, to, by, reason: str) -> ApprovalTask:
    """Give an open step to another eligible user, with a reason; audited on the nomination. A step
    nobody can hold any more passes to the successor unit's holder, and the step with it."""
    reason = _plain(reason)
    if not reason:
        raise errors.DomainError(_("Please give a reason."))
    with _open_step(task_id) as approval_task:
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


def delegation_create(
    *, by, delegator, delegate, unit: OrganisationUnit, valid_from: date, valid_to: date | None = None, reason=""
) -> Delegation:
    """A head names a stand-in for a date range; steps made in it go to the stand-in, on the head's behalf."""
    delegation_check(by=by, delegator=delegator, delegate=delegate, unit=unit, valid_from=valid_from)
    delegation = Delegation(
        delegator=delegator, delegate=delegate, unit=unit, valid_from=valid_from, valid_to=valid_to, reason=reason
    )
    delegation.full_clean()
    with transaction.atomic():
        delegation.save(force_insert=True)
        audit_append(
            subject=delegation,
            actor=by,
            action="processes.delegation.created",
            comment=reason,
            data={
                "delegator": delegator.get_username(),
                "delegate": delegate.get_username(),
                "unit": unit.code,
                "valid_from": valid_from.isoformat(),
                "valid_to": valid_to.isoformat() if valid_to else None,
            },
        )
    return delegation


def delegation_check(*, by, delegator, delegate, unit: OrganisationUnit, valid_from: date) -> None:
    """Raise the reason a delegation cannot be made (for forms to show before saving)."""
    if not (by.is_superuser or by.pk == delegator.pk):
        raise errors.PermissionDenied(_("Only the head themselves or an administrator may delegate."))
    if not Membership.objects.on(valid_from).filter(unit=unit, user=delegator, role=Role.HEAD).exists():
        raise errors.DomainError(_("%(who)s does not head this unit on that day.") % {"who": delegator})
    if not Membership.objects.on(valid_from).filter(unit=unit, user=delegate).exists():
        raise errors.DomainError(_("The stand-in must belong to the unit."))


# --- public posting: objections ------------------------------------------------------------------


def _open_window(nomination: Nomination) -> ApprovalTask | None:
    process = _running_process(nomination)
    if process is None:
        return None
    return ApprovalTask.objects.filter(process=process, closed_at__isnull=True, step__kind=StepKind.POSTING).first()


def objection_record(*, nomination: Nomination, by, author: str, content: str) -> Objection:
    """Record an objection to a posted nominee (the Board receives them), while the window is open."""
    author, content = _plain(author, one_line=True), _plain(content)
    if not author or not content:
        raise errors.DomainError(_("Say who objects and what the objection is."))
    if not capacities(by, nomination) & {C.ADMIN, C.BOARD}:
        raise errors.PermissionDenied(_("Objections are recorded by the Emulation and Commendation Board."))
    process = _running_process(nomination)
    if process is None:
        raise errors.TransitionNotAllowed(_("This nominee is not publicly posted now."))
    # Under the case's lock: the window's timer cannot close it between this check and the insert.
    with transaction.atomic(), approval_lock(process.pk):
        window = _open_window(nomination)
        if window is None or window.task.status != STATUS.SCHEDULED:
            raise errors.TransitionNotAllowed(_("This nominee is not publicly posted now."))
        objection = Objection.objects.create(
            nomination=nomination,
            window=window,
            author=author[:255],
            content=content,
            recorded_by=by,
            recorded_at=timezone.now(),
        )
        audit_append(
            subject=nomination,
            actor=by,
            action="processes.nomination.objection_recorded",
            comment=content,
            data={"step": window.step.code, "task": window.pk, "author": author[:255]},
        )
    return objection


# --- consultation of other agencies during appraisal ----------------------------------------------

#: The appraisal's deadline when other agencies are consulted, and the longest an agency is given.
CONSULTED_APPRAISAL_WORKING_DAYS = 20
AGENCY_MAX_WORKING_DAYS = 10


def _refuse_while_consulting(approval_task: ApprovalTask) -> None:
    """The appraisal goes on once every agency answered or its deadline passed."""
    waiting = Consultation.objects.filter(
        approval_task=approval_task, answered_at__isnull=True, due_at__gt=timezone.now()
    ).order_by("due_at")
    if waiting.exists():
        raise errors.TransitionNotAllowed(
            _("Waiting for the opinion of %(agencies)s (until %(until)s).")
            % {
                "agencies": ", ".join(row.agency_name for row in waiting),
                "until": timezone.localtime(waiting.last().due_at).strftime("%d/%m/%Y"),
            }
        )


def consultation_request(
    *, task_id: int, by, agencies: list[tuple[OrganisationUnit | None, str, int]], question: str
) -> list[Consultation]:
    """Ask agencies for their opinion on the case, in parallel, each with its own deadline in working
    days (at most 10). ``agencies``: (unit in the tree or None, name, working days). The appraisal's
    deadline becomes 20 working days from its start. Asked by whoever holds the open step."""
    question = _plain(question)
    if not question or not agencies:
        raise errors.DomainError(_("Name at least one agency and the question asked."))
    if any(not 1 <= days <= AGENCY_MAX_WORKING_DAYS for _unit, _name, days in agencies):
        raise errors.DomainError(
            _("An agency is given between 1 and %(days)s working days.") % {"days": AGENCY_MAX_WORKING_DAYS}
        )
    with _open_step(task_id) as approval_task:
        nomination = nomination_of(approval_task.process)
        if decider_role(by, approval_task, nomination) != HOLDER:
            raise _not_yours(approval_task)
        now = timezone.now()
        rows = Consultation.objects.bulk_create(
            Consultation(
                nomination=nomination,
                approval_task=approval_task,
                agency=unit,
                agency_name=(name or str(unit or "")).strip()[:255],
                question=question,
                requested_by=by,
                requested_at=now,
                due_at=working_due_at(now, days),
            )
            for unit, name, days in agencies
        )
        extended = working_due_at(approval_task.opened_at, CONSULTED_APPRAISAL_WORKING_DAYS)
        if extended > approval_task.due_at:
            approval_task.due_at = extended
            approval_task.save(update_fields=["due_at"])
            approval_task.candidates.update(due_at=extended)
        audit_append(
            subject=nomination,
            actor=by,
            action="processes.nomination.consultation_requested",
            comment=question,
            data={
                "step": approval_task.step.code,
                "task": approval_task.pk,
                "agencies": [row.agency_name for row in rows],
                "step_due_at": approval_task.due_at.isoformat(),
            },
        )
    return rows


def may_answer(user, consultation: Consultation) -> bool:
    """The agency's head, deputy or secretary; for an agency with nobody in the tree, a Board officer
    (who records its letter); an administrator always."""
    if user.is_superuser:
        return True
    scope = user_scope(user)
    if consultation.agency_id is not None and scope.roles.get(consultation.agency_id, frozenset()) & set(STAFF_ROLES):
        return True
    agency_staffed = (
        consultation.agency_id is not None
        and Membership.objects.on(timezone.localdate()).filter(unit_id=consultation.agency_id).exists()
    )
    return scope.board and not agency_staffed


def consultation_answer(*, consultation_id: int, by, answer: str) -> Consultation:
    answer = _plain(answer)
    if not answer:
        raise errors.DomainError(_("Write the agency's opinion."))
    with transaction.atomic():
        consultation = (
            Consultation.objects.select_for_update(of=("self",)).select_related("nomination").get(pk=consultation_id)
        )
        if consultation.answered_at is not None:
            raise errors.StaleObject(_("This opinion has already been recorded."))
        if not may_answer(by, consultation):
            raise errors.PermissionDenied(_("Only the agency, or the Board for an agency outside the system, answers."))
        scope = user_scope(by)
        consultation.answer = answer
        consultation.answered_by = by
        consultation.answered_at = timezone.now()
        consultation.via_board = not (
            consultation.agency_id is not None
            and scope.roles.get(consultation.agency_id, frozenset()) & set(STAFF_ROLES)
        )
        consultation.save(update_fields=["answer", "answered_by", "answered_at", "via_board"])
        audit_append(
            subject=consultation.nomination,
            actor=by,
            action="processes.nomination.consultation_answered",
            comment=answer,
            data={
                "agency": consultation.agency_name,
                "consultation": consultation.pk,
                "via_board": consultation.via_board,
            },
        )
    return consultation


# --- council sessions ------------------------------------------------------------------------------


def may_open_session(user, council_unit_id: int | None, *, scope=None) -> bool:
    """An administrator, a Board officer (the city council's secretariat), or the head, a deputy or the
    secretary of the council's unit or of the unit it belongs to (a department's own council)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    scope = scope or user_scope(user)
    if scope.board:
        return True
    if council_unit_id is None:
        return False
    owners = {council_unit_id, scope.tree.parent.get(council_unit_id)}
    return any(scope.roles.get(unit_id, frozenset()) & set(STAFF_ROLES) for unit_id in owners if unit_id)


def sessions_visible_to(user, *, scope=None):
    """The sessions ``may_see_session`` lets ``user`` see, as one queryset: all for an admin or the
    Board; otherwise those they hold a ballot in and those of a council they may convene."""
    scope = scope or user_scope(user)
    sessions = VoteSession.objects.all()
    if scope.user_id is None:
        return sessions.none()
    if scope.is_admin or scope.board:
        return sessions
    staff = {unit_id for unit_id, held in scope.roles.items() if held & set(STAFF_ROLES)}
    convenes = staff | {unit_id for unit_id, parent in scope.tree.parent.items() if parent in staff}
    return sessions.filter(Q(task__owner_id=scope.user_id) | Q(council_unit_id__in=convenes)).distinct()


def may_see_session(user, session: VoteSession) -> bool:
    """Its members (they hold a ballot task), the Board, and whoever may convene that council."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    scope = user_scope(user)
    return (
        scope.is_admin
        or scope.board
        or session.task_set.filter(owner=user).exists()
        or may_open_session(user, session.council_unit_id, scope=scope)
    )


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
