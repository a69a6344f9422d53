"""The request id: taken from a safe X-Request-ID or made, sent back, written on every JSON log line of the
request, and carried into the Celery tasks the request enqueues (an in-process worker here; a real worker
process on Redis in tests/notifications/test_real_request_id.py)."""

import io
import json
import logging
import re
import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.http import HttpResponse
from django.urls import path
from django.views.decorators.http import require_GET
from pythonjsonlogger.json import JsonFormatter

from config.celery_app import app
from config.request_id import HEADER, RequestIdFilter, request_id

logger = logging.getLogger("tests.request_id")
#: A queue of its own, so the in-process worker takes only this module's messages (other tests leave
#: theirs in the in-memory broker's default queue).
QUEUE = "test-request-id"
seen_by_task: list[str | None] = []


@app.task(name="tests.request_id.log_from_task", queue=QUEUE)
def log_from_task(label: str) -> None:
    seen_by_task.append(request_id.get())
    logger.info("task %s ran", label)


@require_GET
def logging_view(request):
    logger.info("inside the view")
    return HttpResponse("ok")


@require_GET
def failing_view(request):
    raise RuntimeError("the view broke")


@require_GET
def enqueuing_view(request):
    log_from_task.delay("from the request")
    return HttpResponse("queued")


for view in (logging_view, failing_view, enqueuing_view):
    view.login_required = False

urlpatterns = [
    path("log/", logging_view),
    path("fail/", failing_view),
    path("enqueue/", enqueuing_view),
]


@pytest.fixture
def json_lines():
    """The root logger's lines as the production handler writes them (the JSON formatter and the request
    id filter of settings.LOGGING), into a buffer; returns a function giving the parsed lines."""
    config = dict(settings.LOGGING["formatters"]["json"])
    assert config.pop("()") == "pythonjsonlogger.json.JsonFormatter"
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(JsonFormatter(**config))
    filter_config = dict(settings.LOGGING["filters"]["request_id_json"])
    filter_config.pop("()")
    handler.addFilter(RequestIdFilter(**filter_config))
    root = logging.getLogger()
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in buffer.getvalue().splitlines()]
    root.removeHandler(handler)
    root.setLevel(old_level)


# --- the header --------------------------------------------------------------------------------------------


@pytest.mark.urls(__name__)
def test_a_request_without_an_id_gets_a_new_one_back(client):
    first, second = client.get("/log/"), client.get("/log/")
    assert re.fullmatch(r"[0-9a-f]{32}", first[HEADER])
    assert first[HEADER] != second[HEADER]


@pytest.mark.urls(__name__)
def test_the_load_balancers_id_is_kept_and_sent_back(client):
    response = client.get("/log/", headers={HEADER: "lb-7f3a.42:1"})
    assert response[HEADER] == "lb-7f3a.42:1"


@pytest.mark.urls(__name__)
@pytest.mark.parametrize(
    "forged",
    ['abc"def', "abc\ndef", "abc\r\nSet-Cookie: x=1", "x" * 65, "<script>", "a b", "", "ü-id"],
)
def test_a_forged_id_is_replaced(client, json_lines, forged):
    response = client.get("/log/", headers={HEADER: forged})
    assert re.fullmatch(r"[0-9a-f]{32}", response[HEADER])
    (line,) = [line for line in json_lines() if line["message"] == "inside the view"]
    assert line["request_id"] == response[HEADER]


# --- JSON log lines ---------------------------------------------------------------------------------------


@pytest.mark.urls(__name__)
def test_a_line_logged_in_a_view_is_json_with_the_request_id(client, json_lines):
    response = client.get("/log/", headers={HEADER: "req-123"})
    assert response.status_code == 200
    (line,) = [line for line in json_lines() if line["message"] == "inside the view"]
    assert line["request_id"] == "req-123"
    assert line["level"] == "INFO"
    assert line["logger"] == "tests.request_id"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+\+00:00", line["timestamp"])


@pytest.mark.urls(__name__)
def test_an_exception_is_one_json_line_with_its_traceback_and_the_request_id(client, json_lines):
    client.raise_request_exception = False
    response = client.get("/fail/", headers={HEADER: "req-500"})
    assert response.status_code == 500
    (line,) = [line for line in json_lines() if line["logger"] == "django.request"]
    assert line["level"] == "ERROR"
    assert line["request_id"] == "req-500"
    assert "RuntimeError: the view broke" in line["exc_info"]
    assert "Traceback" in line["exc_info"]


def test_outside_a_request_the_id_is_null(json_lines):
    logger.info("no request here")
    (line,) = json_lines()
    assert line["request_id"] is None


# --- into Celery tasks --------------------------------------------------------------------------------


@pytest.fixture
def in_process_worker(db):
    """A Celery worker in a thread of this process, on the suite's in-memory broker, taking only QUEUE."""
    seen_by_task.clear()
    with start_worker(app, pool="solo", perform_ping_check=False, queues=[QUEUE], shutdown_timeout=10):
        yield


def wait_for_tasks(count: int) -> list:
    deadline = time.monotonic() + 20
    while len(seen_by_task) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(seen_by_task) == count, seen_by_task
    return list(seen_by_task)


@pytest.mark.urls(__name__)
def test_a_task_enqueued_by_a_request_logs_with_that_requests_id(client, in_process_worker, json_lines):
    response = client.get("/enqueue/", headers={HEADER: "req-to-worker"})
    assert response.content == b"queued"
    assert wait_for_tasks(1) == ["req-to-worker"]
    (line,) = [line for line in json_lines() if line["message"] == "task from the request ran"]
    assert line["request_id"] == "req-to-worker"

    # A task enqueued outside any request runs without one: nothing is left over from the last task.
    log_from_task.delay("outside")
    assert wait_for_tasks(2)[1] is None
    (line,) = [line for line in json_lines() if line["message"] == "task outside ran"]
    assert line["request_id"] is None


def test_a_forged_id_in_a_task_header_is_not_used(in_process_worker):
    log_from_task.apply_async(args=["forged"], headers={"request_id": "bad\nid"})
    assert wait_for_tasks(1) == [None]


@pytest.mark.urls(__name__)
def test_after_a_request_its_id_is_gone_from_the_thread(client):
    client.get("/log/", headers={HEADER: "req-done"})
    assert request_id.get() is None
