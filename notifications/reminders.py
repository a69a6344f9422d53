"""The reminder scan: run by beat (every few minutes), with ``now`` as an argument so it can be replayed.

On a working day from ``NOTIFICATION_HOUR`` it finds, each with one query on the open tasks' due
time (the partial index ``approval_task_open_due``) joined to who holds them:

- reminders: tasks due N working days from today, N one of their step's reminder offsets;
- due today: tasks due before the end of today;
- overdue: tasks already past due, escalated every ``NOTIFICATION_ESCALATION_EVERY`` working days
  to the step's escalation target (default: the head of the parent unit) and the case's submitter;
- campaign deadlines: units that have sent up nothing to a campaign whose submission deadline is
  ``NOTIFICATION_CAMPAIGN_OFFSETS`` working days away, or whose last working day is today.

Rows are read as plain values and written by one multi-row insert per thousand notices
(``outbox.notify_many``): a heavy morning of 100,000 open tasks is a few queries, not objects.
Each notification's slot is the day (or the offset), so running the scan twice, or on two beat
instances, writes each row once: the outbox's unique key deduplicates.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from notifications.events import describe, link_to, submitters_of
from notifications.models import Event
from notifications.outbox import Notice, notify_many
from processes.choices import EscalationRule
from processes.models import Campaign, Membership, Nomination, OrganisationUnit, Role, UnitKind
from processes.organisation import OrgTree, unit_head_on
from workflow import calendar
from workflow.models import ApprovalProcess, ApprovalTask, StepKind

FORMAT = "%H:%M %d/%m/%Y"


@dataclass
class Person:
    pk: int
    email: str
    name: str
    active: bool = True


@dataclass
class OpenTask:
    """An open task with holders, as the scan reads it: values, not model instances."""

    pk: int
    due_at: datetime
    unit_id: int | None
    structure_on: date
    nomination_id: int
    step_name: str
    offsets: list[int]
    rule: str
    param: str
    holders: list[Person] = field(default_factory=list)


def open_tasks(*, held: bool, **due) -> list[OpenTask]:
    """Open decision steps whose due time is in the range ``due`` (``due_at__gte``/``due_at__lt``), with
    their holders, in one query. ``held``: only those somebody holds (whom to remind); otherwise also
    those nobody could be given (an escalation is all the more needed). Posting windows and council
    votes are not decided by a holder: they are left out."""
    tasks = ApprovalTask.objects.filter(closed_at__isnull=True, step__kind=StepKind.DECISION)
    if held:
        tasks = tasks.filter(candidates__is_open=True)
    rows = (
        tasks.filter(**due)
        .order_by("pk")
        .values_list(
            "pk",
            "due_at",
            "unit_id",
            "process__structure_on",
            "process__subject_id",
            "step__name",
            "step__reminder_offsets",
            "step__escalation_rule",
            "step__escalation_param",
            "candidates__user_id",
            "candidates__user__email",
            "candidates__user__first_name",
            "candidates__user__last_name",
            "candidates__user__username",
            "candidates__user__is_active",
            "candidates__is_open",
        )
    )
    found: dict[int, OpenTask] = {}
    for pk, due_at, unit_id, on, subject_id, name, offsets, rule, param, *holder in rows:
        task = found.get(pk)
        if task is None:
            task = found[pk] = OpenTask(pk, due_at, unit_id, on, subject_id, name, offsets or [], rule, param)
        user_id, email, first, last, login, active, is_open = holder
        if user_id is not None and is_open:
            task.holders.append(Person(user_id, email, f"{first} {last}".strip() or login, active))
    return list(found.values())


class Scan:
    """One run's lookups, each read once: cases, the tree of a day, unit heads, submitters."""

    def __init__(self, today: date):
        self.today = today
        self.content_type = ContentType.objects.get_for_model(Nomination).pk
        self.cases: dict[int, tuple[str, str]] = {}
        self.trees: dict[date, OrgTree] = {}
        self.heads: dict[int, Person | None] = {}
        self.submitters: dict[int, Person] = {}
        self.unit_members: dict[str, list[Person]] = {}
        self.zone = timezone.get_current_timezone()
        self.times: dict[datetime, str] = {}
        self.notices: list[Notice] = []

    def load_cases(self, tasks: list[OpenTask]) -> None:
        wanted = {task.nomination_id for task in tasks} - set(self.cases)
        for nomination in Nomination.objects.select_related("nominee", "award_form", "unit").filter(pk__in=wanted):
            self.cases[nomination.pk] = (describe(nomination), link_to(nomination))

    def tell(self, people, event: str, task: OpenTask, slot: str, subject: str, body: str) -> None:
        link = self.cases[task.nomination_id][1]
        for person in {person.pk: person for person in people if person is not None and person.active}.values():
            self.notices.append(
                Notice(
                    person.pk,
                    bool(person.email),
                    event,
                    self.content_type,
                    task.nomination_id,
                    slot,
                    subject,
                    body,
                    link,
                )
            )

    def local(self, moment: datetime) -> str:
        """A due time as people read it; tens of thousands per scan, most of them alike."""
        if moment not in self.times:
            self.times[moment] = moment.astimezone(self.zone).strftime(FORMAT)
        return self.times[moment]

    def remind(self, task: OpenTask, event: str, slot: str) -> None:
        due = self.local(task.due_at)
        if event == Event.REMINDER:
            subject = _("Reminder: %(step)s is due %(due)s") % {"step": task.step_name, "due": due}
        else:
            subject = _("Due today: %(step)s") % {"step": task.step_name}
        body = _("%(case)s\nDue: %(due)s") % {"case": self.cases[task.nomination_id][0], "due": due}
        self.tell(task.holders, event, task, f"{slot}-t{task.pk}", subject, body)

    def escalate(self, task: OpenTask, late: int) -> None:
        subject = _("Overdue by %(days)s working day(s): %(step)s") % {"days": late, "step": task.step_name}
        body = _("%(case)s\nHeld by: %(holders)s\nWas due: %(due)s") % {
            "case": self.cases[task.nomination_id][0],
            "holders": ", ".join(person.name for person in task.holders),
            "due": self.local(task.due_at),
        }
        slot = f"{self.today.isoformat()}-t{task.pk}"
        self.tell(self.escalation_targets(task), Event.OVERDUE, task, slot, subject, body)

    def escalation_targets(self, task: OpenTask) -> list[Person | None]:
        people: list[Person | None] = []
        if task.rule == EscalationRule.PARENT_HEAD and task.unit_id:
            parent = self.tree(task.structure_on).parent.get(task.unit_id)
            if parent:
                people.append(self.head(parent))
        elif task.rule == EscalationRule.UNIT_HEAD and task.unit_id:
            people.append(self.head(task.unit_id))
        elif task.rule == EscalationRule.UNIT_MEMBERS:
            people += self.members(task.param)
        if task.rule != EscalationRule.NONE:
            people.append(self.submitters.get(task.nomination_id))
        return people

    def tree(self, day: date) -> OrgTree:
        if day not in self.trees:
            self.trees[day] = OrgTree.on(day)
        return self.trees[day]

    def members(self, param: str) -> list[Person]:
        if param not in self.unit_members:
            codes = [code.strip() for code in param.split(",") if code.strip()]
            rows = Membership.objects.on(self.today).filter(unit__code__in=codes).select_related("user")
            self.unit_members[param] = [_person(row.user) for row in rows]
        return self.unit_members[param]

    def head(self, unit_id: int) -> Person | None:
        if unit_id not in self.heads:
            head = unit_head_on(OrganisationUnit(pk=unit_id), self.today)
            self.heads[unit_id] = _person(head) if head is not None else None
        return self.heads[unit_id]

    def load_submitters(self, tasks: list[OpenTask]) -> None:
        wanted = {task.nomination_id for task in tasks} - set(self.submitters)
        found = submitters_of(wanted)
        people = get_user_model().objects.in_bulk([pk for pk in found.values() if pk is not None])
        for nomination_id, user_id in found.items():
            if user_id in people:
                self.submitters[nomination_id] = _person(people[user_id])


