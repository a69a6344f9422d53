"""One id per request, on every log line the request causes: in the web process and in the Celery tasks
it enqueues, even those published after its transaction commits (the notification outbox).

The id is the load balancer's ``X-Request-ID`` when it is a short token of safe characters, otherwise a
new one; it goes back on the response's ``X-Request-ID``. It lives in a context variable, so each
gunicorn thread has its own. ``before_task_publish`` copies it into the message's headers;
``task_prerun`` sets it in the worker for that task, ``task_postrun`` puts back what was there.
"""

import logging
import re
import uuid
from contextvars import ContextVar, Token

from celery.signals import before_task_publish, task_postrun, task_prerun

HEADER = "X-Request-ID"
#: The Celery message header that carries the id.
TASK_HEADER = "request_id"
#: What a client or proxy may send: a log line or a header can hold it as it is (no newline, quote,
#: space or markup), and it is short enough not to bloat every line.
VALID = re.compile(r"[A-Za-z0-9._:-]{1,64}")

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


def valid(value) -> str | None:
    return value if isinstance(value, str) and VALID.fullmatch(value) else None


def new_request_id() -> str:
    return uuid.uuid4().hex


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        value = valid(request.headers.get(HEADER)) or new_request_id()
        request.request_id = value
        token = request_id.set(value)
        try:
            response = self.get_response(request)
        finally:
            request_id.reset(token)
        response[HEADER] = value
        return response


class RequestIdFilter(logging.Filter):
    """Puts the current id on each record as ``request_id`` (``missing`` outside a request or task)."""

    def __init__(self, name: str = "", missing: str | None = "-"):
        super().__init__(name)
        self.missing = missing

    def filter(self, record: logging.LogRecord) -> bool:
        # Set on every pass: the record is shared by the handlers, each with its own ``missing``.
        record.request_id = request_id.get() or self.missing
        return True


@before_task_publish.connect(dispatch_uid="thidua.request_id.publish")
def _carry_into_task(headers=None, **kwargs) -> None:
    value = request_id.get()
    if value and headers is not None:
        headers.setdefault(TASK_HEADER, value)


#: The value each running task replaced, to put back when it ends (by task id).
_replaced: dict[str, Token] = {}


@task_prerun.connect(dispatch_uid="thidua.request_id.prerun")
def _set_for_task(task_id=None, task=None, **kwargs) -> None:
    # A task run in place (``apply``) has no header and keeps the id of the request running it.
    value = valid(getattr(task.request, TASK_HEADER, None)) if task is not None else None
    _replaced[task_id] = request_id.set(value or request_id.get())


@task_postrun.connect(dispatch_uid="thidua.request_id.postrun")
def _clear_after_task(task_id=None, **kwargs) -> None:
    token = _replaced.pop(task_id, None)
    try:
        if token is not None:
            request_id.reset(token)
    except ValueError:  # set in another context: a pool process then starts its next task clean
        request_id.set(None)
