"""Log-in throttling: django-axes with its database handler, one limit per account and a higher one per address.

Axes counts failed log-ins in ``AccessAttempt`` rows (one per user name, address and browser) and compares
one number with one limit (``AXES_FAILURE_LIMIT``) for every lockout parameter. Here the two parameters
have limits of their own: an account is locked after ``LOGIN_ACCOUNT_FAILURE_LIMIT`` failures from
anywhere, an address after ``LOGIN_ADDRESS_FAILURE_LIMIT`` failures on any accounts (an office shares
one NAT address, so its limit is higher), each for ``AXES_COOLOFF_TIME`` after the failure that tipped it.
Both the app's log-in page and the admin's go through ``authenticate``, where axes's backend refuses a
locked account or address even with the right password.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from axes.handlers.database import AxesDatabaseHandler
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _


@dataclass(frozen=True)
class Lock:
    by_account: bool  # else by address
    until: datetime

    def message(self) -> str:
        local = timezone.localtime(self.until)
        when = formats.date_format(local, "H:i")
        if local.date() != timezone.localdate():
            when = f"{when} {formats.date_format(local, 'd/m/Y')}"
        if self.by_account:
            return _(
                "Too many failed log-ins to this account: for its protection it is locked until %(time)s. "
                "Try again after that time; if you have forgotten the password, reset it by email meanwhile."
            ) % {"time": when}
        return _(
            "Too many failed log-ins from your network address: log-ins from it are paused until %(time)s. "
            "Try again after that time; if this keeps happening, tell your IT support."
        ) % {"time": when}


def _locked_until(attempts, *, limit: int, cool_off) -> datetime | None:
    """When the failures in ``attempts`` fall below ``limit`` again, or None if they are below it now.

    Each row keeps its count until ``cool_off`` after its latest failure; counting the newest rows first,
    the row that brings the sum to the limit is the one whose expiry lifts the lock.
    """
    total = 0
    for attempt_time, failures in attempts.order_by("-attempt_time").values_list(
        "attempt_time", "failures_since_start"
    ):
        total += failures
        if total >= limit:
            return attempt_time + cool_off
    return None


class LoginThrottle(AxesDatabaseHandler):
    def locks(self, request, credentials: dict | None = None) -> list[Lock]:
        """The locks that hold now for this request's account and address."""
        cool_off = get_cool_off(request)
        now = getattr(request, "axes_attempt_time", None) or timezone.now()
        recent = AccessAttempt.objects.filter(attempt_time__gte=now - cool_off)
        found = []
        username = get_client_username(request, credentials)
        if username:
            until = _locked_until(
                recent.filter(username=username), limit=settings.LOGIN_ACCOUNT_FAILURE_LIMIT, cool_off=cool_off
            )
            if until:
                found.append(Lock(by_account=True, until=until))
        address = getattr(request, "axes_ip_address", None)
        if address:
            until = _locked_until(
                recent.filter(ip_address=address), limit=settings.LOGIN_ADDRESS_FAILURE_LIMIT, cool_off=cool_off
            )
            if until:
                found.append(Lock(by_account=False, until=until))
        return found

    def get_failures(self, request, credentials: dict | None = None) -> int:
        """How many of the account and the address are over their own limit.

        Axes locks when this reaches ``AXES_FAILURE_LIMIT``, which the settings set to 1.
        """
        return len(self.locks(request, credentials))

    def user_logged_in(self, sender, request, user, **kwargs):
        """A successful log-in clears the account's failures, and only those: clearing the address's too
        (axes's AXES_RESET_ON_SUCCESS) would let anyone with an account reset the counter of the address
        they guess other accounts' passwords from."""
        super().user_logged_in(sender, request, user, **kwargs)
        AccessAttempt.objects.filter(username=user.get_username()).delete()


def lockout_response(request, original_response=None, credentials: dict | None = None):
    """The page shown instead of the log-in form's answer when a lock holds (``AXES_LOCKOUT_CALLABLE``)."""
    locks = AxesProxyHandler.get_implementation().locks(request, credentials)
    if not locks:  # the lock lifted between the check and this answer
        locks = [Lock(by_account=True, until=timezone.now() + get_cool_off(request))]
    lock = max(locks, key=lambda item: item.until)
    if request.path == reverse("api:token-create"):
        # An API client reads JSON, as the API's own 429s: the reason and when to retry.
        response = JsonResponse({"detail": lock.message(), "code": "throttled"}, status=429)
        response["Retry-After"] = str(max(1, math.ceil((lock.until - timezone.now()).total_seconds())))
        return response
    return render(
        request,
        "registration/login_locked.html",
        {"message": lock.message(), "until": lock.until},
        status=settings.AXES_HTTP_RESPONSE_CODE,
    )
