"""The dashboard: figures leaders read at a glance, scoped to what each may count."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.views.decorators.http import require_GET

from processes.context_processors import remember_scope
from processes.dashboard_forms import DashboardForm
from processes.permissions import dashboard_nominations, may_see_dashboard, may_see_statistics, user_scope
from processes.selectors.dashboard import dashboard, filtered


@require_GET
def dashboard_view(request):
    scope = user_scope(request.user)
    if not may_see_dashboard(request.user, scope=scope):
        raise PermissionDenied
    remember_scope(request, scope)
    form = DashboardForm(request.GET, scope=scope)
    valid = form.is_valid()
    data = form.cleaned_data  # the valid filters apply; a refused one is named above the figures
    unit = data.get("unit")
    nominations = filtered(
        dashboard_nominations(request.user, scope=scope),
        campaign=data.get("campaign"),
        year=data.get("year"),
        units=scope.tree.descendants(unit.pk) if unit is not None else None,
    )
    return render(
        request,
        "processes/dashboard.html",
        {
            "form": form,
            "figures": dashboard(nominations),
            "may_see_statistics": may_see_statistics(request.user, scope=scope),
        },
        status=200 if valid else 400,
    )
