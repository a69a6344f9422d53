"""The award domain as seen by the approval engine (``settings.WORKFLOW_SUBJECT``).

``workflow`` knows a running approval only by its subject's type and id; this adapter answers its
questions for a nomination: who holds a step on a given day (``processes.approvers``, over the
tree of the case's start date), which optional steps apply (the award form's council vote and
public posting), and for council sessions (``workflow.subject.Subject``) who sits on a council
on the session's day and who of them may not vote on a case.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date

from django.utils.translation import gettext_lazy as _

from processes import errors
from processes.actions import STEP_OPENED
from processes.approvers import ROLE_ORDER, resolve_approvers
from processes.choices import RULES_NEEDING_PARAM, RULES_WITHOUT_PARAM, ApproverRule, EscalationRule, UnitKind
from processes.models import Membership, Nomination, Objection
from processes.selectors import nomination_of
from processes.services.council import council_outcome
from workflow.approvals import opened_summary
from workflow.audit import audit_append
from workflow.models import VoteRecusal
from workflow.subject import StepAssignment

#: Approver rules whose holders are a group (any member acts).
GROUP_RULES = frozenset({ApproverRule.UNIT_MEMBERS, ApproverRule.COUNCIL})

#: Marks a template step's ``condition`` may name.
COUNCIL_VOTE = "council_vote"
PUBLIC_POSTING = "public_posting"


def process_subject_id(approval_task) -> int:
    return approval_task.process.subject_id


class NominationSubject:
    def assign(self, *, process, step, day: date) -> StepAssignment:
        nomination = nomination_of(process)
        try:
            found = resolve_approvers(
                nomination=nomination, step=step, structure_on=process.structure_on, people_on=day
            )
        except errors.NoApprover as exc:
            exc.unit_id = exc.unit.pk if exc.unit is not None else None
            exc.unit_label = str(exc.unit) if exc.unit is not None else ""
            raise
        return StepAssignment(
            users=found.users,
            unit_id=found.unit.pk if found.unit else None,
            unit_label=str(found.unit) if found.unit else "",
            on_behalf_of=found.on_behalf_of,
            note=found.reason,
        )

    def task_opened(self, *, approval_task, assignment: StepAssignment) -> None:
        """Who was given a step opened outside a decision (after a posting window), and why, on the case's
        log; a decision logs the step it opened in its own entry."""
        approval_task.assignment = assignment
        [data] = opened_summary([approval_task])
        audit_append(
            subject=nomination_of(approval_task.process),
            actor=None,
            action=STEP_OPENED,
            data=data,
            context={"opened": [approval_task]},
        )

    def label(self, *, process) -> str:
        nomination = nomination_of(process)
        return f"{nomination.nominee.name} · {nomination.award_form.name} · {nomination.unit.name}"

    def posting_days(self, *, process) -> int:
        return nomination_of(process).award_form.public_posting_working_days

    def open_objections(self, *, process, window) -> int:
        return Objection.objects.filter(window=window, resolved_at__isnull=True).count()

    def window_closed(self, *, approval_task, objections: int) -> None:
        audit_append(
            subject=Nomination(pk=process_subject_id(approval_task)),
            actor=None,
            action="processes.nomination.posting_closed",
            data={"step": approval_task.step.code, "task": approval_task.pk, "open_objections": objections},
        )

    def vote_rules(self, *, process) -> dict:
        form = nomination_of(process).award_form
        return {
            "quorum_percent": form.council_quorum_percent,
            "threshold_percent": form.council_threshold_percent,
            "threshold_of": form.council_threshold_of,
            "failed_quorum": form.council_failed_quorum,
        }

    def council_members(self, *, unit_id: int, day: date) -> list[int]:
        """Everyone with a membership of the council unit in force on ``day`` (active users), who leads
        it first: a member who left before the session votes no more, one who joined since does."""
        rows = Membership.objects.on(day).filter(unit_id=unit_id, user__is_active=True).values_list("user_id", "role")
        ordered = sorted(rows, key=lambda row: (ROLE_ORDER.get(row[1], len(ROLE_ORDER)), row[0]))
        return list(dict.fromkeys(user_id for user_id, _role in ordered))

    def vote_conflicts(self, *, process, members: Collection[int], day: date) -> dict[int, str]:
        """The nominee never votes on their own case; where the award form says so, nor does a member
        of the proposing unit on ``day``."""
        nomination = nomination_of(process)
        conflicts = {}
        if nomination.award_form.council_recuse_own_unit:
            for user_id in (
                Membership.objects.on(day)
                .filter(unit_id=nomination.unit_id, user_id__in=list(members))
                .values_list("user_id", flat=True)
            ):
                conflicts[user_id] = VoteRecusal.Reason.UNIT
        if nomination.nominee.user_id is not None and nomination.nominee.user_id in members:
            conflicts[nomination.nominee.user_id] = VoteRecusal.Reason.SUBJECT
        return conflicts

    def vote_decided(self, *, item) -> None:
        council_outcome(item=item)

    def audit_states(self, *, ids=None) -> tuple[type[Nomination], dict[int, str]]:
        """Each nomination's stage, which the newest ``to_state`` of its audit chain must name
        (``verify_audit`` compares them; every transition writes both in one transaction)."""
        nominations = Nomination.objects.all() if ids is None else Nomination.objects.filter(pk__in=ids)
        return Nomination, dict(nominations.values_list("pk", "stage").iterator(chunk_size=5000))

    def flags(self, *, process) -> set[str]:
        form = nomination_of(process).award_form
        flags = set()
        if form.council_vote:
            flags.add(COUNCIL_VOTE)
        if form.public_posting_working_days:
            flags.add(PUBLIC_POSTING)
        return flags

    # -- the vocabularies of a template -------------------------------------------------------------

    def approver_rules(self) -> list[tuple[str, str]]:
        return list(ApproverRule.choices)

    def group_rules(self) -> frozenset[str]:
        return GROUP_RULES

    def escalation_rules(self) -> list[tuple[str, str]]:
        return list(EscalationRule.choices)

    def step_marks(self) -> list[tuple[str, str]]:
        return [
            (COUNCIL_VOTE, str(_("the award form goes to the council's vote"))),
            (PUBLIC_POSTING, str(_("the award form is publicly posted"))),
        ]

    def holder_label(self, *, step) -> str:
        label = str(dict(ApproverRule.choices).get(step.approver_rule, step.approver_rule))
        codes = [code.strip() for code in step.approver_param.removeprefix("above:").split(",") if code.strip()]
        kinds = dict(UnitKind.choices)
        if codes and all(code in kinds for code in codes):
            label += ": " + ", ".join(str(kinds[code]) for code in codes)
        return label

    def check_step(self, *, step) -> dict[str, str]:
        """What is wrong with a template step's rule parameters, by field (empty: nothing)."""
        problems = {}
        param = (step.approver_param or "").strip()
        if step.approver_rule in RULES_NEEDING_PARAM and not param:
            problems["approver_param"] = _("This approver rule needs a parameter.")
        if step.approver_rule in RULES_WITHOUT_PARAM and param:
            problems["approver_param"] = _("This approver rule takes no parameter.")
        if step.escalation_rule == EscalationRule.UNIT_MEMBERS and not (step.escalation_param or "").strip():
            problems["escalation_param"] = _("Name the unit(s) whose members are told.")
        return problems
