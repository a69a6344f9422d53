"""The award domain's audit actions, declared once with their labels (see ``workflow.actions``)."""

from django.utils.translation import gettext_lazy as _

from workflow.actions import declare

NOMINATION_CREATED = declare("processes.nomination.created", _("Nomination opened"))
CULTIVATION_STARTED = declare("processes.nomination.cultivation_started", _("Cultivation started"))
SUBMITTED = declare("processes.nomination.submitted", _("Submitted for approval"))
SUBMITTED_SIMPLIFIED = declare(
    "processes.nomination.submitted_simplified", _("Submitted under the simplified procedure")
)
RETURNED = declare("processes.nomination.returned", _("Sent back for completion"))
RESUBMITTED = declare("processes.nomination.resubmitted", _("Resubmitted"))
REJECTED = declare("processes.nomination.rejected", _("Refused"))
AWARDED = declare("processes.nomination.awarded", _("Award decided"))
CLOSED = declare("processes.nomination.closed", _("Case closed"))
WITHDRAWN = declare("processes.nomination.withdrawn", _("Withdrawn by the unit"))
UPDATED = declare("processes.nomination.updated", _("Dossier text edited"))
STEP_OPENED = declare("processes.nomination.step_opened", _("Step opened"))
STEP_APPROVED = declare("processes.nomination.step_approved", _("Step approved"))
STEP_REASSIGNED = declare("processes.nomination.step_reassigned", _("Step reassigned"))
SENT_BACK = declare("processes.nomination.sent_back", _("Sent back to the Board (no quorum in the council)"))
POSTING_CLOSED = declare("processes.nomination.posting_closed", _("Public posting ended"))
OBJECTION_RECORDED = declare("processes.nomination.objection_recorded", _("Objection recorded"))
CONSULTATION_REQUESTED = declare("processes.nomination.consultation_requested", _("Opinion asked of an agency"))
CONSULTATION_ANSWERED = declare("processes.nomination.consultation_answered", _("Agency's opinion recorded"))
PROCEEDINGS_FLAGGED = declare(
    "processes.nomination.proceedings_flagged", _("Discipline, investigation or complaint pending")
)
PROCEEDINGS_CLEARED = declare("processes.nomination.proceedings_cleared", _("Pending proceedings resolved"))
FILE_UPLOADED = declare("processes.dossier.uploaded", _("File uploaded"))
DELEGATION_CREATED = declare("processes.delegation.created", _("Delegation made"))