def _person(user) -> Person:
    return Person(user.pk, user.email, user.get_full_name() or user.get_username(), user.is_active)


def scan(*, now: datetime) -> int:
    """Write the day's reminders, due-today notices and escalations; returns how many rows were new."""
    local = timezone.localtime(now)
    today = local.date()
    if not calendar.is_working_day(today) or local.hour < settings.NOTIFICATION_HOUR:
        return 0
    start_of_today = local.replace(hour=0, minute=0, second=0, microsecond=0)
    start_of_tomorrow = start_of_today + timedelta(days=1)
    run = Scan(today)
    with transaction.atomic(), translation.override("vi"):
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
            tasks = [
                task for task in open_tasks(held=True, due_at__gte=window[0], due_at__lt=window[1]) if n in task.offsets
            ]
            run.load_cases(tasks)
            for task in tasks:
                run.remind(task, Event.REMINDER, f"{today.isoformat()}-{n}")
        tasks = open_tasks(held=True, due_at__gte=start_of_today, due_at__lt=start_of_tomorrow)
        run.load_cases(tasks)
        for task in tasks:
            run.remind(task, Event.DUE_TODAY, today.isoformat())
        every = max(settings.NOTIFICATION_ESCALATION_EVERY, 1)
        late_by_day: dict[date, int] = {}
        escalated = []
        for task in open_tasks(held=False, due_at__lt=start_of_today):
            due_day = task.due_at.astimezone(run.zone).date()
            if due_day not in late_by_day:
                late_by_day[due_day] = calendar.working_days_between(due_day, today)
            late = late_by_day[due_day]
            if late >= 1 and (late - 1) % every == 0:  # the first late day, then every N working days
                escalated.append((task, late))
        run.load_cases([task for task, _late in escalated])
        run.load_submitters([task for task, _late in escalated])
        for task, late in escalated:
            run.escalate(task, late)
        campaign_deadlines(run)
        return notify_many(run.notices)


