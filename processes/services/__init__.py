"""Every write to the award domain, one module per subject. Views, admin actions, commands and flow
nodes call these; every public name stays importable from ``processes.services``.

Each service is atomic on its own; called inside a caller's transaction it joins it (flow nodes rely
on that). Each state change writes one audit entry in the same transaction.
"""

from processes.permissions import (
    HOLDER,
    INTERVENTION,
    decider_role,
    decisions_offered,
    may_answer,
    may_open_session,
    may_reassign,
    may_see_session,
)
from processes.selectors import ReassignOption, reassignment_choices, sessions_visible_to
from processes.services.consultations import (
    AGENCY_MAX_WORKING_DAYS,
    CONSULTED_APPRAISAL_WORKING_DAYS,
    consultation_answer,
    consultation_request,
)
from processes.services.council import council_outcome, council_session_open, council_vote
from processes.services.decisions import (
    DECISION_TRANSITIONS,
    nomination_act,
    nomination_approve,
    nomination_award,
    nomination_decide,
    nomination_reject,
    nomination_return,
    step_reassign,
)
from processes.services.delegations import delegation_check, delegation_create
from processes.services.dossiers import dossier_remove, dossier_replace, dossier_upload
from processes.services.nominations import (
    AUDIT_VERBS,
    EDITABLE_FIELDS,
    REASON_REQUIRED,
    nomination_create,
    nomination_resubmit,
    nomination_start_cultivation,
    nomination_submit,
    nomination_update,
    nomination_withdraw,
)
from processes.services.nominees import NOMINEE_FIELDS, PROCEEDINGS_FLAGS, nominee_create, nominee_update
from processes.services.organisation import membership_create
from processes.services.posting import objection_record, objection_submit_public
from processes.services.replication import activity_record, nomination_close, replication_plan_set
from processes.services.signing import NonWorkingDay, decision_sign

__all__ = [
    "AGENCY_MAX_WORKING_DAYS",
    "AUDIT_VERBS",
    "CONSULTED_APPRAISAL_WORKING_DAYS",
    "DECISION_TRANSITIONS",
    "EDITABLE_FIELDS",
    "HOLDER",
    "INTERVENTION",
    "NOMINEE_FIELDS",
    "PROCEEDINGS_FLAGS",
    "REASON_REQUIRED",
    "NonWorkingDay",
    "ReassignOption",
    "activity_record",
    "consultation_answer",
    "consultation_request",
    "council_outcome",
    "council_session_open",
    "council_vote",
    "decider_role",
    "decision_sign",
    "decisions_offered",
    "delegation_check",
    "delegation_create",
    "dossier_remove",
    "dossier_replace",
    "dossier_upload",
    "may_answer",
    "may_open_session",
    "may_reassign",
    "may_see_session",
    "membership_create",
    "nomination_act",
    "nomination_approve",
    "nomination_award",
    "nomination_close",
    "nomination_create",
    "nomination_decide",
    "nomination_reject",
    "nomination_resubmit",
    "nomination_return",
    "nomination_start_cultivation",
    "nomination_submit",
    "nomination_update",
    "nomination_withdraw",
    "nominee_create",
    "nominee_update",
    "objection_record",
    "objection_submit_public",
    "reassignment_choices",
    "replication_plan_set",
    "sessions_visible_to",
    "step_reassign",
]
