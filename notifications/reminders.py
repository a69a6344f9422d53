"""The reminder scan: run by beat (every few minutes), with ``now`` as an argument so it can be replayed.

On a working day from ``NOTIFICATION_HOUR`` it finds, each with one query on the open tasks' due
time (the partial index ``approval_task_open_due``):

- reminders: tasks due N working days from today, N one of their step's reminder offsets;
- due today: tasks due before the end of today;
- overdue: tasks already past due, escalated every ``NOTIFICATION_ESCALATION_EVERY`` working days
  to the step's escalation target (default: the head of the parent unit) and the case's submitter.

Each notification's slot is the day (or the offset), so running the scan twice, or on two beat
instances, writes each row once: the outbox's unique key deduplicates.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from notifications.events import describe, link_to, submitter_of
from notifications.models import Event
from notifications.outbox import Notice, notify_many
from processes.models import Membership, Nomination, OrganisationUnit
from processes.organisation import OrgTree, unit_head_on
from workflow import calendar
from workflow.models import ApprovalCandidate, ApprovalTask, EscalationRule


def _open_tasks():
    # Posting windows have no holder: nobody to remind.
    held = ApprovalCandidate.objects.filter(approval_task=OuterRef("pk"))
    return (
        ApprovalTask.objects.filter(closed_at__isnull=True)
        .filter(Exists(held))
        .select_related("step", "process")
        .prefetch_related("candidates__user")
    )


def scan(*, now: datetime) -> int:
    local = timezone.localtime(now)
    today = local.date()
    if not calendar.is_working_day(today) or local.hour < settings.NOTIFICATION_HOUR:
        return 0
    start_of_today = local.replace(hour=0, minute=0, second=0, microsecond=0)
    start_of_tomorrow = start_of_today + timedelta(days=1)
    notices: list[Notice] = []
    for cached in (_tree, _head, _submitter):
        cached.cache_clear()  # read afresh by each scan, once within it
    with transaction.atomic(), translation.override("vi"):
        nominations = {}
        offsets = set()
        for values in (
            ApprovalTask.objects.filter(closed_at__isnull=True)
            .values_list("step__reminder_offsets", flat=True)
            .distinct()
        ):
            offsets.update(values or [])
        for n in sorted(offsets):
            window = calendar.reminder_due_range(today, n)
            if window is None:
                continue
            tasks = list(_open_tasks().filter(due_at__gte=window[0], due_at__lt=window[1]))
            _nominations(tasks, nominations)
            for task in tasks:
                if n in (task.step.reminder_offsets or []):
                    notices += _tell_holders(task, Event.REMINDER, f"{today.isoformat()}-{n}", nominations)
        tasks = list(_open_tasks().filter(due_at__gte=start_of_today, due_at__lt=start_of_tomorrow))
        _nominations(tasks, nominations)
        for task in tasks:
            notices += _tell_holders(task, Event.DUE_TODAY, today.isoformat(), nominations)
        every = max(settings.NOTIFICATION_ESCALATION_EVERY, 1)
        tasks = list(_open_tasks().filter(due_at__lt=start_of_today))
        _nominations(tasks, nominations)
        for task in tasks:
            late = calendar.working_days_between(timezone.localdate(task.due_at), today)
            if late >= 1 and (late - 1) % every == 0:  # the first late day, then every N working days
                notices += _escalate(task, today, late, nominations)
        return notify_many(notices)


def _nomination(task, cache) -> Nomination:
    subject_id = task.process.subject_id
    if subject_id not in cache:
        cache[subject_id] = Nomination.objects.select_related("nominee", "award_form", "unit").get(pk=subject_id)
    return cache[subject_id]


def _nominations(tasks, cache) -> None:
    """Load the nominations of a batch of tasks in one query."""
    wanted = {task.process.subject_id for task in tasks} - set(cache)
    cache.update(Nomination.objects.select_related("nominee", "award_form", "unit").in_bulk(list(wanted)))


def _tell_holders(task, event, slot, cache) -> list[Notice]:
    nomination = _nomination(task, cache)
    due = timezone.localtime(task.due_at).strftime("%H:%M %d/%m/%Y")
    subject = {
        Event.REMINDER: _("Reminder: %(step)s is due %(due)s"),
        Event.DUE_TODAY: _("Due today: %(step)s"),
    }[event] % {"step": task.step.name, "due": due}
    body = _("%(case)s\nDue: %(due)s") % {"case": describe(nomination), "due": due}
    return [
        Notice(candidate.user, event, nomination, f"{slot}-t{task.pk}", subject, body, link_to(nomination))
        for candidate in task.candidates.all()
    ]


@cache
def _tree(day) -> OrgTree:
    return OrgTree.on(day)


@cache
def _head(unit_id: int):
    return unit_head_on(OrganisationUnit(pk=unit_id))


@cache
def _submitter(nomination_id: int):
    return submitter_of(Nomination.objects.get(pk=nomination_id))


def escalation_targets(task, nomination) -> list:
    rule = task.step.escalation_rule
    people = []
    if rule == EscalationRule.PARENT_HEAD and task.unit_id:
        parent = _tree(task.process.structure_on).parent.get(task.unit_id)
        if parent:
            people.append(_head(parent))
    elif rule == EscalationRule.UNIT_HEAD and task.unit_id:
        people.append(_head(task.unit_id))
    elif rule == EscalationRule.UNIT_MEMBERS:
        codes = [code.strip() for code in task.step.escalation_param.split(",") if code.strip()]
        people += [
            row.user
            for row in Membership.objects.on(timezone.localdate()).filter(unit__code__in=codes).select_related("user")
        ]
    if rule != EscalationRule.NONE:
        people.append(_submitter(nomination.pk))
    return [person for person in people if person is not None]


def _escalate(task, today, late, cache) -> list[Notice]:
    nomination = _nomination(task, cache)
    subject = _("Overdue by %(days)s working day(s): %(step)s") % {"days": late, "step": task.step.name}
    holders = ", ".join(
        candidate.user.get_full_name() or candidate.user.get_username() for candidate in task.candidates.all()
    )
    body = _("%(case)s\nHeld by: %(holders)s\nWas due: %(due)s") % {
        "case": describe(nomination),
        "holders": holders,
        "due": timezone.localtime(task.due_at).strftime("%H:%M %d/%m/%Y"),
    }
    people = {person.pk: person for person in escalation_targets(task, nomination)}.values()
    slot = f"{today.isoformat()}-t{task.pk}"
    return [Notice(person, Event.OVERDUE, nomination, slot, subject, body, link_to(nomination)) for person in people]