def campaign_deadlines(run: Scan) -> None:
    """Each unit the campaign's launching unit collects from (its children on the day, but the Board
    and the Council) that has sent up no case of the campaign yet (no chain started from it or a unit
    below it) is told, through its head and secretaries, ``NOTIFICATION_CAMPAIGN_OFFSETS`` working days
    before the submission deadline and on the last working day before it."""
    today = run.today
    offsets = {n for n in settings.NOTIFICATION_CAMPAIGN_OFFSETS if n > 0} | {0}
    horizon = calendar.add_working_days(today, max(offsets)) + timedelta(days=14)  # a deadline on a day off
    campaigns = [
        campaign
        for campaign in Campaign.objects.filter(submission_deadline__gte=today, submission_deadline__lte=horizon)
        if calendar.working_days_between(today, campaign.submission_deadline) in offsets
    ]
    if not campaigns:
        return
    tree = run.tree(today)
    content_type = ContentType.objects.get_for_model(Campaign).pk
    chains = ApprovalProcess.objects.filter(
        subject_type=ContentType.objects.get_for_model(Nomination), subject_id=OuterRef("pk")
    )
    sent_up = defaultdict(set)
    for campaign_id, unit_id in (
        Nomination.objects.filter(campaign__in=campaigns).filter(Exists(chains)).values_list("campaign_id", "unit_id")
    ):
        sent_up[campaign_id].add(unit_id)
    late = {
        campaign.pk: [
            unit
            for unit, parent in tree.parent.items()
            if parent == campaign.launching_unit_id
            and tree.kind.get(unit) not in (UnitKind.BOARD, UnitKind.COUNCIL)
            and not (tree.descendants(unit) & sent_up[campaign.pk])
        ]
        for campaign in campaigns
    }
    people = defaultdict(list)
    names = {}
    for row in (
        Membership.objects.on(today)
        .filter(
            unit_id__in={unit for units in late.values() for unit in units},
            role__in=(Role.HEAD, Role.SECRETARY),
            user__is_active=True,
        )
        .select_related("user", "unit")
    ):
        people[row.unit_id].append(_person(row.user))
        names[row.unit_id] = row.unit.name
    link = reverse("processes:nomination-list")
    for campaign in campaigns:
        days = calendar.working_days_between(today, campaign.submission_deadline)
        deadline = campaign.submission_deadline.strftime("%d/%m/%Y")
        if days:
            subject = _("%(campaign)s: submissions due %(date)s, %(days)s working day(s) left") % {
                "campaign": campaign.name,
                "date": deadline,
                "days": days,
            }
        else:
            subject = _("%(campaign)s: submissions due %(date)s, today is the last working day") % {
                "campaign": campaign.name,
                "date": deadline,
            }
        for unit in late[campaign.pk]:
            body = _("%(unit)s has not sent up any case for this campaign yet.\nSubmission deadline: %(date)s") % {
                "unit": names.get(unit, ""),
                "date": deadline,
            }
            for person in people[unit]:
                run.notices.append(
                    Notice(
                        person.pk,
                        bool(person.email),
                        Event.CAMPAIGN_DEADLINE,
                        content_type,
                        campaign.pk,
                        f"{campaign.submission_deadline.isoformat()}-{days}-u{unit}",
                        subject,
                        body,
                        f"{link}?campaign={campaign.pk}",
                    )
                )
