"""The notification centre: an unread count on every page, marking read, preferences."""

from django.urls import reverse

from notifications import outbox
from notifications.models import Event, InAppNotification, Outbox, Preference
from tests.factories import submitted


def _deliver_all():
    for pk in Outbox.objects.values_list("pk", flat=True):
        outbox.deliver(pk)


def test_every_page_shows_the_unread_count_and_reading_one_follows_its_link(client, org):
    nomination = submitted(org)
    _deliver_all()
    client.force_login(org.hospital_head)
    page = client.get(reverse("processes:nomination-list")).text
    assert '<span class="badge">1</span>' in page
    row = InAppNotification.objects.get(recipient=org.hospital_head)
    response = client.post(reverse("notifications:read", args=[row.pk]))
    assert response.url == reverse("processes:nomination-detail", args=[nomination.pk])
    assert 'class="badge"' not in client.get(reverse("processes:nomination-list")).text


def test_nobody_reads_or_marks_another_users_notification(client, org):
    submitted(org)
    _deliver_all()
    row = InAppNotification.objects.get(recipient=org.hospital_head)
    client.force_login(org.hospital_secretary)
    assert client.post(reverse("notifications:read", args=[row.pk])).status_code == 404
    assert row.title not in client.get(reverse("notifications:centre")).text
    row.refresh_from_db()
    assert row.read_at is None


def test_mark_all_read(client, org):
    submitted(org)
    submitted(org)
    _deliver_all()
    client.force_login(org.hospital_head)
    client.post(reverse("notifications:read-all"))
    assert not InAppNotification.objects.filter(recipient=org.hospital_head, read_at__isnull=True).exists()


def test_preferences_are_saved_per_event(client, org):
    client.force_login(org.hospital_head)
    data = {f"{event}-in_app": "on" for event in Event.values}
    data |= {f"{event}-email": "on" for event in Event.values if event != Event.REMINDER}
    data["task_assigned-digest"] = "on"
    assert client.post(reverse("notifications:preferences"), data).status_code == 302
    reminder = Preference.objects.get(user=org.hospital_head, event=Event.REMINDER)
    assigned = Preference.objects.get(user=org.hospital_head, event=Event.TASK_ASSIGNED)
    assert (reminder.in_app, reminder.email, reminder.digest) == (True, False, False)
    assert (assigned.in_app, assigned.email, assigned.digest) == (True, True, True)
