"""A nomination's own life: opened, cultivated, submitted, resubmitted, withdrawn, closed, edited.

Each service is atomic on its own; called inside a caller's transaction it joins it. Each state
change writes one audit entry in the same transaction, and only through the model's transition methods.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransition, can_proceed

from processes import errors
from processes.approvers import template_for
from processes.guards import award_form_accepts
from processes.models import (
    AwardForm,
    Campaign,
    Nomination,
    Nominee,
    OrganisationUnit,
    Procedure,
    Stage,
)
from processes.permissions import can_edit, can_propose_in, can_transition
from processes.selectors import known_subject
from processes.services.steps import running_process
from processes.text import plain
from workflow.approvals import (
    approval_cancel,
    approval_lock,
    approval_resume,
    approval_start,
    opened_summary,
)
from workflow.audit import audit_append, audit_entries_for
from workflow.process_templates import template_version_for

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


def lock_current(nomination: Nomination, *, expected_version: int | None) -> Nomination:
    """Re-read the row under a lock and refuse to act on a version the caller never saw."""
    locked = (
        Nomination.objects.select_for_update(of=("self",))
        .select_related("award_form", "nominee", "campaign")
        .get(pk=nomination.pk)
    )
    expected = nomination.version if expected_version is None else expected_version
    if locked.version != expected:
        raise stale_error(locked)
    return locked


def stale_error(current: Nomination) -> errors.StaleObject:
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


def transition(
    *,
    nomination: Nomination,
    by,
    action: str,
    comment: str = "",
    expected_version: int | None = None,
    data=None,
    authorised: bool = False,
    current: bool = False,
    then=None,
) -> Nomination:
    """Take one FSM transition and write its one audit entry.

    ``authorised``: the caller already checked who may act (a decision on an open step: holding the
    step is the permission). ``current``: ``nomination`` was just read under the case's lock (a
    decision), so it is not read again; the write still refuses a row whose stage or version moved
    meanwhile. Otherwise the row is re-read under its own lock first. ``then(nomination)`` runs after
    the stage is written and before the entry, and returns what the entry adds to its data and to
    its listeners' context (the steps a chain opened, for instance)."""
    comment = plain(comment)
    if action in REASON_REQUIRED and not comment:
        raise errors.DomainError(_("Please give a reason."))
    # A decision runs inside its step's transaction, which gives up as a whole on a refusal: no
    # savepoint. Called on its own inside a caller's transaction, a refusal must leave that usable.
    with transaction.atomic(savepoint=not current):
        seen = nomination.version if expected_version is None else expected_version
        if current:
            if nomination.version != seen:
                raise stale_error(nomination)
        else:
            nomination = lock_current(nomination, expected_version=expected_version)
        method = getattr(nomination, action)
        meta = method._django_fsm
        if not can_proceed(method, check_conditions=False):
            raise errors.TransitionNotAllowed(
                _("This step is not possible while the nomination is in “%(stage)s”.")
                % {"stage": nomination.get_stage_display()}
            )
        if not authorised and not can_transition(by, nomination, action):
            raise errors.PermissionDenied()
        conditions = meta.get_transition(nomination.stage).conditions
        unmet = [condition.explain(nomination) for condition in conditions if not condition(nomination)]
        if unmet:
            raise errors.TransitionNotAllowed(reasons=unmet)
        from_stage = nomination.stage
        method()
        try:
            nomination.save_moved(seen_version=seen)
        except ConcurrentTransition as exc:
            raise stale_error(Nomination.objects.get(pk=nomination.pk)) from exc
        extra, context = then(nomination) if then is not None else ({}, {})
        audit_append(
            subject=nomination,
            actor=by,
            action=f"processes.nomination.{AUDIT_VERBS[action]}",
            from_state=from_stage,
            to_state=nomination.stage,
            comment=comment,
            data={**(data or {}), **extra},
            context=context,
        )
    return nomination


def nomination_start_cultivation(*, nomination: Nomination, by, expected_version: int | None = None) -> Nomination:
    return transition(nomination=nomination, by=by, action="start_cultivation", expected_version=expected_version)


def nomination_submit(
    *, nomination: Nomination, by, comment: str = "", expected_version: int | None = None, action: str = ""
) -> Nomination:
    """Submit for approval: from cultivate, or straight from discover under the simplified procedure.

    The approval chain starts in the same transaction, on the template version in force today and
    the organisation of today; a form with no chain cannot be submitted.
    """
    action = action or ("submit_simplified" if nomination.stage == Stage.DISCOVER else "submit")

    def start_chain(current: Nomination) -> dict:
        today = timezone.localdate()
        version = template_version_for(template=template_for(nomination=current), on=today)
        with known_subject(current):
            _process, opened = approval_start(subject=current, version=version, structure_on=today)
        return {"opened": opened_summary(opened)}, {"opened": opened}

    return transition(
        nomination=nomination,
        by=by,
        action=action,
        comment=comment,
        expected_version=expected_version,
        then=start_chain,
    )


def nomination_resubmit(
    *, nomination: Nomination, by, comment: str = "", expected_version: int | None = None
) -> Nomination:
    """Send a returned case back up: the chain resumes at the step that returned it."""
    with transaction.atomic():
        process = running_process(nomination)
        if process is None:
            return transition(
                nomination=nomination, by=by, action="resubmit", comment=comment, expected_version=expected_version
            )
        with approval_lock(process.pk):  # the process first, then the nomination: as decisions do

            def resume_chain(current: Nomination) -> dict:
                with known_subject(current):
                    opened = approval_resume(process=process)
                return {"opened": opened_summary(opened)}, {"opened": opened}

            return transition(
                nomination=nomination,
                by=by,
                action="resubmit",
                comment=comment,
                expected_version=expected_version,
                then=resume_chain,
            )


def nomination_withdraw(*, nomination: Nomination, by, reason: str, expected_version: int | None = None) -> Nomination:
    """The proposing unit pulls the case back; a running chain ends and its open step closes."""
    with transaction.atomic():
        process = running_process(nomination)
        if process is None:
            return transition(
                nomination=nomination, by=by, action="withdraw", comment=reason, expected_version=expected_version
            )
        with approval_lock(process.pk):
            current = transition(
                nomination=nomination, by=by, action="withdraw", comment=reason, expected_version=expected_version
            )
            approval_cancel(process=process)
    return current


def nomination_update(*, nomination: Nomination, by, expected_version: int | None = None, **fields) -> Nomination:
    """Edit the dossier's text fields; a version the caller never saw is refused, not overwritten."""
    unknown = set(fields) - EDITABLE_FIELDS
    if unknown:
        raise ValueError(f"not editable here: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        current = lock_current(nomination, expected_version=expected_version)
        if not can_edit(by, current):
            raise errors.PermissionDenied()
        changed = {name: value for name, value in fields.items() if getattr(current, name) != value}
        if not changed:
            return current
        for name, value in changed.items():
            setattr(current, name, value)
        current.save_moved(seen_version=current.version, fields=list(changed))
        audit_append(
            subject=current,
            actor=by,
            action="processes.nomination.updated",
            data={"fields": sorted(changed)},
        )
    return current
