"""Matrix rows of decisions on steps, council sessions and ballots, numbered decisions and their papers,
process templates and notifications (``processes/api/decisions.py``, ``council.py``, ``templates.py``,
``notifications/api.py``).

Who may: a step is decided by its holder (the hospital's head holds a hospital case's first step) or by
an administrator stepping in with a reason; whoever sees the case but does not hold the step gets 403,
whoever does not see it 404. A bulk approval answers 200 with each step's outcome to whoever sees the
cases (a step not theirs is reported refused), 404 to whoever may not see them. Decisions and their
papers: whoever may see an awardee's case (the ward's head may not). Signing: the holder of the signing
step, the chairman. Sessions: the Board, the council's members, whoever may convene it (the chairman
heads the city the council belongs to), administrators; a ballot is a member's. Templates: read by
everyone signed in, written by administrators. Notifications: one's own.
"""

from tests.api import decision_cases as cases
from tests.api.matrix import ALLOW, Row


def _decide_body(w):
    _task, nomination = cases.first_step(w)
    return {"action": "approve", "comment": "Đồng ý", "version": nomination.version}


def _bulk_body(w):
    task, nomination = cases.first_step(w)
    return {"items": [{"task": task.pk, "version": nomination.version}], "comment": "Đồng ý"}


def _sign_body(w):
    task, nomination = cases.at_signing(w)
    return {
        "tasks": [{"task": task.pk, "version": nomination.version}],
        "signed_on": cases.last_working_day().isoformat(),
    }


def _ballot_body(w):
    session = cases.open_session(w)
    return {"choices": [{"item": item.pk, "choice": "yes"} for item in session.items.all()]}


ROWS = [
    # --- decisions on steps
    Row(
        "steps/<id:task_id>/decide/",
        "post",
        lambda w: f"/api/v1/steps/{cases.first_step(w)[0].pk}/decide/",
        expect={"head_a": ALLOW, "admin": ALLOW, "head_b": 404},
        body=_decide_body,
        fresh=True,
        note="the holder; an administrator steps in with a reason; others who see the case 403, head_b 404",
    ),
    Row(
        "steps/decide/",
        "post",
        lambda w: "/api/v1/steps/decide/",
        default=ALLOW,
        expect={"head_b": 404},
        body=_bulk_body,
        fresh=True,
        note="200 with each step's outcome to whoever sees the case; a step of a case not seen refuses all",
    ),
    # --- numbered decisions and their papers
    Row("decisions/", "get", lambda w: "/api/v1/decisions/", default=ALLOW),
    Row(
        "decisions/<id:pk>/",
        "get",
        lambda w: f"/api/v1/decisions/{cases.signed_decision(w).pk}/",
        default=ALLOW,
        expect={"head_b": 404},
    ),
    Row(
        "decisions/<id:pk>/decision.docx",
        "get",
        lambda w: f"/api/v1/decisions/{cases.signed_decision(w).pk}/decision.docx",
        default=ALLOW,
        expect={"head_b": 404},
    ),
    Row(
        "decisions/<id:pk>/certificates.docx",
        "get",
        lambda w: f"/api/v1/decisions/{cases.signed_decision(w).pk}/certificates.docx",
        default=ALLOW,
        expect={"head_b": 404},
    ),
    Row(
        "decisions/sign/",
        "post",
        lambda w: "/api/v1/decisions/sign/",
        default=404,
        expect={"chairman": ALLOW},
        body=_sign_body,
        fresh=True,
        note="only the signing step's holder; anyone else's choice is not theirs (404, naming nothing)",
    ),
    # --- council
    Row("council/sessions/", "get", lambda w: "/api/v1/council/sessions/", default=ALLOW),
    Row(
        "council/sessions/",
        "post",
        lambda w: "/api/v1/council/sessions/",
        default=404,
        expect={"board": ALLOW, "chairman": ALLOW, "admin": ALLOW},
        body=lambda w: {"title": "Phiên họp", "tasks": [cases.awaiting_council(w).pk], "closes_on": "2099-12-31"},
        fresh=True,
        note="the Board, whoever convenes that council, administrators; the case awaits no council of anyone else",
    ),
    Row(
        "council/sessions/<id:pk>/",
        "get",
        lambda w: f"/api/v1/council/sessions/{cases.open_session(w).pk}/",
        expect={"board": ALLOW, "council": ALLOW, "chairman": ALLOW, "admin": ALLOW},
        default=404,
    ),
    Row(
        "council/sessions/<id:pk>/ballot/",
        "post",
        lambda w: f"/api/v1/council/sessions/{cases.open_session(w).pk}/ballot/",
        expect={"council": ALLOW, "board": 403, "chairman": 403, "admin": 403},
        default=404,
        body=_ballot_body,
        fresh=True,
        note="a member's ballot; those who see the session without a ballot 403",
    ),
    # --- templates
    Row("templates/", "get", lambda w: "/api/v1/templates/", default=ALLOW),
    Row(
        "templates/<id:pk>/",
        "get",
        lambda w: f"/api/v1/templates/{cases.published_template(w).pk}/",
        default=ALLOW,
    ),
    Row(
        "template-versions/<id:pk>/",
        "get",
        lambda w: f"/api/v1/template-versions/{cases.published_version(w).pk}/",
        default=ALLOW,
    ),
    Row(
        "templates/<id:pk>/draft/",
        "post",
        lambda w: f"/api/v1/templates/{cases.published_template(w).pk}/draft/",
        default=403,
        expect={"admin": ALLOW},
        fresh=True,
    ),
    Row(
        "template-versions/<id:pk>/steps/",
        "put",
        lambda w: f"/api/v1/template-versions/{cases.draft_version(w).pk}/steps/",
        default=403,
        expect={"admin": ALLOW},
        body=cases.draft_steps_body,
        fresh=True,
    ),
    Row(
        "template-versions/<id:pk>/publish/",
        "post",
        lambda w: f"/api/v1/template-versions/{cases.draft_version(w).pk}/publish/",
        default=403,
        expect={"admin": ALLOW},
        body=lambda w: {"effective_from": "2099-01-01"},
        fresh=True,
    ),
    # --- notifications
    Row("notifications/", "get", lambda w: "/api/v1/notifications/", default=ALLOW),
    Row(
        "notifications/<id:pk>/read/",
        "post",
        lambda w: f"/api/v1/notifications/{cases.head_a_notification(w).pk}/read/",
        default=404,
        expect={"head_a": ALLOW},
        fresh=True,
        note="one's own; anyone else's does not exist for them",
    ),
    Row("notifications/read-all/", "post", lambda w: "/api/v1/notifications/read-all/", default=ALLOW, fresh=True),
]
