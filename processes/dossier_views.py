"""Upload, download, preview, replacement and removal of dossier files. The checks live in processes.services.dossiers,
processes.file_checks and processes.permissions."""

from __future__ import annotations

from csp.decorators import csp_replace
from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_POST

from processes import errors
from processes.forms import errors_text
from processes.models import DocumentType, DossierFile
from processes.network import client_address
from processes.permissions import can_open_file
from processes.services import dossiers
from processes.views import PREVIEWABLE_TYPES, visible_nomination_or_404


class DossierUploadForm(forms.Form):
    # The order matters: a browser sends fields in this order, and the size limit below stops
    # reading the request at the file, so nothing after it would arrive.
    document_type = forms.ModelChoiceField(label=_("Document type"), queryset=DocumentType.objects.all())
    file = forms.FileField(label=_("File"))


class _SizeLimit(FileUploadHandler):
    """Stops reading a file once it passes the limit, so an oversized upload is never spooled whole."""

    exceeded = False

    def __init__(self, request, limit: int):
        super().__init__(request)
        self.limit = limit

    def receive_data_chunk(self, raw_data, start):
        if start + len(raw_data) > self.limit:
            self.exceeded = True
            # Read and discard the rest, so the browser gets our answer rather than a reset.
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size):
        return None  # the next handler builds the file


# CSRF middleware would parse the body before the view could add the size limit: exempt here,
# checked by csrf_protect on _upload once the limit is in place (the pattern Django documents).
@csrf_exempt
@require_POST
def dossier_upload(request, pk):
    limit = _SizeLimit(request, settings.DOSSIER_MAX_UPLOAD_BYTES)
    request.upload_handlers.insert(0, limit)
    return _upload(request, pk, limit=limit)


@csrf_protect
def _upload(request, pk, *, limit: _SizeLimit):
    nomination = visible_nomination_or_404(request.user, pk)
    back = redirect("processes:nomination-detail", pk=nomination.pk)
    form = DossierUploadForm(request.POST, request.FILES)
    if limit.exceeded:
        messages.error(request, str(dossiers.size_limit_error()))
        return back
    if not form.is_valid():
        for name, problems in form.errors.items():
            messages.error(request, f"{form.fields[name].label}: {' '.join(problems)}")
        return back
    try:
        dossier_file = dossiers.dossier_upload(
            nomination=nomination,
            by=request.user,
            document_type=form.cleaned_data["document_type"],
            upload=form.cleaned_data["file"],
        )
    except (errors.UploadRejected, errors.PermissionDenied) as error:
        messages.error(request, str(error))
        return back
    messages.success(request, _("“%(name)s” has been added to the dossier.") % {"name": dossier_file.original_name})
    return back


def _visible_file_or_404(request, pk) -> DossierFile:
    """The file ``pk``, for whoever may open it (``permissions.can_open_file``): download and preview
    ask the same."""
    dossier_file = get_object_or_404(
        DossierFile.objects.select_related("nomination__award_form", "nomination__nominee"), pk=pk
    )
    if not can_open_file(request.user, dossier_file):
        raise Http404
    return dossier_file


def _serve(request, dossier_file: DossierFile, *, inline: bool) -> FileResponse:
    handle = dossier_file.file.storage.open(dossier_file.file.name, "rb")
    try:
        dossiers.dossier_download_log(dossier_file=dossier_file, by=request.user, ip_address=client_address(request))
    except BaseException:
        handle.close()
        raise
    response = FileResponse(
        handle, as_attachment=not inline, filename=dossier_file.original_name, content_type=dossier_file.content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@never_cache
@require_GET
def dossier_download(request, pk):
    return _serve(request, _visible_file_or_404(request, pk), inline=False)


# The case page shows a PDF in a frame of its own origin: this response alone may be framed (by the
# site itself), where every other page refuses any frame.
@never_cache
@xframe_options_sameorigin
@csp_replace({"frame-ancestors": ["'self'"]})
@require_GET
def dossier_preview(request, pk):
    """The file shown in the browser (``Content-Disposition: inline``): PDFs and images only."""
    dossier_file = _visible_file_or_404(request, pk)
    if dossier_file.content_type not in PREVIEWABLE_TYPES:
        raise Http404
    return _serve(request, dossier_file, inline=True)


class DossierRemoveForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=1000, required=False)


class DossierReplaceForm(forms.Form):
    file = forms.FileField(label=_("New file"))


def _kept_file_or_404(request, pk) -> DossierFile:
    dossier_file = _visible_file_or_404(request, pk)
    if dossier_file.removed_at is not None:
        raise Http404
    return dossier_file


@require_POST
def dossier_remove(request, pk):
    dossier_file = _kept_file_or_404(request, pk)
    back = redirect("processes:nomination-detail", pk=dossier_file.nomination_id)
    form = DossierRemoveForm(request.POST)
    if not form.is_valid():
        messages.error(request, errors_text(form))
        return back
    try:
        dossiers.dossier_remove(dossier_file=dossier_file, by=request.user, reason=form.cleaned_data["reason"])
    except errors.PermissionDenied as error:
        messages.error(request, str(error))
        return back
    messages.success(request, _("“%(name)s” has been removed from the dossier.") % {"name": dossier_file.original_name})
    return back


@csrf_exempt
@require_POST
def dossier_replace(request, pk):
    limit = _SizeLimit(request, settings.DOSSIER_MAX_UPLOAD_BYTES)
    request.upload_handlers.insert(0, limit)
    return _replace(request, pk, limit=limit)


@csrf_protect
def _replace(request, pk, *, limit: _SizeLimit):
    dossier_file = _kept_file_or_404(request, pk)
    back = redirect("processes:nomination-detail", pk=dossier_file.nomination_id)
    form = DossierReplaceForm(request.POST, request.FILES)
    if limit.exceeded:
        messages.error(request, str(dossiers.size_limit_error()))
        return back
    if not form.is_valid():
        messages.error(request, errors_text(form))
        return back
    try:
        new = dossiers.dossier_replace(dossier_file=dossier_file, by=request.user, upload=form.cleaned_data["file"])
    except (errors.UploadRejected, errors.PermissionDenied) as error:
        messages.error(request, str(error))
        return back
    messages.success(
        request,
        _("“%(old)s” has been replaced by “%(new)s”.") % {"old": dossier_file.original_name, "new": new.original_name},
    )
    return back
