"""Who is told of what: the audit log is the event stream. Each new audit entry of a nomination is
read here, in the transaction that wrote it, and the outbox rows it calls for are written beside it,
so an event and its notifications commit or roll back together. The domain never imports this."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core import checks
from django.db.models import Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from notifications.models import Event
from notifications.outbox import Notice, notify, notify_many
from processes import actions
from processes.models import Consultation, Membership, Nomination, Role
from processes.permissions import STAFF_ROLES
from workflow.actions import action_of
from workflow.actions import declared as declared_actions
from workflow.flows import CouncilFlow
from workflow.models import ApprovalCandidate, ApprovalTask, AuditEntry, VoteSession

SUBMISSIONS = (actions.SUBMITTED, actions.SUBMITTED_SIMPLIFIED, actions.RESUBMITTED)
#: A case's outcome → the event that tells it (``notify=("case_outcome",)`` in ``processes.actions``).
OUTCOMES = {
    actions.RETURNED: Event.RETURNED,
    actions.REJECTED: Event.REJECTED,
    actions.AWARDED: Event.DECIDED,
}


def describe(nomination: Nomination) -> str:
    return f"{nomination.nominee.name} · {nomination.award_form.name} · {nomination.unit.name}"


def link_to(nomination: Nomination) -> str:
    return reverse("processes:nomination-detail", args=[nomination.pk])


def submitter_of(nomination: Nomination):
    """Who sent the case up last: the secretary (or head) to tell of its outcome."""
    user_id = submitters_of([nomination.pk]).get(nomination.pk)
    return get_user_model().objects.filter(pk=user_id).first()


def submitters_of(nomination_ids) -> dict[int, int | None]:
    """Who sent each case up last (its last submission's actor, else its creator): nomination id →
    user id, for many cases in two queries."""
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
    """Write the notifications an entry calls for: those its action declares (``workflow.actions``,
    ``notify``), and, for a nomination's entry that opened steps, each new holder's."""
    if not created or raw:
        return
    declared = action_of(instance.action)
    on_nomination = instance.chain.content_type_id == ContentType.objects.get_for_model(Nomination).pk
    if on_nomination:
        opened = _opened(instance)
        if opened:
            steps_assigned(instance, opened)
    for name in declared.notify if declared else ():
        subject_model, notification = NOTIFICATIONS[name]
        if subject_model is not Nomination or on_nomination:
            notification(instance)


def _nomination(entry: AuditEntry) -> Nomination:
    """The entry's nomination: the very object its writer held (``entry.context``), else read."""
    subject = (getattr(entry, "context", None) or {}).get("subject")
    if isinstance(subject, Nomination) and subject.nominee_id is not None:
        return subject
    return Nomination.objects.select_related("nominee", "award_form", "unit").get(pk=entry.chain.object_id)


@dataclass(frozen=True)
class Opened:
    """A step an entry opened: which task, its step's name, when it is due, who holds it."""

    task_id: int
    step_name: str
    due_at: datetime
    holders: list


def _opened(entry: AuditEntry) -> list[Opened]:
    """The steps ``entry`` opened: from the tasks its writer handed over (``entry.context``), else from
    its data (a decision's ``opened``, or a ``step_opened`` entry's own)."""
    context = getattr(entry, "context", None) or {}
    if "opened" in context:
        return [
            Opened(task.pk, task.step.name, task.due_at, list(task.assignment.users))
            for task in context["opened"]
            if task.assignment.users
        ]
    rows = [entry.data] if entry.action == actions.STEP_OPENED else entry.data.get("opened", [])
    found = []
    for row in rows:
        holders = get_user_model().objects.filter(username__in=row.get("holders", []))
        task = ApprovalTask.objects.select_related("step").filter(pk=row.get("task")).first()
        step_name = task.step.name if task else row.get("step", "")
        found.append(Opened(row.get("task"), step_name, datetime.fromisoformat(row["due_at"]), list(holders)))
    return [opened for opened in found if opened.holders]


def steps_assigned(entry: AuditEntry, opened: list[Opened]) -> None:
    """Each holder of a step the entry opened: the step is theirs now (one insert for all of them)."""
    nomination = _nomination(entry)
    notices = []
    object_type_id = ContentType.objects.get_for_model(Nomination).pk
    for step in opened:
        due = timezone.localtime(step.due_at)
        with translation.override("vi"):
            subject = _("A step for you: %(step)s") % {"step": step.step_name}
            body = _("%(case)s\nDue: %(due)s") % {"case": describe(nomination), "due": due.strftime("%H:%M %d/%m/%Y")}
        notices += [
            Notice(
                recipient_id=holder.pk,
                has_email=bool(holder.email),
                event=Event.TASK_ASSIGNED,
                object_type_id=object_type_id,
                object_id=nomination.pk,
                slot=f"task-{step.task_id}",
                subject=subject,
                body=body,
                link=link_to(nomination),
            )
            for holder in step.holders
            if holder.is_active
        ]
    notify_many(notices)


def outcome(entry: AuditEntry, event: Event) -> None:
    """Who sent the case up last and the proposing unit's head: read in one query, told in one insert."""
    nomination = _nomination(entry)
    last_submitter = (
        AuditEntry.objects.filter(chain_id=entry.chain_id, action__in=SUBMISSIONS, actor__isnull=False)
        .order_by("-seq")
        .values("actor_id")[:1]
    )
    head = Membership.objects.on(timezone.localdate()).filter(unit_id=nomination.unit_id, role=Role.HEAD)
    recipients = get_user_model().objects.filter(
        Q(pk=Coalesce(Subquery(last_submitter), Value(nomination.created_by_id))) | Q(pk__in=head.values("user_id")),
        is_active=True,
    )
    with translation.override("vi"):
        subject = {
            Event.RETURNED: _("Returned for completion: %(case)s"),
            Event.REJECTED: _("Rejected: %(case)s"),
            Event.DECIDED: _("Award decided: %(case)s"),
        }[event] % {"case": nomination.nominee.name}
        body = describe(nomination) + (f"\n{entry.comment}" if entry.comment else "")
    object_type_id = ContentType.objects.get_for_model(Nomination).pk
    notify_many(
        [
            Notice(
                recipient_id=user.pk,
                has_email=bool(user.email),
                event=event,
                object_type_id=object_type_id,
                object_id=nomination.pk,
                slot=f"audit-{entry.seq}",
                subject=subject,
                body=body,
                link=link_to(nomination),
            )
            for user in recipients
        ]
    )


def ballots_open(entry: AuditEntry) -> None:
    """Each member with a ballot in the session just opened: a ballot is a task of theirs."""
    session = VoteSession.objects.filter(pk=entry.chain.object_id).first()
    if session is None:
        return
    members = get_user_model().objects.filter(
        pk__in=session.task_set.filter(flow_task=CouncilFlow.ballot).values("owner_id"), is_active=True
    )
    closes = timezone.localtime(session.closes_at).strftime("%H:%M %d/%m/%Y")
    with translation.override("vi"):
        subject = _("Your ballot: %(session)s (voting closes %(closes)s)") % {
            "session": session.title,
            "closes": closes,
        }
        body = _("%(council)s: %(cases)s case(s) on the agenda.\nVoting closes: %(closes)s") % {
            "council": session.council_label,
            "cases": entry.data.get("cases", ""),
            "closes": closes,
        }
    for member in members:
        notify(
            recipient=member,
            event=Event.BALLOT,
            about=session,
            slot="opened",
            subject=subject,
            body=body,
            link=reverse("processes:council-session", args=[session.pk]),
        )


def opinion_asked(entry: AuditEntry) -> None:
    """The staff of each agency asked (head, deputy, secretary); an agency outside the tree has none:
    the Board records its letter."""
    nomination = _nomination(entry)
    asked = Consultation.objects.filter(
        approval_task_id=entry.data.get("task"), answered_at__isnull=True, agency__isnull=False
    )
    staff = Membership.objects.on(timezone.localdate()).filter(
        unit_id__in=asked.values("agency_id"), role__in=STAFF_ROLES, user__is_active=True
    )
    by_agency: dict[int, list] = {}
    for row in staff.select_related("user"):
        by_agency.setdefault(row.unit_id, []).append(row.user)
    for consultation in asked:
        due = timezone.localtime(consultation.due_at).strftime("%H:%M %d/%m/%Y")
        with translation.override("vi"):
            subject = _("Opinion asked of %(agency)s: %(case)s") % {
                "agency": consultation.agency_name,
                "case": nomination.nominee.name,
            }
            body = _("%(case)s\n%(question)s\nAnswer due: %(due)s") % {
                "case": describe(nomination),
                "question": consultation.question,
                "due": due,
            }
        for user in by_agency.get(consultation.agency_id, []):
            notify(
                recipient=user,
                event=Event.OPINION_ASKED,
                about=nomination,
                slot=f"consultation-{consultation.pk}",
                subject=subject,
                body=body,
                link=reverse("processes:consultation", args=[consultation.pk]),
            )


def opinion_answered(entry: AuditEntry) -> None:
    """Who asked, and whoever holds the step now: the appraisal may go on once the answers are in."""
    nomination = _nomination(entry)
    consultation = Consultation.objects.filter(pk=entry.data.get("consultation")).first()
    if consultation is None:
        return
    holding = ApprovalCandidate.objects.filter(approval_task_id=consultation.approval_task_id, is_open=True)
    holders = list(get_user_model().objects.filter(pk__in=holding.values("user_id")))
    recipients = {user.pk: user for user in [consultation.requested_by, *holders] if user.is_active}
    waiting = Consultation.objects.filter(approval_task_id=consultation.approval_task_id, answered_at__isnull=True)
    with translation.override("vi"):
        subject = _("%(agency)s answered: %(case)s") % {
            "agency": consultation.agency_name,
            "case": nomination.nominee.name,
        }
        body = describe(nomination) + "\n" + entry.comment
        if not waiting.exists():
            body += "\n" + _("Every agency asked has now answered.")
    for user in recipients.values():
        notify(
            recipient=user,
            event=Event.OPINION_ANSWERED,
            about=nomination,
            slot=f"consultation-{consultation.pk}",
            subject=subject,
            body=body,
            link=link_to(nomination),
        )


def proceedings_flagged(entry: AuditEntry) -> None:
    """Whoever holds an open step of the case: a pending discipline, investigation or complaint means
    no award until it is resolved (Decree 152/2025/ND-CP)."""
    nomination = _nomination(entry)
    holding = ApprovalCandidate.objects.filter(
        is_open=True,
        approval_task__process__subject_type=ContentType.objects.get_for_model(Nomination),
        approval_task__process__subject_id=nomination.pk,
    )
    holders = get_user_model().objects.filter(pk__in=holding.values("user_id"), is_active=True)
    with translation.override("vi"):
        subject = _("Proceedings pending: %(case)s") % {"case": nomination.nominee.name}
        body = (
            describe(nomination)
            + "\n"
            + _(
                "A discipline, investigation or complaint is now pending against the nominee: no award can be made "
                "until it is resolved (Decree 152/2025/ND-CP)."
            )
        )
    for user in holders:
        notify(
            recipient=user,
            event=Event.PROCEEDINGS,
            about=nomination,
            slot=f"audit-{entry.seq}",
            subject=subject,
            body=body,
            link=link_to(nomination),
        )


#: The notifications an action may call for (``declare(…, notify=(name, …))``), by name: what they are
#: about (an entry on anything else calls for nothing) and who writes them.
NOTIFICATIONS = {
    "case_outcome": (Nomination, lambda entry: outcome(entry, OUTCOMES[entry.action])),
    "ballots_open": (VoteSession, ballots_open),
    "opinion_asked": (Nomination, opinion_asked),
    "opinion_answered": (Nomination, opinion_answered),
    "proceedings": (Nomination, proceedings_flagged),
}


@checks.register()
def every_declared_notification_exists(app_configs=None, **kwargs):
    """An action that calls for a notification nobody implements would tell nobody, silently."""
    return [
        checks.Error(
            f"The audit action {code} calls for the notification {name!r}, which notifications.events lacks.",
            id="notifications.E001",
        )
        for code, action in declared_actions().items()
        for name in action.notify
        if name not in NOTIFICATIONS or (name == "case_outcome" and code not in OUTCOMES)
    ]
