"""The open approval step a write acts on: found, re-read under its case's lock, or explained."""

from __future__ import annotations

from contextlib import contextmanager

from django.db import transaction
from django.utils.translation import gettext_lazy as _
from viewflow.workflow.status import STATUS

from processes import errors
from processes.models import (
    Nomination,
)
from workflow.approvals import (
    FlowLockFailed,
    StepNotFound,
    current_process,
    lock_failed,
    open_tasks,
    take_open_step,
)


def open_task_id(nomination: Nomination) -> int:
    process = running_process(nomination)
    task = open_tasks(process=process).first() if process is not None else None
    if task is None:
        raise errors.TransitionNotAllowed(_("No approval step of this nomination is open."))
    return task.pk


@contextmanager
def open_step(task_id: int, *, user=None):
    """The open step ``task_id``, read in a transaction by the statement that locks its case (with
    whether ``user`` holds it). A step that does not exist is a DomainError, a closed one StepClosed
    naming who closed it and when; a wait for the lock that runs out says who decided meanwhile, or
    that someone is deciding."""
    try:
        with transaction.atomic():
            yield take_open_step(task_id, user=user)
    except StepNotFound:
        raise errors.DomainError(_("This approval step does not exist.")) from None
    except FlowLockFailed:
        raise lock_failed(task_id) from None


def running_process(nomination: Nomination):
    process = current_process(nomination)
    if process is None or process.status in (STATUS.DONE, STATUS.CANCELED):
        return None
    return process


def not_yours(approval_task) -> errors.PermissionDenied:
    held_by = [candidate.user for candidate in approval_task.candidates.select_related("user")[:3]]
    names = ", ".join(user.get_full_name() or user.get_username() for user in held_by)
    if not names:
        return errors.PermissionDenied(
            _("The step “%(step)s” is waiting to be assigned.") % {"step": approval_task.step.name}
        )
    return errors.PermissionDenied(
        _("The step “%(step)s” is held by %(who)s.") % {"step": approval_task.step.name, "who": names}
    )
