"""The award domain's audit actions, each declared once (see ``workflow.actions``): its label, what the
timeline shows of its data, and the notifications it calls for (implemented by ``notifications.events``
under these names). Every entry that opened steps also tells their holders, whatever its action."""

from django.utils.translation import gettext_lazy as _

from workflow.actions import declare


def _file_name(data: dict) -> str:
    return f"“{data['name']}”" if data.get("name") else ""


def _replaced_file(data: dict) -> str:
    if not data.get("replaced_name"):
        return _file_name(data)
    return str(_("“%(old)s” replaced by “%(new)s”") % {"old": data["replaced_name"], "new": data.get("name", "")})


def _decision_number(data: dict) -> str:
    number = data.get("decision_number")
    return str(_("decision no. %(number)s") % {"number": number}) if number else ""


def _successor(data: dict) -> str:
    return str(_("passed to the successor unit")) if data.get("successor_unit") else ""


def _objection_source(data: dict) -> str:
    return str(_("sent by the public through the posting page")) if data.get("source") == "public" else ""


def _agencies(data: dict) -> str:
    return ", ".join(data.get("agencies", []))


def _plan_met(data: dict) -> str:
    if not data.get("plan_met"):
        return ""
    return str(
        _("replication plan met: %(activities)s activities, %(units)s adopting units")
        % {"activities": data.get("activities", 0), "units": data.get("adopting_units", 0)}
    )


def _activity(data: dict) -> str:
    return f"“{data['title']}”" if data.get("title") else ""


def _plan(data: dict) -> str:
    return str(
        _("%(activities)s activities, %(units)s adopting units")
        % {"activities": data.get("activities_required", 0), "units": data.get("adoptions_required", 0)}
    )


NOMINATION_CREATED = declare("processes.nomination.created", _("Nomination opened"))
CULTIVATION_STARTED = declare("processes.nomination.cultivation_started", _("Cultivation started"))
SUBMITTED = declare("processes.nomination.submitted", _("Submitted for approval"))
SUBMITTED_SIMPLIFIED = declare(
    "processes.nomination.submitted_simplified", _("Submitted under the simplified procedure")
)
RETURNED = declare("processes.nomination.returned", _("Sent back for completion"), notify=("case_outcome",))
RESUBMITTED = declare("processes.nomination.resubmitted", _("Resubmitted"))
REJECTED = declare("processes.nomination.rejected", _("Refused"), notify=("case_outcome",))
AWARDED = declare("processes.nomination.awarded", _("Award decided"), detail=_decision_number, notify=("case_outcome",))
CLOSED = declare("processes.nomination.closed", _("Case closed"), detail=_plan_met)
WITHDRAWN = declare("processes.nomination.withdrawn", _("Withdrawn by the unit"))
UPDATED = declare("processes.nomination.updated", _("Dossier text edited"))
STEP_OPENED = declare("processes.nomination.step_opened", _("Step opened"))
STEP_APPROVED = declare("processes.nomination.step_approved", _("Step approved"))
STEP_REASSIGNED = declare("processes.nomination.step_reassigned", _("Step reassigned"), detail=_successor)
SENT_BACK = declare("processes.nomination.sent_back", _("Sent back to the Board (no quorum in the council)"))
POSTING_CLOSED = declare("processes.nomination.posting_closed", _("Public posting ended"))
OBJECTION_RECORDED = declare(
    "processes.nomination.objection_recorded", _("Objection recorded"), detail=_objection_source
)
CONSULTATION_REQUESTED = declare(
    "processes.nomination.consultation_requested",
    _("Opinion asked of an agency"),
    detail=_agencies,
    notify=("opinion_asked",),
)
CONSULTATION_ANSWERED = declare(
    "processes.nomination.consultation_answered", _("Agency's opinion recorded"), notify=("opinion_answered",)
)
PROCEEDINGS_FLAGGED = declare(
    "processes.nomination.proceedings_flagged",
    _("Discipline, investigation or complaint pending"),
    notify=("proceedings",),
)
PROCEEDINGS_CLEARED = declare("processes.nomination.proceedings_cleared", _("Pending proceedings resolved"))
FILE_UPLOADED = declare("processes.dossier.uploaded", _("File uploaded"), detail=_file_name)
FILE_REPLACED = declare("processes.dossier.replaced", _("File replaced"), detail=_replaced_file)
FILE_REMOVED = declare("processes.dossier.removed", _("File removed"), detail=_file_name)
DELEGATION_CREATED = declare("processes.delegation.created", _("Delegation made"))
REPLICATION_PLAN_SET = declare("processes.replication.plan_set", _("Replication plan set"), detail=_plan)
ACTIVITY_RECORDED = declare(
    "processes.replication.activity_recorded", _("Dissemination activity recorded"), detail=_activity
)
