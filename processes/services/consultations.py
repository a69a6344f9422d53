"""Opinions asked of other agencies during appraisal."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from processes import errors
from processes.models import (
    Consultation,
    OrganisationUnit,
)
from processes.permissions import HOLDER, STAFF_ROLES, decider_role, may_answer, user_scope
from processes.selectors import nomination_of
from processes.services.steps import not_yours, open_step
from processes.text import plain
from workflow.audit import audit_append
from workflow.calendar import due_at as working_due_at
from workflow.models import ApprovalTask

#: The appraisal's deadline when other agencies are consulted, and the longest an agency is given.
CONSULTED_APPRAISAL_WORKING_DAYS = 20
AGENCY_MAX_WORKING_DAYS = 10


def refuse_while_consulting(approval_task: ApprovalTask) -> None:
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
    question = plain(question)
    if not question or not agencies:
        raise errors.DomainError(_("Name at least one agency and the question asked."))
    if any(not 1 <= days <= AGENCY_MAX_WORKING_DAYS for _unit, _name, days in agencies):
        raise errors.DomainError(
            _("An agency is given between 1 and %(days)s working days.") % {"days": AGENCY_MAX_WORKING_DAYS}
        )
    with open_step(task_id) as approval_task:
        nomination = nomination_of(approval_task.process)
        if decider_role(by, approval_task, nomination) != HOLDER:
            raise not_yours(approval_task)
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


def consultation_answer(*, consultation_id: int, by, answer: str) -> Consultation:
    answer = plain(answer)
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
