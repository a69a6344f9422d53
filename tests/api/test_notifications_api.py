"""Notifications through the API: one's own only, newest first, marked read one by one or all at once;
the list reads a constant number of queries."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from notifications.models import InAppNotification
from tests.api.decision_cases import notification_for


def test_a_user_lists_and_reads_only_their_own_notifications(world):
    mine = [notification_for(world.org.hospital_head, title=f"Việc {n}") for n in range(3)]
    theirs = notification_for(world.org.ward_head, title="Của phường")
    client = world.client("head_a")
    listed = client.get("/api/v1/notifications/").json()["results"]
    assert [row["id"] for row in listed] == [row.pk for row in reversed(mine)]
    assert all(row["read"] is False for row in listed)

    assert client.post(f"/api/v1/notifications/{theirs.pk}/read/").status_code == 404
    assert InAppNotification.objects.get(pk=theirs.pk).read_at is None
    read = client.post(f"/api/v1/notifications/{mine[0].pk}/read/")
    assert read.status_code == 200
    assert read.json()["read"] is True
    assert client.post("/api/v1/notifications/read-all/").json() == {"marked": 2}
    assert not InAppNotification.objects.filter(recipient=world.org.hospital_head, read_at__isnull=True).exists()
    assert InAppNotification.objects.get(pk=theirs.pk).read_at is None


def test_the_notifications_list_reads_a_constant_number_of_queries(world):
    client = world.client("head_a")
    counts = []
    for total in (10, 200):
        for n in range(total - InAppNotification.objects.count()):
            notification_for(world.org.hospital_head, title=f"Việc {total}-{n}")
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/api/v1/notifications/?page_size=200")
        assert len(response.json()["results"]) == total
        counts.append(len(queries))
    assert counts[0] == counts[1]
