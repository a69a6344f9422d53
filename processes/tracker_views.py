"""The case tracker (``/cases/``): filters, search, orders and pages; its Excel export."""

from io import BytesIO

from django.contrib import messages
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from processes import export
from processes.filters import TrackerFilter
from processes.forms import errors_text, keyset_cursor
from processes.models import ExportJob
from processes.permissions import may_see_id_numbers, user_scope
from processes.selectors import tracker_page

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _tracker_filter(request):
    """The FilterSet of this request, validated; the query string without the cursor and without
    what was refused (for the links that carry the filters on)."""
    scope = user_scope(request.user)
    filterset = TrackerFilter(request.GET, user=request.user, scope=scope)
    valid = filterset.is_valid()
    query = request.GET.copy()
    query.pop("cursor", None)
    if not valid:
        for name in filterset.form.errors:
            for key in [key for key in query if key == name or key.startswith(f"{name}_")]:
                query.pop(key, None)
    return filterset, valid, query


@require_GET
def tracker(request):
    filterset, valid, query = _tracker_filter(request)
    if not valid:
        # Say what was refused; the list shows what the valid filters select.
        messages.error(request, errors_text(filterset.form))
    page = tracker_page(filterset.qs, sort=filterset.sort, after=filterset.after)
    return render(
        request,
        "processes/tracker.html",
        {
            "filter": filterset,
            "page": page,
            "next_cursor": keyset_cursor(*page.next_after) if page.next_after else None,
            "base_query": query.urlencode(),
            "now": timezone.now(),
            "can_propose": filterset.scope.may_propose,
            "reveal_ids": may_see_id_numbers(request.user, scope=filterset.scope),
        },
        status=200 if valid else 400,
    )


@require_POST
def tracker_export(request):
    """The filtered list as .xlsx: written now when small, else by a worker (progress page)."""
    filterset, valid, query = _tracker_filter(request)
    if not valid:
        messages.error(request, errors_text(filterset.form))
        return redirect(f"{reverse('processes:nomination-list')}?{query.urlencode()}")
    query.pop("sort", None)
    total = filterset.qs.count()
    if total > export.stream_max_rows():
        job = export.export_job_start(user=request.user, query=query.urlencode(), total=total)
        return redirect("processes:export-progress", pk=job.pk)
    out = BytesIO()
    export.write_workbook(out, filterset, user=request.user)
    response = HttpResponse(out.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{export.download_name()}"'
    return response


def _own_job_or_404(request, pk) -> ExportJob:
    # Another user's export does not exist for this one.
    return get_object_or_404(ExportJob, pk=pk, user=request.user)


@require_GET
def export_progress(request, pk):
    job = _own_job_or_404(request, pk)
    response = render(
        request, "processes/export_progress.html", {"job": job, "back": reverse("processes:nomination-list")}
    )
    if job.status in (ExportJob.Status.PENDING, ExportJob.Status.RUNNING):
        response["Refresh"] = "2"  # polled without a script (the CSP allows none inline)
    return response


@require_GET
def export_download(request, pk):
    job = _own_job_or_404(request, pk)
    path = export.export_file(job)
    if job.status != ExportJob.Status.DONE or not path.is_file():
        raise Http404(_("This export is not ready."))
    return FileResponse(path.open("rb"), as_attachment=True, filename=export.download_name(), content_type=XLSX)
