"""After ``seed_demo``, every page a person of the demo can reach opens: every case page for an
administrator and for each holder of one of its open steps, every user's own pages, and every page of
the admin. A template change that breaks a quarter of the cases fails here first (issue 9 found 61 of
246 case pages answering 500)."""

from io import StringIO

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse
from django.utils import translation

from processes.models import Nomination, Stage
from workflow.actions import declared
from workflow.approvals import open_tasks, processes_of
from workflow.models import ApprovalTask, AuditEntry, StepKind, VoteSession

pytestmark = pytest.mark.django_db

#: Admin objects opened per model: the oldest and the newest few (all for small tables).
ADMIN_OBJECTS_PER_MODEL = 6


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker, tmp_path_factory):
    """The demo, seeded once for the module and committed; the tables emptied after."""
    test_settings = override_settings(
        DOSSIER_ROOT=tmp_path_factory.mktemp("dossiers"),
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
    )
    with django_db_blocker.unblock(), test_settings, translation.override("en"):
        call_command("seed_demo", stdout=StringIO())
    yield
    with django_db_blocker.unblock():
        call_command("flush", interactive=False, verbosity=0)


def _client(user) -> Client:
    client = Client()  # no language cookie: the Vietnamese every user sees by default
    client.force_login(user)
    return client


def _fails(client, url) -> int | None:
    status = client.get(url).status_code
    return None if status == 200 else status


def test_every_case_page_opens_for_an_administrator_and_for_each_holder_of_its_open_steps(demo):
    administrator = get_user_model().objects.get(username="admin")
    as_admin = _client(administrator)
    clients = {administrator.pk: as_admin}
    failures = []
    nominations = list(Nomination.objects.order_by("pk"))
    assert len(nominations) >= 200
    holders_seen = 0
    for nomination in nominations:
        url = reverse("processes:nomination-detail", args=[nomination.pk])
        if status := _fails(as_admin, url):
            failures.append((url, "admin", status))
        for task in open_tasks(processes=processes_of(nomination)):
            for candidate in task.candidates.all():
                holder = candidate.user
                client = clients.setdefault(holder.pk, _client(holder))
                holders_seen += 1
                if status := _fails(client, url):
                    failures.append((url, holder.username, status))
    assert failures == []
    assert holders_seen > 30
    # The demo holds every kind of case the pages must show: decided by a council vote, through a
    # posting window, returned, awarded, closed.
    decided = ApprovalTask.objects.filter(closed_at__isnull=False)
    assert decided.filter(step__kind=StepKind.VOTE).exists()
    assert decided.filter(step__kind=StepKind.POSTING).exists()
    assert {Stage.RETURNED, Stage.REPLICATE, Stage.CLOSED, Stage.REJECTED} <= {n.stage for n in nominations}


def test_every_user_opens_their_own_pages(demo):
    pages = [
        reverse("processes:my-work"),
        reverse("processes:nomination-list"),
        reverse("processes:nomination-list") + "?q=nguyen+hai+phong&overdue=on&sort=due",
        reverse("processes:inbox"),
        reverse("processes:council"),
        reverse("notifications:centre"),
        reverse("notifications:preferences"),
    ]
    failures = []
    users = list(get_user_model().objects.filter(is_active=True).order_by("pk"))
    assert len(users) > 40
    for user in users:
        client = _client(user)
        for url in pages:
            if status := _fails(client, url):
                failures.append((url, user.username, status))
    assert failures == []


def test_every_council_session_page_opens_for_its_members_and_the_board(demo):
    board = get_user_model().objects.get(username="board.officer")
    as_board = _client(board)
    failures = []
    for session in VoteSession.objects.order_by("pk"):
        url = reverse("processes:council-session", args=[session.pk])
        if status := _fails(as_board, url):
            failures.append((url, "board.officer", status))
        for owner in get_user_model().objects.filter(pk__in=session.task_set.values("owner_id")).distinct():
            if status := _fails(_client(owner), url):
                failures.append((url, owner.username, status))
    assert failures == []


def test_every_admin_list_add_and_change_page_opens(demo):
    administrator = get_user_model().objects.get(username="admin")
    client = _client(administrator)
    failures = []
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        if status := _fails(client, changelist):
            failures.append((changelist, status))
        if model_admin.has_add_permission(_request(administrator)):
            add = reverse(f"admin:{opts.app_label}_{opts.model_name}_add")
            if status := _fails(client, add):
                failures.append((add, status))
        rows = model._default_manager.order_by("pk")
        keys = list(rows.values_list("pk", flat=True)[: ADMIN_OBJECTS_PER_MODEL // 2])
        keys += list(rows.reverse().values_list("pk", flat=True)[: ADMIN_OBJECTS_PER_MODEL // 2])
        for key in dict.fromkeys(keys):
            change = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[key])
            if status := _fails(client, change):
                failures.append((change, status))
    assert failures == []


def test_every_action_the_demo_wrote_is_declared_with_its_label(demo):
    written = set(AuditEntry.objects.values_list("action", flat=True).distinct())
    assert len(written) > 15
    assert sorted(written - set(declared())) == []


def _request(user):
    request = RequestFactory().get("/admin/")
    request.user = user
    return request
