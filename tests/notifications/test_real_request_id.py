"""A decision posted to the web with an X-Request-ID: the notifications it causes are published after its
transaction commits (notifications/outbox.py, still in the request's thread), and the real worker process
(Redis, prefork, JSON logs) logs each delivery with that request id."""

import json

import pytest
from django.urls import reverse

from notifications.models import Outbox
from tests.factories import build_org, holders, open_step, submitted
from tests.notifications.test_real_delivery import wait_all_sent

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_the_worker_logs_the_deliveries_a_request_caused_with_its_request_id(client, publisher, worker, smtp_sink):
    worker.env["LOG_FORMAT"] = "json"
    worker.start()
    org = build_org()
    nomination = submitted(org)  # outside any request: its notifications carry no id
    wait_all_sent(worker, smtp_sink)
    before = set(Outbox.objects.values_list("pk", flat=True))

    task = open_step(nomination)
    client.force_login(holders(task)[0])
    response = client.post(
        reverse("processes:step-decide", args=[nomination.pk, task.pk]),
        {"action": "approve"},
        headers={"X-Request-ID": "e2e-decision-1"},
    )
    assert response.status_code in {200, 302}, response.content[:2000]
    assert response["X-Request-ID"] == "e2e-decision-1"
    new = sorted(Outbox.objects.exclude(pk__in=before).values_list("pk", flat=True))
    assert new, "the decision made no notification"
    wait_all_sent(worker, smtp_sink)

    lines = json_lines(worker.log())
    succeeded = [
        line for line in lines if line["logger"] == "celery.app.trace" and "notifications.deliver" in line["message"]
    ]
    by_request = [line for line in succeeded if line["request_id"] == "e2e-decision-1"]
    assert len(by_request) == len(new), [line["message"] for line in succeeded]
    assert all("succeeded" in line["message"] for line in by_request)
    # The submission's deliveries, published outside a request, carry none.
    assert len(succeeded) > len(by_request)
    assert all(line["request_id"] in {None, "e2e-decision-1"} for line in succeeded)
