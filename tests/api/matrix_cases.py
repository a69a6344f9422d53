"""Matrix rows of the cases' part: nominees, nominations (list, case, open, edit, submit, withdraw, timeline,
route), dossier files and the user's work.

``inside`` is the hospital's case (unit A) of a city-level form in discover: the hospital's head and
secretary are its proposing unit's staff; the chairman sees it as a head up its chain and its decider; the
Board and the council see city-level forms; the ward's head (unit B) does not see it at all (404). Who may
act answers ``processes.permissions`` (``TRANSITION_RULES``, ``EDIT_RULES``, ``can_propose_in``)."""

from django.core.files.uploadedfile import SimpleUploadedFile

from processes.models import Procedure
from tests.api.matrix import ALLOW, DENY, Row
from tests.factories import PDF_BYTES, NomineeFactory, attach_file, make_nomination

#: Everyone who sees ``inside``: all but the ward's head.
SEES_INSIDE = {"head_b": 404}
#: May see ``inside`` but not act as its proposing unit: 403, never 404.
ONLOOKERS = {"board": 403, "council": 403, "chairman": 403}


def _ready(w):
    """An ad hoc case of the hospital with its report: the simplified procedure submits it from discover."""
    nomination = make_nomination(w.org, nominee=NomineeFactory(unit=w.org.hospital), procedure=Procedure.AD_HOC)
    attach_file(nomination, w.org.report_type, user=w.org.hospital_secretary)
    w.extra["ready"] = nomination
    return f"/api/v1/nominations/{nomination.pk}/submit/"


def _file(w):
    dossier_file = attach_file(w.inside, w.org.report_type, user=w.org.hospital_secretary)
    return f"/api/v1/files/{dossier_file.pk}/download/"


