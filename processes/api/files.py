"""A case's dossier files: the list, an upload, a download. The same checks as the case page's
(``processes.dossier_views``): uploads through ``services.dossier_upload`` (the edit right, the type
read from the content, the size limit: 413), downloads for whoever ``can_open_file``, each logged."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from processes.api.errors import domain_refusal
from processes.api.nominations import PersonSerializer, scope_of
from processes.dossier_views import _serve, _SizeLimit, _visible_file_or_404
from processes.file_checks import size_limit_error
from processes.models import DocumentType, DossierFile
from processes.permissions import nominations_visible_to
from processes.services import dossier_upload


class DocumentTypeSerializer(serializers.ModelSerializer):
    class Meta:
        model = DocumentType
        fields = ["id", "code", "name"]


class DossierFileSerializer(serializers.ModelSerializer):
    document_type = DocumentTypeSerializer()
    uploaded_by = PersonSerializer()
    download = serializers.SerializerMethodField(help_text=_("Where the file is downloaded."))

    class Meta:
        model = DossierFile
        fields = [
            "id",
            "nomination",
            "document_type",
            "original_name",
            "content_type",
            "size",
            "sha256",
            "uploaded_by",
            "uploaded_at",
            "download",
        ]
        read_only_fields = fields

    def get_download(self, dossier_file) -> str:
        return reverse("api:file-download", args=[dossier_file.pk], request=self.context.get("request"))


class DossierUploadSerializer(serializers.Serializer):
    # In this order: a client sends the fields so, and the size limit stops reading at the file.
    document_type = serializers.PrimaryKeyRelatedField(queryset=DocumentType.objects.all())
    file = serializers.FileField(help_text=_("PDF, an image or an office document, up to the upload limit."))


class NominationFilesView(generics.ListCreateAPIView):
    """The files of a case's dossier now (removed and replaced ones are left out), oldest first."""

    serializer_class = DossierFileSerializer
    ordering = "pk"

    parser_classes = [MultiPartParser]

    def nomination(self):
        visible = nominations_visible_to(self.request.user, scope=scope_of(self.request))
        return generics.get_object_or_404(visible.select_related("award_form", "nominee"), pk=self.kwargs["pk"])

    def get_queryset(self):
        return (
            DossierFile.objects.kept()
            .filter(nomination=self.nomination())
            .select_related("document_type", "uploaded_by")
        )

    @extend_schema(summary="The files of a case's dossier", responses={200: DossierFileSerializer, 404: None})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Add a file to a case's dossier (while the case is editable)",
        request={"multipart/form-data": DossierUploadSerializer},
        responses={
            201: DossierFileSerializer,
            400: OpenApiResponse(description="A field missing or a file of a type not accepted."),
            403: OpenApiResponse(description="The case's files cannot be changed by you at its stage."),
            404: OpenApiResponse(description="No such case, or not one you may see."),
            413: OpenApiResponse(description="The file is larger than the upload limit."),
        },
    )
    def post(self, request, *args, **kwargs):
        # Before anything reads the body: an oversized file is never spooled whole.
        limit = _SizeLimit(request, settings.DOSSIER_MAX_UPLOAD_BYTES)
        request.upload_handlers.insert(0, limit)
        nomination = self.nomination()
        incoming = DossierUploadSerializer(data=request.data)
        if limit.exceeded:
            raise domain_refusal(size_limit_error())
        incoming.is_valid(raise_exception=True)
        dossier_file = dossier_upload(
            nomination=nomination,
            by=request.user,
            document_type=incoming.validated_data["document_type"],
            upload=incoming.validated_data["file"],
        )
        return Response(self.get_serializer(dossier_file).data, status=status.HTTP_201_CREATED)


class FileDownloadView(APIView):
    """The file itself, with its content type, as an attachment; the download is logged."""

    @extend_schema(
        summary="Download a dossier file",
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY, 404: None},
    )
    def get(self, request, pk):
        # The screen's download: the same permission (``can_open_file``) and the same log entry.
        response = _serve(request._request, _visible_file_or_404(request._request, pk), inline=False)
        response["Cache-Control"] = "no-store"
        return response
