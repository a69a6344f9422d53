"""Reads for the screens: scoped, with a constant number of queries whatever the size. By subject:
the nomination behind a step (``subjects``), cases (``cases``), their steps (``steps``) and a user's
work (``work``); every public name stays importable from ``processes.selectors``."""

from processes.selectors.cases import (
    STEP_DECISIONS,
    AvailableAction,
    available_actions,
    nomination_timeline,
)
from processes.selectors.replication import (
    ReplicationProgress,
    activities_of,
    adopting_unit_choices,
    own_unit_ids,
    replication_plan_of,
    replication_progress,
)
from processes.selectors.route import CaseRoute, case_route
from processes.selectors.steps import (
    OpenStep,
    ReassignOption,
    approval_steps,
    case_warnings,
    decision_message,
    reassignment_choices,
)
from processes.selectors.subjects import known_subject, nomination_for_decision, nomination_of
from processes.selectors.tracker import SORTS, TrackerPage, attach_open_steps, tracker_page, tracker_rows
from processes.selectors.work import (
    PAGE_SIZE,
    InboxPage,
    case_labels,
    consultations_for,
    inbox_page,
    parse_cursor,
    sessions_visible_to,
)

__all__ = [
    "PAGE_SIZE",
    "SORTS",
    "STEP_DECISIONS",
    "AvailableAction",
    "CaseRoute",
    "InboxPage",
    "OpenStep",
    "ReassignOption",
    "ReplicationProgress",
    "TrackerPage",
    "activities_of",
    "adopting_unit_choices",
    "approval_steps",
    "attach_open_steps",
    "available_actions",
    "case_labels",
    "case_route",
    "case_warnings",
    "consultations_for",
    "decision_message",
    "inbox_page",
    "known_subject",
    "nomination_for_decision",
    "nomination_of",
    "nomination_timeline",
    "own_unit_ids",
    "parse_cursor",
    "reassignment_choices",
    "replication_plan_of",
    "replication_progress",
    "sessions_visible_to",
    "tracker_page",
    "tracker_rows",
]