ROWS = [
    # --- nominees
    Row("nominees/", "get", lambda w: "/api/v1/nominees/", default=ALLOW, note="scoped, never refused"),
    Row(
        "nominees/",
        "post",
        lambda w: "/api/v1/nominees/",
        body=lambda w: {"unit": w.org.hospital.pk, "kind": "individual", "name": "Trần Thị Mai", "gender": "female"},
        expect={"head_a": 201, "secretary": 201, "admin": 201},
        default=403,
        fresh=True,
        note="the unit's head, deputy or secretary (can_propose_in); units are public, so 403",
    ),
    Row(
        "nominees/<id:pk>/",
        "get",
        lambda w: f"/api/v1/nominees/{w.inside.nominee_id}/",
        default=ALLOW,
        expect=SEES_INSIDE,
        note="the nominee of a case the user sees",
    ),
    Row(
        "nominees/<id:pk>/",
        "get",
        lambda w: f"/api/v1/nominees/{w.outside.nominee_id}/",
        default=ALLOW,
        expect={"head_a": 404, "secretary": 404},
        note="the ward's nominee: not the hospital's",
    ),
    # --- nominations
    Row("nominations/", "get", lambda w: "/api/v1/nominations/", default=ALLOW, note="scoped, never refused"),
    Row(
        "nominations/",
        "post",
        lambda w: "/api/v1/nominations/",
        body=lambda w: {
            "campaign": w.org.campaign.pk,
            "award_form": w.org.unit_form.pk,
            "nominee": w.inside.nominee_id,
            "unit": w.org.hospital.pk,
        },
        expect={"head_a": 201, "secretary": 201, "admin": 201, "head_b": 400, **ONLOOKERS},
        fresh=True,
        note="another unit's nominee is no valid choice (400, as an unknown id); the chairman proposes "
        "for the city, not for the hospital (403); the Board and the council propose nowhere (403)",
    ),
    Row(
        "nominations/<id:pk>/",
        "get",
        lambda w: f"/api/v1/nominations/{w.inside.pk}/",
        default=ALLOW,
        expect=SEES_INSIDE,
    ),
    Row(
        "nominations/<id:pk>/",
        "get",
        lambda w: f"/api/v1/nominations/{w.outside.pk}/",
        default=ALLOW,
        expect={"head_a": 404, "secretary": 404},
        note="the ward's case: not in the hospital's branch (404, never 403)",
    ),
    Row(
        "nominations/<id:pk>/",
        "patch",
        lambda w: f"/api/v1/nominations/{w.inside.pk}/",
        body=lambda w: {"version": w.inside.version, "mentor": "Phạm Văn Hùng"},
        expect={"head_a": ALLOW, "secretary": ALLOW, "admin": ALLOW, **SEES_INSIDE, **ONLOOKERS},
        fresh=True,
        note="EDIT_RULES in discover: the proposing unit's head and secretary",
    ),
    Row(
        "nominations/<id:pk>/submit/",
        "post",
        _ready,
        body=lambda w: {"version": w.extra["ready"].version},
        expect={"head_a": ALLOW, "secretary": ALLOW, "admin": ALLOW, **SEES_INSIDE, **ONLOOKERS},
        fresh=True,
    ),
    Row(
        "nominations/<id:pk>/start-cultivation/",
        "post",
        lambda w: f"/api/v1/nominations/{w.inside.pk}/start-cultivation/",
        body=lambda w: {"version": w.inside.version},
        expect={"head_a": ALLOW, "admin": ALLOW, "secretary": 403, **SEES_INSIDE, **ONLOOKERS},
        fresh=True,
        note="TRANSITION_RULES: starting cultivation is the proposing unit's head's",
    ),
    Row(
        "nominations/<id:pk>/resubmit/",
        "post",
        lambda w: f"/api/v1/nominations/{w.inside.pk}/resubmit/",
        body=lambda w: {"version": w.inside.version},
        default=409,
        expect=SEES_INSIDE,
        fresh=True,
        note="a case in discover was not returned: 409 (the stage is asked before the capacity) to all who see it",
    ),
    Row(
        "nominations/<id:pk>/withdraw/",
        "post",
        lambda w: f"/api/v1/nominations/{w.inside.pk}/withdraw/",
        body=lambda w: {"version": w.inside.version, "reason": "Đơn vị rút hồ sơ"},
        expect={"head_a": ALLOW, "admin": ALLOW, "secretary": 403, **SEES_INSIDE, **ONLOOKERS},
        fresh=True,
        note="TRANSITION_RULES: withdraw is the proposing unit's head's",
    ),
    Row(
        "nominations/<id:pk>/timeline/",
        "get",
        lambda w: f"/api/v1/nominations/{w.inside.pk}/timeline/",
        default=ALLOW,
        expect=SEES_INSIDE,
    ),
    Row(
        "nominations/<id:pk>/route/",
        "get",
        lambda w: f"/api/v1/nominations/{w.inside.pk}/route/",
        default=ALLOW,
        expect=SEES_INSIDE,
    ),
    # --- dossier files
    Row(
        "nominations/<id:pk>/files/",
        "get",
        lambda w: f"/api/v1/nominations/{w.inside.pk}/files/",
        default=ALLOW,
        expect=SEES_INSIDE,
    ),
    Row(
        "nominations/<id:pk>/files/",
        "post",
        lambda w: f"/api/v1/nominations/{w.inside.pk}/files/",
        body=lambda w: {
            "document_type": w.org.report_type.pk,
            "file": SimpleUploadedFile("bao-cao.pdf", PDF_BYTES, content_type="application/pdf"),
        },
        multipart=True,
        expect={"head_a": 201, "secretary": 201, "admin": 201, **SEES_INSIDE, **ONLOOKERS},
        fresh=True,
        note="while the case is editable, by whoever may edit it",
    ),
    Row("files/<id:pk>/download/", "get", _file, default=ALLOW, expect=SEES_INSIDE, note="can_open_file"),
    Row(
        "files/<id:pk>/download/",
        "get",
        lambda w: "/api/v1/files/999999999/download/",
        default=DENY,
        note="an unknown id: refused as one outside the user's tree",
    ),
    # --- work
    Row("my-work/", "get", lambda w: "/api/v1/my-work/", default=ALLOW),
]
