"""Reads for signing decisions: the cases awaiting a signer's signature, and the numbered decisions
a user may open with their awardees (a constant number of queries whatever their number)."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count

from processes.models import AwardDecision, Decision, Nomination
from processes.permissions import UserScope, decisions_visible_to, nominations_visible_to
from processes.selectors.my_work import signing_steps
from workflow.approvals import inbox
from workflow.models import ApprovalTask, StepAction, StepKind
from workflow.records import next_position

#: At most this many cases on the signing page (a decision's annex is rarely longer).
LIMIT = 300


@dataclass(frozen=True)
class AwaitingSignature:
    task: ApprovalTask
    nomination: Nomination
    version: int

    @property
    def value(self) -> str:
        """The form's choice: ``<task id>:<version>``, as on My work."""
        return f"{self.task.pk}:{self.version}"


def awaiting_signature(user) -> list[AwaitingSignature]:
    """The open signing steps ``user`` holds (the last step of the case, an approval that awards),
    soonest due first; never their own nomination."""
    nomination_type = ContentType.objects.get_for_model(Nomination)
    tasks = [
        candidate.approval_task
        for candidate in inbox(user)
        .filter(approval_task__step__kind=StepKind.DECISION, approval_task__process__subject_type=nomination_type)
        .select_related("approval_task__process__version")[:LIMIT]
    ]
    signing = signing_steps({task.process.version_id for task in tasks})
    tasks = [
        task
        for task in tasks
        if task.step_id in signing
        and StepAction.APPROVE in task.step.actions
        and next_position(task.process, task.step.position) is None
    ]
    nominations = Nomination.objects.select_related("nominee", "unit", "award_form").in_bulk(
        {task.process.subject_id for task in tasks}
    )
    return [
        AwaitingSignature(task=task, nomination=nomination, version=nomination.version)
        for task in tasks
        if (nomination := nominations.get(task.process.subject_id)) is not None
        and nomination.nominee.user_id != user.pk
    ]


def is_signing_step(task: ApprovalTask) -> bool:
    """Whether approving ``task`` awards the case: it is the last step its case goes through."""
    return next_position(task.process, task.step.position) is None


def decision_list(user, *, scope: UserScope | None = None):
    """The decisions ``user`` may open, newest first, with their issuer, signer and awardee count."""
    return (
        decisions_visible_to(user, scope=scope)
        .select_related("issuer", "signer")
        .annotate(awardees=Count("awards"))
        .order_by("-signed_on", "-year", "-sequence", "-pk")
    )


def decision_awardees(decision: AwardDecision, user, *, scope: UserScope | None = None) -> list[Decision]:
    """The decision's awardees in the order signed, each marked ``visible`` when ``user`` may open the case."""
    awards = list(
        decision.awards.select_related("nomination__nominee", "nomination__unit", "nomination__award_form").order_by(
            "nomination__nominee__name", "pk"
        )
    )
    visible = set(
        nominations_visible_to(user, scope=scope)
        .filter(pk__in=[award.nomination_id for award in awards])
        .values_list("pk", flat=True)
    )
    for award in awards:
        award.visible = award.nomination_id in visible
    return awards


__all__ = ["AwaitingSignature", "awaiting_signature", "decision_awardees", "decision_list"]
