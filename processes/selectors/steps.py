"""Reads of a case's approval steps: the open ones and what their holders may do, the warnings, the
message after a decision, and who may be given a step."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from processes import errors
from processes.approvers import eligible_for_reassignment, successor_assignment
from processes.guards import unmet_eligibility_rules
from processes.models import (
    FINAL_STAGES,
    Decision,
    EligibilityRule,
    Membership,
    Nomination,
    OrganisationUnit,
    Stage,
)
from processes.permissions import (
    HOLDER,
    INTERVENTION,
    UserScope,
    decider_role,
    decisions_offered,
    may_reassign,
)
from processes.selectors.subjects import nomination_of
from workflow.approvals import next_position, open_tasks, processes_of
from workflow.kinds import kind_of
from workflow.models import ApprovalTask, StepAction
from workflow.subject import subject_adapter

# --- approval steps ------------------------------------------------------------------------------


@dataclass
class OpenStep:
    task: ApprovalTask
    holders: list
    overdue: bool
    decisions: list  # (action, label) the viewer may take; empty when the step is not theirs
    is_last: bool
    may_reassign: bool
    reassign_to: list  # services.ReassignOption
    is_window: bool = False  # a public posting window running out (no holder)
    may_consult: bool = False  # the viewer holds a Board step and may ask other agencies
    intervention: bool = False  # the viewer is an administrator who does not hold the step


def approval_steps(*, user, nomination: Nomination, scope: UserScope | None = None) -> tuple[list[OpenStep], list]:
    """The nomination's open steps (holder, due time, what the viewer may do) and its decided steps,
    oldest first, over every run of its chain: a constant number of queries."""
    runs = processes_of(nomination)
    now = timezone.now()
    open_rows = []
    for task in open_tasks(processes=runs).select_related("process__version"):
        holders = [candidate.user for candidate in task.candidates.all()]
        role = decider_role(user, task, nomination) if holders or user.is_superuser else None
        is_last = next_position(task.process, task.step.position) is None
        kind = kind_of(task.step)
        reassigns = not kind.runs_out and may_reassign(user, task)
        holder_ids = {holder.pk for holder in holders}
        open_rows.append(
            OpenStep(
                task=task,
                holders=holders,
                overdue=task.due_at < now,
                decisions=[
                    (action, StepAction(action).label) for action in decisions_offered(task, role, is_last=is_last)
                ],
                is_last=is_last,
                may_reassign=reassigns,
                reassign_to=[option for option in reassignment_choices(task) if option.pk not in holder_ids]
                if reassigns
                else [],
                is_window=kind.runs_out and not holders,
                may_consult=role == HOLDER and kind.may_consult(task.step, group_rules=subject_adapter().group_rules()),
                intervention=role == INTERVENTION,
            )
        )
    history = list(
        ApprovalTask.objects.filter(process__in=runs, closed_at__isnull=False)
        .exclude(action="")
        .select_related("step", "decided_by", "on_behalf_of")
        .order_by("closed_at", "pk")
    )
    for done in history:
        done.decided_by_label = _decided_by_label(done)
    return open_rows, history


def _decided_by_label(task: ApprovalTask) -> str:
    """Who decided a closed step, for people: a person, or the council's vote or the posting's end."""
    if task.decided_by is not None:
        return task.decided_by.get_full_name() or task.decided_by.get_username()
    return str(kind_of(task.step).engine_label)


def case_warnings(*, user, nomination: Nomination, scope: UserScope) -> list[dict]:
    """What everyone deciding on the case must know before they do: pending proceedings (no award
    until resolved) and the award form's eligibility rules set to warn that the nominee does not meet.
    Each is ``{"text": ..., "blocking": bool}``."""
    found = []
    if nomination.nominee.has_pending_proceedings:
        found.append(
            {
                "text": _(
                    "Discipline, investigation or complaint pending (Decree 152/2025/ND-CP): the case may be "
                    "appraised, but no award can be decided until it is resolved."
                ),
                "blocking": True,
            }
        )
    if nomination.stage not in FINAL_STAGES:
        for rule in unmet_eligibility_rules(nomination, enforcement=EligibilityRule.Enforcement.WARN):
            found.append(
                {
                    "text": _("Eligibility warning: the nominee does not meet “%(rule)s”.")
                    % {"rule": rule.description or str(rule)},
                    "blocking": False,
                }
            )
    return found


def decision_message(*, nomination: Nomination, task: ApprovalTask, action: str) -> str:
    """What a decision did, for the message after it: "Approved; passed to …", "Returned to …"."""
    if action == StepAction.RETURN:
        return _("Returned for completion to %(unit)s.") % {"unit": nomination.unit.name}
    if action == StepAction.REJECT:
        return _("Rejected; the case is closed for this campaign.")
    if nomination.stage == Stage.REPLICATE:
        decision = Decision.objects.filter(nomination=nomination).first()
        return _("Approved; award decision no. %(number)s recorded, the case moves to replication.") % {
            "number": decision.number if decision else ""
        }
    following = open_tasks(process=task.process).select_related("step").first()
    if following is None:
        return _("Approved.")
    holders = [candidate.user for candidate in following.candidates.all()]
    kind = kind_of(following.step)
    if kind.runs_out and not holders:
        return _("Approved; the nominee is now publicly posted until %(until)s.") % {
            "until": timezone.localtime(following.due_at).strftime("%d/%m/%Y")
        }
    if kind.in_session:
        return _("Approved; the case now awaits the council's vote (%(step)s).") % {"step": following.step.name}
    if not holders:
        return _("Approved; next step “%(step)s”, which nobody holds yet: a secretary must assign it.") % {
            "step": following.step.name
        }
    names = ", ".join(holder.get_full_name() or holder.get_username() for holder in holders[:3])
    if len(holders) > 3:
        names += ", …"
    where = f" · {following.unit_label}" if following.unit_label else ""
    return _("Approved; passed to %(who)s (%(step)s%(where)s).") % {
        "who": names,
        "step": following.step.name,
        "where": where,
    }


# --- who may be given a step --------------------------------------


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
