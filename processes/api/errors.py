"""How the API answers a refusal.

- 400: invalid input, with the fields' errors (DRF's ``ValidationError``), or a domain rule refused;
- 403: the user may see the object but not do this (``processes.errors.PermissionDenied``);
- 404: the object does not exist *or* is outside what the user may see (scoped querysets), so the
  answer never tells which;
- 409: a stale or double write (the case changed since the version sent, the step was decided, a
  transition not open in the case's current stage), with the current state when the view gives it;
- 413: a file or a request body over the limit;
- 429: throttled (DRF's ``Throttled``, with ``Retry-After``).

Every body is ``{"detail": "...", "code": "..."}`` plus ``"errors"`` (field → messages) or
``"current"`` (the object's state now) where they apply.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransition
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from processes import errors
from workflow.errors import ActionNotAllowed, StepBusy, StepClosed, WorkflowError

#: Domain refusals that mean "the state moved under you": 409.
CONFLICTS = (errors.StaleObject, errors.TransitionNotAllowed, StepClosed, StepBusy, ActionNotAllowed)


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("The object changed since you read it.")
    default_code = "conflict"

    def __init__(self, detail=None, *, current=None):
        super().__init__(detail)
        self.current = current


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = _("The request is larger than the limit.")
    default_code = "too_large"


def domain_refusal(error: WorkflowError, *, current=None) -> exceptions.APIException:
    """The API exception for a refusal of the services (``current``: the object's state now, for a 409)."""
    message = str(error)
    if isinstance(error, errors.FileTooLarge):
        return PayloadTooLarge(message)
    if isinstance(error, errors.PermissionDenied):
        return exceptions.PermissionDenied(message)
    if isinstance(error, CONFLICTS):
        return Conflict(message, current=current)
    return exceptions.ValidationError({"detail": message}, code="refused")


def exception_handler(exc, context):
    # Django's own refusals become DRF's here (DRF converts them too, later), so their code is named.
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, ConcurrentTransition):
        exc = Conflict(_("Someone else changed this nomination after you read it. Read it again and retry."))
    elif isinstance(exc, WorkflowError):
        exc = domain_refusal(exc)
    elif isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    if isinstance(exc, exceptions.ValidationError):
        detail = data.pop("detail", None) if isinstance(data, dict) else None
        if isinstance(detail, list):
            detail = " ".join(str(item) for item in detail)
        body = {"detail": str(detail or _("The request is not valid.")), "code": "invalid"}
        if isinstance(data, dict) and data:
            body["errors"] = data
        elif isinstance(data, list):
            body["errors"] = {"non_field_errors": data}
        response.data = body
        return response
    body = {"detail": str(getattr(exc, "detail", data.get("detail", ""))), "code": _code(exc)}
    if isinstance(exc, Conflict) and exc.current is not None:
        body["current"] = exc.current
    response.data = body
    return response


def _code(exc) -> str:
    codes = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
    return codes if isinstance(codes, str) else "error"


def refusal_response(error: WorkflowError, *, current=None) -> Response:
    """A view's answer to a refusal it caught itself (to add ``current``)."""
    exc = domain_refusal(error, current=current)
    return exception_handler(exc, {})
