"""The screens' permission matrix, generated from the URL configuration: every route outside admin/ and
api/ (the API has its own matrix in tests/api/), asked by anonymous and by each role, about an object inside
and outside the user's subtree, gives the outcome written in ROUTES; a route with no row fails the test.

The two cases: A, proposed by the hospital (under the Health department), and B, proposed by the ward
(under the district). The hospital's head and secretary hold A inside their subtree and B outside; the
ward's head the other way round; the Board, the council member, the chairman and the admin see both.
Objects this matrix does not build (exports, notifications, council sessions, consultations, signed
decisions, replication evidence) are asked for by an id that does not exist: those rows check that the
route wants a log-in and answers 404, never 500, whoever asks; their real permissions are tested beside
their screens (tests/processes/).
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from processes import services
from processes.models import DossierFile, Nomination
from tests.factories import attach_file, make_nomination, open_step, submitted
from workflow.audit import audit_entries_for

ACTORS = (
    "anonymous",
    "hospital_head",
    "ward_head",
    "hospital_secretary",
    "board_officer",
    "council_member",
    "chairman",
    "admin",
)
# One letter per actor, in ACTORS' order: 2 allowed (200), R a redirect elsewhere than the log-in (a form's
# success, the language switch), L the log-in page, 3 403, 4 404, 5 405 (a POST-only route asked with GET),
# U 503 (a readiness probe saying the installation is not ready: here no worker or beat has beaten).
CODES = {"2": 200, "3": 403, "4": 404, "5": 405, "U": 503}
MISSING = 999_999

# route: (outcomes about case A, about case B), B None when the route names no object of a case. The
# cells that guard the subtree: the ward's head gets 404 for A, the hospital's head and secretary 404
# for B; anonymous gets the log-in page everywhere but the open routes (tests/test_project.py).
ROUTES: dict[str, tuple[str, str | None]] = {
    "accounts/login/": ("22222222", None),
    "accounts/logout/": ("L5555555", None),
    "accounts/password/change/": ("L2222222", None),
    "accounts/password/change/done/": ("L2222222", None),
    "accounts/password/reset/": ("22222222", None),
    "accounts/password/reset/sent/": ("22222222", None),
    "accounts/password/reset/<uidb64>/<token>/": ("22222222", None),
    "accounts/password/reset/done/": ("22222222", None),
    "i18n/setlang/": ("RRRRRRRR", None),
    "favicon.ico": ("RRRRRRRR", None),
    "notifications/": ("L2222222", None),
    "notifications/<id:pk>/read/": ("L5555555", None),
    "notifications/read-all/": ("L5555555", None),
    "notifications/preferences/": ("L2222222", None),
    "": ("L2222222", None),
    "my-work/approve/": ("LRRRRRRR", None),
    "cases/": ("L2222222", None),
    "cases/export/": ("L5555555", None),
    "cases/exports/<id:pk>/": ("L4444444", None),
    "cases/exports/<id:pk>/download/": ("L4444444", None),
    "nominations/new/": ("L2224422", None),
    "nominees/new/": ("L2224422", None),
    "nominations/<id:pk>/": ("L2422222", "L4242222"),
    "nominations/<id:pk>/transition/": ("L5555555", "L5555555"),
    "nominations/<id:pk>/edit/": ("L5555555", "L5555555"),
    "nominations/<id:pk>/steps/<id:task_id>/decide/": ("L5555555", "L5555555"),
    "nominations/<id:pk>/steps/<id:task_id>/reassign/": ("L5555555", "L5555555"),
    "inbox/": ("L2222222", None),
    "council/": ("L2222222", None),
    "council/sessions/<id:pk>/": ("L4444444", None),
    "nominations/<id:pk>/objections/": ("L5555555", "L5555555"),
    "nominations/<id:pk>/steps/<id:task_id>/consultations/": ("L5555555", "L5555555"),
    "consultations/<id:pk>/": ("L4444444", None),
    "nominations/<id:pk>/files/": ("L5555555", "L5555555"),
    "files/<id:pk>/download/": ("L2422222", "L4242222"),
    "nominations/<id:pk>/route.bpmn": ("L2422222", "L4242222"),
    "files/<id:pk>/preview/": ("L2422222", "L4242222"),
    "files/<id:pk>/remove/": ("L5555555", "L5555555"),
    "files/<id:pk>/replace/": ("L5555555", "L5555555"),
    "public/posting/": ("44444444", None),
    "public/posting/<id:pk>/objection/": ("44444444", None),
    "public/awards/": ("44444444", None),
    "dashboard/": ("L2222322", None),
    "decisions/<id:pk>/print/": ("L4444444", None),
    "decisions/<id:pk>/decision.docx": ("L4444444", None),
    "decisions/<id:pk>/certificates.docx": ("L4444444", None),
    "council/sessions/<id:pk>/minutes/": ("L4444444", None),
    "council/sessions/<id:pk>/minutes.docx": ("L4444444", None),
    "documents/": ("L2222222", None),
    "documents/units/<id:unit>/campaigns/<id:campaign>/proposal/": ("L2422222", "L4242222"),
    "documents/units/<id:unit>/campaigns/<id:campaign>/proposal.docx": ("L2422222", "L4242222"),
    "documents/units/<id:unit>/campaigns/<id:campaign>/summary-list/": ("L2422222", "L4242222"),
    "documents/units/<id:unit>/campaigns/<id:campaign>/summary-list.docx": ("L2422222", "L4242222"),
    "decisions/": ("L2222222", None),
    "decisions/sign/": ("L2222222", None),
    "decisions/sign/confirm/": ("LRRRRRRR", None),
    "decisions/<id:pk>/": ("L4444444", None),
    "nominations/<id:pk>/replication/activities/": ("L5555555", "L5555555"),
    "nominations/<id:pk>/replication/plan/": ("L5555555", "L5555555"),
    "nominations/<id:pk>/replication/close/": ("L5555555", "L5555555"),
    "evidence/<id:pk>/download/": ("L4444444", None),
    "statistics/": ("L3332322", None),
    "statistics/download/": ("L3332322", None),
    # For load balancers and Prometheus: no log-in; readiness needs heartbeats, metrics a token (off here).
    "health/live": ("22222222", None),
    "health/ready": ("UUUUUUUU", None),
    "metrics": ("44444444", None),
}


def _routes(resolver=None, prefix=""):
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            yield from _routes(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern)


def screen_routes() -> list[str]:
    return [route for route in _routes() if not route.startswith(("admin/", "api/"))]


def _url(route: str, case: Nomination | None) -> str:
    task = open_step(case) if case is not None else None
    file = DossierFile.objects.filter(nomination=case).first() if case is not None else None
    values = {
        "<id:pk>": case.pk
        if case is not None and route.startswith("nominations/")
        else (file.pk if file is not None and route.startswith("files/") else MISSING),
        "<id:task_id>": task.pk if task is not None else MISSING,
        "<id:unit>": case.unit_id if case is not None else MISSING,
        "<id:campaign>": case.campaign_id if case is not None else MISSING,
        "<uidb64>": "MQ",
        "<token>": "set-password",
    }
    url = "/" + route
    for parameter, value in values.items():
        url = url.replace(parameter, str(value))
    return url


def _outcome(response) -> str:
    if response.status_code in (301, 302):
        return "L" if "/accounts/login/" in response["Location"] else "R"
    return next((code for code, status in CODES.items() if status == response.status_code), str(response.status_code))


def _names_a_case(route: str) -> bool:
    return route.startswith(("nominations/<id:pk>/", "files/<id:pk>/", "documents/units/"))


@pytest.fixture
def cases(org):
    """Case A from the hospital and case B from the ward, each submitted with its report."""
    ward_case = make_nomination(org, unit=org.ward)
    attach_file(ward_case, org.report_type, user=org.ward_secretary)
    ward_case = services.nomination_start_cultivation(nomination=ward_case, by=org.ward_head)
    return submitted(org), services.nomination_submit(nomination=ward_case, by=org.ward_secretary)


def _clients(org) -> dict[str, Client]:
    clients = {"anonymous": Client()}
    for name in ACTORS[1:]:
        clients[name] = Client()
        clients[name].force_login(org.users[name])
    for client in clients.values():
        client.cookies["django_language"] = "en"
    return clients


def test_every_screen_route_has_a_row_in_the_matrix():
    missing = [route for route in screen_routes() if route not in ROUTES]
    stale = [route for route in ROUTES if route not in screen_routes()]
    assert not missing, f"routes with no row in ROUTES (add the expected outcome per actor): {missing}"
    assert not stale, f"rows for routes that no longer exist: {stale}"


def test_every_screen_route_answers_each_actor_about_a_case_inside_and_outside_their_subtree(org, cases):
    clients = _clients(org)
    observed = {}
    for route in screen_routes():
        row = []
        for case in cases if _names_a_case(route) else (None,):
            url = _url(route, case)
            row.append("".join(_outcome(clients[actor].get(url)) for actor in ACTORS))
        observed[route] = (row[0], row[1] if len(row) > 1 else None)
    wrong = {
        route: {"expected": ROUTES[route], "observed": outcome}
        for route, outcome in observed.items()
        if route in ROUTES and ROUTES[route] != outcome
    }
    assert not wrong, f"actors {', '.join(ACTORS)}: {wrong}"


# POST routes naming a case, each with what a holder would send; the ward's head posts them about case A.
POSTS = {
    "nominations/<id:pk>/transition/": {"action": "withdraw", "comment": "Rút"},
    "nominations/<id:pk>/edit/": {"achievement_summary": "Sửa trái phép"},
    "nominations/<id:pk>/steps/<id:task_id>/decide/": {"action": "approve"},
    "nominations/<id:pk>/steps/<id:task_id>/reassign/": {"reason": "Nghỉ"},
    "nominations/<id:pk>/objections/": {"text": "Phản ánh"},
    "nominations/<id:pk>/steps/<id:task_id>/consultations/": {"question": "Ý kiến?"},
    "nominations/<id:pk>/files/": {},
    "files/<id:pk>/remove/": {"reason": "Xóa"},
    "files/<id:pk>/replace/": {},
    "nominations/<id:pk>/replication/activities/": {},
    "nominations/<id:pk>/replication/plan/": {},
    "nominations/<id:pk>/replication/close/": {"reason": "Đóng"},
}


def test_every_post_route_naming_a_case_has_a_refusal_check():
    assert sorted(POSTS) == sorted(
        route for route, (_a, _b) in ROUTES.items() if "5" in ROUTES[route][0] and _names_a_case(route)
    )


def test_posting_about_a_case_outside_the_subtree_is_refused_and_changes_nothing(org, cases):
    case, _ward_case = cases
    intruder = Client()
    intruder.force_login(org.ward_head)
    before = (Nomination.objects.get(pk=case.pk).version, audit_entries_for(case).count())
    files = list(DossierFile.objects.filter(nomination=case).values_list("pk", "removed_at"))
    for route, data in POSTS.items():
        response = intruder.post(_url(route, case), data)
        assert response.status_code in (403, 404), (route, response.status_code)
    assert (Nomination.objects.get(pk=case.pk).version, audit_entries_for(case).count()) == before
    assert list(DossierFile.objects.filter(nomination=case).values_list("pk", "removed_at")) == files
