"""Reads of a case: the actions offered on it and its timeline."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _
from django_fsm import can_proceed

from processes.models import (
    Nomination,
    Stage,
)
from processes.permissions import (
    TRANSITION_RULES,
    UserScope,
    can_transition,
)
from workflow.actions import detail_of, label_of
from workflow.approvals import processes_of
from workflow.audit import audit_entries_for
from workflow.models import TemplateStep


@dataclass(frozen=True)
class AvailableAction:
    name: str
    blocked_by: list  # the guard messages that keep it closed now; empty when it can be taken


#: Taken on the open approval step, not as a plain transition (see ``approval_steps``).
STEP_DECISIONS = {"return_for_completion", "reject", "award"}
#: Offered by the case's replication section: a plan met closes it, else a reason (``_replication.html``).
REPLICATION_CLOSE = "close"


def available_actions(*, user, nomination: Nomination, scope: UserScope) -> list[AvailableAction]:
    """The transitions this user may take from the current stage, with what still blocks each."""
    actions = []
    for name in TRANSITION_RULES:
        if name in STEP_DECISIONS or name == REPLICATION_CLOSE:
            continue
        method = getattr(nomination, name)
        if not can_proceed(method, check_conditions=False):
            continue
        if not can_transition(user, nomination, name, scope=scope):
            continue
        transition = method._django_fsm.get_transition(nomination.stage)
        blocked = [condition.explain(nomination) for condition in transition.conditions if not condition(nomination)]
        if name == "submit_simplified" and blocked and not nomination.is_simplified:
            continue  # not an option at all outside the simplified procedure
        actions.append(AvailableAction(name=name, blocked_by=blocked))
    return actions


def nomination_timeline(nomination: Nomination) -> list:
    """The nomination's audit entries, oldest first, labelled for people (``workflow.actions``)."""
    stages = dict(Stage.choices)
    entries = list(audit_entries_for(nomination))
    step_names = dict(
        TemplateStep.objects.filter(version__processes__in=processes_of(nomination)).values_list("code", "name")
    )
    for entry in entries:
        data = entry.data or {}
        entry.step_name = step_names.get(data.get("step"), "")
        entry.label = label_of(entry.action)
        entry.detail = _entry_detail(entry.action, data)
        entry.from_label = stages.get(entry.from_state, entry.from_state)
        entry.to_label = stages.get(entry.to_state, entry.to_state)
    return entries


def _entry_detail(action: str, data: dict) -> str:
    """What an entry's data adds for a reader: what its action's declaration shows (a file's name, a
    decision's number), and, for any decision, an administrator's intervention."""
    parts = [str(_("by an administrator, in place of the step's holder"))] if data.get("intervention") else []
    parts.append(detail_of(action, data))
    return " · ".join(part for part in parts if part)
