"""The nomination a running approval is about, read once per write."""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar

from django.db.models import Exists
from django.utils import timezone

from processes.models import (
    Consultation,
    Nomination,
)
from workflow.models import ApprovalTask

#: Nominations a write already holds, by id: the engine's questions about them (who holds the next
#: step, which optional steps apply) are answered without reading them again.
_known_subjects: ContextVar[dict | None] = ContextVar("processes_known_subjects", default=None)


@contextmanager
def known_subject(nomination: Nomination):
    """Within the block, ``nomination_of`` answers with this very object for its case."""
    token = _known_subjects.set({**(_known_subjects.get() or {}), nomination.pk: nomination})
    try:
        yield nomination
    finally:
        _known_subjects.reset(token)


def nomination_of(process) -> Nomination:
    """The nomination a running approval is about, with what its steps read."""
    known = _known_subjects.get()
    if known and process.subject_id in known:
        return known[process.subject_id]
    return Nomination.objects.select_related("award_form", "nominee", "unit").get(pk=process.subject_id)


def nomination_for_decision(approval_task: ApprovalTask) -> Nomination:
    """The nomination of a step being decided, in one statement: with what deciding reads, and
    whether an agency it consulted on this step is still to answer in time (``consulting``)."""
    waiting = Consultation.objects.filter(
        approval_task_id=approval_task.pk, answered_at__isnull=True, due_at__gt=timezone.now()
    )
    return (
        Nomination.objects.select_related("award_form", "nominee", "unit")
        .annotate(consulting=Exists(waiting))
        .get(pk=approval_task.process.subject_id)
    )
