"""Who is told of what: the audit log is the event stream. Each new audit entry of a nomination is
read here, in the transaction that wrote it, and the outbox rows it calls for are written beside it,
so an event and its notifications commit or roll back together. The domain never imports this."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from notifications.models import Event
from notifications.outbox import notify
from processes.models import Nomination
from processes.organisation import unit_head_on
from workflow.audit import audit_entries_for
from workflow.models import ApprovalTask, AuditEntry

SUBMISSIONS = (
    "processes.nomination.submitted",
    "processes.nomination.submitted_simplified",
    "processes.nomination.resubmitted",
)
OUTCOMES = {
    "processes.nomination.returned": Event.RETURNED,
    "processes.nomination.rejected": Event.REJECTED,
    "processes.nomination.awarded": Event.DECIDED,
}


def describe(nomination: Nomination) -> str:
    return f"{nomination.nominee.name} · {nomination.award_form.name} · {nomination.unit.name}"


def link_to(nomination: Nomination) -> str:
    return reverse("processes:nomination-detail", args=[nomination.pk])


def submitter_of(nomination: Nomination):
    """Who sent the case up last: the secretary (or head) to tell of its outcome."""
    entry = audit_entries_for(nomination).filter(action__in=SUBMISSIONS).order_by("-seq").select_related("actor")
    entry = entry.first()
    return entry.actor if entry is not None else nomination.created_by


def submitters_of(nomination_ids) -> dict[int, int | None]:
    """``submitter_of`` for many cases at once: nomination id → user id, in two queries."""
    nomination_ids = set(nomination_ids)
    if not nomination_ids:
        return {}
    found = dict(Nomination.objects.filter(pk__in=nomination_ids).values_list("pk", "created_by_id"))
    entries = (
        AuditEntry.objects.filter(
            chain__content_type=ContentType.objects.get_for_model(Nomination),
            chain__object_id__in=nomination_ids,
            action__in=SUBMISSIONS,
        )
        .order_by("seq")
        .values_list("chain__object_id", "actor_id")
    )
    for object_id, actor_id in entries:  # in order: the last submission wins
        if actor_id is not None:
            found[object_id] = actor_id
    return found


def on_audit_entry(sender, instance: AuditEntry, created: bool, raw: bool = False, **kwargs) -> None:
    if not created or raw or not instance.action.startswith("processes.nomination."):
        return
    if instance.chain.content_type_id != ContentType.objects.get_for_model(Nomination).pk:
        return
    if instance.action == "processes.nomination.step_opened":
        step_assigned(instance)
    elif instance.action in OUTCOMES:
        outcome(instance, OUTCOMES[instance.action])


def _nomination(entry: AuditEntry) -> Nomination:
    return Nomination.objects.select_related("nominee", "award_form", "unit").get(pk=entry.chain.object_id)


def step_assigned(entry: AuditEntry) -> None:
    holders = get_user_model().objects.filter(username__in=entry.data.get("holders", []), is_active=True)
    if not holders:
        return
    nomination = _nomination(entry)
    task = ApprovalTask.objects.select_related("step").filter(pk=entry.data.get("task")).first()
    step_name = task.step.name if task else entry.data.get("step", "")
    due = timezone.localtime(datetime.fromisoformat(entry.data["due_at"]))
    with translation.override("vi"):
        subject = _("A step for you: %(step)s") % {"step": step_name}
        body = _("%(case)s\nDue: %(due)s") % {"case": describe(nomination), "due": due.strftime("%H:%M %d/%m/%Y")}
    for holder in holders:
        notify(
            recipient=holder,
            event=Event.TASK_ASSIGNED,
            about=nomination,
            slot=f"task-{entry.data.get('task')}",
            subject=subject,
            body=body,
            link=link_to(nomination),
        )


def outcome(entry: AuditEntry, event: Event) -> None:
    nomination = _nomination(entry)
    recipients = {user.pk: user for user in (submitter_of(nomination), unit_head_on(nomination.unit)) if user}
    with translation.override("vi"):
        subject = {
            Event.RETURNED: _("Returned for completion: %(case)s"),
            Event.REJECTED: _("Rejected: %(case)s"),
            Event.DECIDED: _("Award decided: %(case)s"),
        }[event] % {"case": nomination.nominee.name}
        body = describe(nomination) + (f"\n{entry.comment}" if entry.comment else "")
    for user in recipients.values():
        notify(
            recipient=user,
            event=event,
            about=nomination,
            slot=f"audit-{entry.seq}",
            subject=subject,
            body=body,
            link=link_to(nomination),
        )
