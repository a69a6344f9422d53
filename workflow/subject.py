"""The seam between the engine and the domain it serves.

``workflow`` knows a running approval only by its subject's type and id. Everything it must know of
the subject's meaning (who holds a step, which optional steps apply, how long a posting lasts, what
a vote's rules are, which approver rules exist) it asks of one adapter, named by
``settings.WORKFLOW_SUBJECT`` and satisfying ``Subject``; ``tests/workflow/test_subject.py`` checks that
the domain's adapter does, method by method. ``workflow`` imports nothing of the domain.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Protocol, runtime_checkable

from django.conf import settings
from django.utils.module_loading import import_string


@dataclass
class StepAssignment:
    """Who holds a step: one user, or a group any of whom may act (the first is shown first)."""

    users: list = field(default_factory=list)
    unit_id: int | None = None
    unit_label: str = ""
    on_behalf_of: object | None = None
    note: str = ""


@runtime_checkable
class Subject(Protocol):
    """Every question the engine asks of the domain. All arguments are keyword-only."""

    # -- routing a case ----------------------------------------------------------------------------
    def assign(self, *, process, step, day: date) -> StepAssignment:
        """Who holds ``step`` of the case on ``day``; raises a ``WorkflowError`` (with ``unit_id`` and
        ``unit_label`` when known) when nobody does: the step then waits, unassigned, to be given."""

    def flags(self, *, process) -> set[str]:
        """The marks of the case that optional steps ask for (``TemplateStep.condition``)."""

    def task_opened(self, *, approval_task, assignment: StepAssignment) -> None:
        """A step opened outside any decision (a posting window's end): log who was given it. A step
        opened by a decision is logged in that decision's own audit entry instead."""

    # -- the vocabularies of a template ------------------------------------------------------------
    def approver_rules(self) -> list[tuple[str, str]]:
        """The approver rules a template step may name, as (value, label)."""

    def group_rules(self) -> frozenset[str]:
        """The approver rules whose holders are a group (any member acts): where a vote without
        quorum sends a case back, and the steps that may consult other agencies."""

    def escalation_rules(self) -> list[tuple[str, str]]:
        """Who an overdue step is escalated to, as (value, label); the first is a new step's default."""

    def check_step(self, *, step) -> dict[str, str]:
        """What is wrong with a template step's rule parameters, by field name (empty: nothing)."""

    def step_marks(self) -> list[tuple[str, str]]:
        """The marks a template step's ``condition`` may name, as (value, label)."""

    def holder_label(self, *, step) -> str:
        """Who holds a template step, for people: its rule and the level its parameter names."""

    # -- public posting ------------------------------------------------------------------------------
    def posting_days(self, *, process) -> int:
        """How many working days the case is publicly posted (0: the step's own deadline)."""

    def open_objections(self, *, process, window) -> int:
        """How many objections to the posted case are still unsettled when its window ends."""

    def window_closed(self, *, approval_task, objections: int) -> None:
        """Log the end of a posting window on the case."""

    # -- votes ---------------------------------------------------------------------------------------
    def label(self, *, process) -> str:
        """The case as an agenda names it."""

    def vote_rules(self, *, process) -> dict:
        """quorum_percent, threshold_percent, threshold_of and failed_quorum of the case."""

    def council_members(self, *, unit_id: int, day: date) -> list[int]:
        """The ids of the users who sit on the voting body ``unit_id`` on ``day``: a session's roster."""

    def vote_conflicts(self, *, process, members: Collection[int], day: date) -> dict[int, str]:
        """Which of ``members`` may not vote on the case, each with a ``VoteRecusal.Reason``."""

    def vote_decided(self, *, item) -> None:
        """Apply a tallied case's outcome to its vote step."""

    # -- the audit log ---------------------------------------------------------------------------------
    def audit_states(self, *, ids=None) -> tuple[type, dict[int, str]]:
        """The subject model and each subject's state, which the newest ``to_state`` of its audit
        chain must name (``verify_audit`` compares them)."""


@cache
def subject_adapter() -> Subject:
    return import_string(settings.WORKFLOW_SUBJECT)()
