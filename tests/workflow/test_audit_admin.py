"""The audit log in the admin: readable, and not writable even by a superuser."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import UserFactory
from workflow.audit import audit_append
from workflow.models import AuditChain, AuditEntry

ENTRY_CHANGELIST = reverse("admin:workflow_auditentry_changelist")
CHAIN_CHANGELIST = reverse("admin:workflow_auditchain_changelist")


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_superuser=True, is_staff=True)


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


def log_entries(count: int, *, per_chain: int = 3) -> list[AuditEntry]:
    """``count`` entries over several subjects and actors, so every related column varies."""
    entries = []
    subject = actor = None
    for n in range(count):
        if n % per_chain == 0:
            subject, actor = UserFactory(), UserFactory()
        entries.append(
            audit_append(
                subject=subject,
                actor=actor,
                action="processes.nomination.submitted" if n % 2 else "processes.nomination.returned",
                from_state="discover",
                to_state="cultivate",
                comment=f"ghi chú {n}",
            )
        )
    return entries


def queries_for(client, url: str) -> int:
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200
    return len(context.captured_queries)


def test_superuser_reads_the_entry_changelist(admin_client):
    entries = log_entries(4)

    response = admin_client.get(ENTRY_CHANGELIST)

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == sorted(entries, key=lambda entry: -entry.pk)
    assert str(entries[0].chain) in response.text


def test_entry_changelist_filters_by_action_and_searches_comments(admin_client):
    log_entries(4)

    by_action = admin_client.get(ENTRY_CHANGELIST, {"action": "processes.nomination.submitted"})
    by_comment = admin_client.get(ENTRY_CHANGELIST, {"q": "ghi chú 2"})

    assert {entry.action for entry in by_action.context["cl"].result_list} == {"processes.nomination.submitted"}
    assert by_action.context["cl"].result_count == 2
    assert [entry.comment for entry in by_comment.context["cl"].result_list] == ["ghi chú 2"]


def test_superuser_cannot_add_an_entry(admin_client):
    log_entries(1)

    assert admin_client.get(reverse("admin:workflow_auditentry_add")).status_code == 403
    assert admin_client.post(reverse("admin:workflow_auditentry_add"), {"action": "x"}).status_code == 403
    assert admin_client.get(reverse("admin:workflow_auditchain_add")).status_code == 403
    assert AuditEntry.objects.count() == 1


def test_superuser_cannot_change_an_entry(admin_client):
    entry = log_entries(1)[0]
    url = reverse("admin:workflow_auditentry_change", args=[entry.pk])

    page = admin_client.get(url)
    posted = admin_client.post(url, {"comment": "sửa", "action": "x", "seq": 1})

    assert page.status_code == 200
    assert 'name="_save"' not in page.text
    assert 'name="comment"' not in page.text  # shown, not offered as a field
    assert entry.comment in page.text
    assert posted.status_code == 403
    assert AuditEntry.objects.get(pk=entry.pk).comment == entry.comment


def test_superuser_cannot_delete_an_entry_one_by_one_or_in_bulk(admin_client):
    entries = log_entries(2)

    single = admin_client.post(reverse("admin:workflow_auditentry_delete", args=[entries[0].pk]), {"post": "yes"})
    bulk = admin_client.post(
        ENTRY_CHANGELIST,
        {"action": "delete_selected", "_selected_action": [entry.pk for entry in entries], "post": "yes"},
    )

    assert single.status_code == 403
    assert "delete_selected" not in admin_client.get(ENTRY_CHANGELIST).text
    assert bulk.status_code in {200, 302}
    assert AuditEntry.objects.count() == 2


def test_chain_pages_are_read_only_too(admin_client):
    entries = log_entries(3)
    chain = entries[0].chain
    url = reverse("admin:workflow_auditchain_change", args=[chain.pk])

    listing = admin_client.get(CHAIN_CHANGELIST, {"q": "not-a-number"})
    page = admin_client.get(url)

    assert listing.status_code == 200
    assert page.status_code == 200
    assert 'name="_save"' not in page.text
    assert all(entry.comment in page.text for entry in entries)  # the entries, inline
    assert admin_client.post(url, {"last_seq": 0}).status_code == 403
    assert admin_client.post(reverse("admin:workflow_auditchain_delete", args=[chain.pk])).status_code == 403
    assert AuditChain.objects.get(pk=chain.pk).last_seq == 3


def test_entry_changelist_query_count_does_not_grow_with_rows(admin_client):
    log_entries(3)
    with_few = queries_for(admin_client, ENTRY_CHANGELIST)

    log_entries(27)
    with_many = queries_for(admin_client, ENTRY_CHANGELIST)

    assert AuditEntry.objects.count() == 30
    assert with_many == with_few


def test_chain_changelist_and_page_query_counts_do_not_grow_with_rows(admin_client):
    short = log_entries(3, per_chain=3)[0].chain
    queries_for(admin_client, reverse("admin:workflow_auditchain_change", args=[short.pk]))  # warm caches
    few_chains = queries_for(admin_client, CHAIN_CHANGELIST)
    few_entries = queries_for(admin_client, reverse("admin:workflow_auditchain_change", args=[short.pk]))

    long = log_entries(30, per_chain=30)[0].chain
    log_entries(24, per_chain=3)
    many_chains = queries_for(admin_client, CHAIN_CHANGELIST)
    many_entries = queries_for(admin_client, reverse("admin:workflow_auditchain_change", args=[long.pk]))

    assert AuditChain.objects.count() == 10
    assert many_chains == few_chains
    assert many_entries == few_entries
