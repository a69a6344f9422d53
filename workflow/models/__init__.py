"""The engine's tables, by subject: the audit log, the working calendar's exceptions, process
templates, running approvals and council votes. Every name stays importable from ``workflow.models``
(migrations refer to ``workflow.models.approver_rule_choices`` and its siblings)."""

from workflow.models.approvals import ApprovalCandidate, ApprovalProcess, ApprovalTask
from workflow.models.audit import AuditChain, AuditEntry
from workflow.models.calendar import CalendarOverride
from workflow.models.templates import (
    ProcessTemplate,
    StepAction,
    StepKind,
    TemplateImmutable,
    TemplateStep,
    TemplateVersion,
    approver_rule_choices,
    default_escalation_rule,
    escalation_rule_choices,
)
from workflow.models.votes import (
    Ballot,
    BallotReceipt,
    FailedQuorum,
    SealedBallot,
    VoteItem,
    VoteRecusal,
    VoteRules,
    VoteSession,
)

__all__ = [
    "ApprovalCandidate",
    "ApprovalProcess",
    "ApprovalTask",
    "AuditChain",
    "AuditEntry",
    "Ballot",
    "BallotReceipt",
    "CalendarOverride",
    "FailedQuorum",
    "ProcessTemplate",
    "SealedBallot",
    "StepAction",
    "StepKind",
    "TemplateImmutable",
    "TemplateStep",
    "TemplateVersion",
    "VoteItem",
    "VoteRecusal",
    "VoteRules",
    "VoteSession",
    "approver_rule_choices",
    "default_escalation_rule",
    "escalation_rule_choices",
]
