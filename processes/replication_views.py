"""The replicate stage on the case page: set the plan, record an activity with its evidence, close with a
reason, download an evidence file. The rules live in processes.services.replication and
processes.permissions; a refused input shows the case again with what was typed and why."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_POST

from processes import errors
from processes.dossier_views import _SizeLimit
from processes.file_checks import size_limit_error
from processes.models import ActivityEvidence, Stage
from processes.permissions import can_view, user_scope
from processes.replication_forms import ActivityForm, CloseForm, PlanForm, replication_panel
from processes.services import activity_record, nomination_close, replication_plan_set
from processes.views import _render_detail, visible_nomination_or_404
from workflow.errors import WorkflowError


def _again(request, nomination, scope, *, message, status, **forms):
    """The case page again, with the refused form bound (what was typed kept) and the reason."""
    messages.error(request, message)
    nomination.refresh_from_db()
    panel = replication_panel(request.user, nomination, scope, **forms)
    return _render_detail(request, nomination, scope, replication=panel, status=status)


def _done(request, nomination, message):
    nomination.refresh_from_db()
    messages.success(request, message)
    if nomination.stage == Stage.CLOSED:
        messages.success(request, _("The replication plan is met: the case is closed."))
    return redirect("processes:nomination-detail", pk=nomination.pk)


# CSRF middleware would parse the body before the view could add the size limit: exempt here, checked
# by csrf_protect on _record once the limit is in place (as the dossier upload does).
@csrf_exempt
@require_POST
def activity_new(request, pk):
    limit = _SizeLimit(request, settings.DOSSIER_MAX_UPLOAD_BYTES)
    request.upload_handlers.insert(0, limit)
    return _record(request, pk, limit=limit)


@csrf_protect
def _record(request, pk, *, limit: _SizeLimit):
    scope = user_scope(request.user)
    nomination = visible_nomination_or_404(request.user, pk, scope=scope)
    form = ActivityForm(request.POST, request.FILES, nomination=nomination)
    if limit.exceeded:
        return _again(request, nomination, scope, message=str(size_limit_error()), status=400, activity_form=form)
    if not form.is_valid():
        message = _("Check the activity's fields.")
        return _again(request, nomination, scope, message=message, status=400, activity_form=form)
    data = form.cleaned_data
    try:
        activity = activity_record(
            nomination=nomination,
            by=request.user,
            kind=data["kind"],
            held_on=data["held_on"],
            title=data["title"],
            description=data["description"],
            adopting_unit=data["adopting_unit"],
            evidence=data["evidence"],
        )
    except WorkflowError as error:
        status = 403 if isinstance(error, errors.PermissionDenied) else 409
        return _again(request, nomination, scope, message=str(error), status=status, activity_form=form)
    return _done(request, nomination, _("“%(title)s” has been recorded.") % {"title": activity.title})


@require_POST
def plan_set(request, pk):
    scope = user_scope(request.user)
    nomination = visible_nomination_or_404(request.user, pk, scope=scope)
    form = PlanForm(request.POST)
    if not form.is_valid():
        return _again(request, nomination, scope, message=_("Check the plan's fields."), status=400, plan_form=form)
    try:
        replication_plan_set(nomination=nomination, by=request.user, **form.cleaned_data)
    except WorkflowError as error:
        status = 403 if isinstance(error, errors.PermissionDenied) else 409
        return _again(request, nomination, scope, message=str(error), status=status, plan_form=form)
    return _done(request, nomination, _("The replication plan has been saved."))


@require_POST
def replication_close(request, pk):
    scope = user_scope(request.user)
    nomination = visible_nomination_or_404(request.user, pk, scope=scope)
    form = CloseForm(request.POST)
    if not form.is_valid():
        message = _("Give the reason for closing.")
        return _again(request, nomination, scope, message=message, status=400, close_form=form)
    data = form.cleaned_data
    try:
        nomination_close(
            nomination=nomination,
            by=request.user,
            reason=data["reason"],
            expected_version=data["expected_version"] if data["expected_version"] is not None else 0,
        )
    except WorkflowError as error:
        status = 403 if isinstance(error, errors.PermissionDenied) else 409
        return _again(request, nomination, scope, message=str(error), status=status, close_form=form)
    messages.success(request, _("The case is closed."))
    return redirect("processes:nomination-detail", pk=nomination.pk)


@never_cache
@require_GET
def evidence_download(request, pk):
    """An evidence file, for whoever may see its case; any other id is not found."""
    evidence = get_object_or_404(
        ActivityEvidence.objects.select_related(
            "activity__nomination__award_form", "activity__nomination__nominee", "activity__nomination__unit"
        ),
        pk=pk,
    )
    if not can_view(request.user, evidence.activity.nomination):
        raise Http404
    handle = evidence.file.storage.open(evidence.file.name, "rb")
    response = FileResponse(
        handle, as_attachment=True, filename=evidence.original_name, content_type=evidence.content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
