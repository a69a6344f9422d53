"""Process templates: their versions and steps.

Reading: everyone signed in reads the published versions. A template names rules, never people, and
the screens already show a case's whole route (its version's steps) to whoever may see the case; the
regulations the chains follow are public. Drafts are work in progress, not in force: only those who
edit templates in the admin see them.

Writing is the admin's, with the admin's own permission (staff with the right to change template
versions; a superuser) and the admin's code: a new draft is ``template_draft`` (the copy of the newest
published version, or the draft already open), a draft's steps are checked by the admin's step form
(``TemplateStepForm``), and publishing is ``template_publish``. Anyone else gets 403.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import Prefetch
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, generics, permissions, serializers, status
from rest_framework.response import Response

from processes.api.decisions import ConflictSerializer, RefusalSerializer
from processes.api.errors import Conflict
from workflow.admin import TemplateStepForm
from workflow.models import ProcessTemplate, TemplateStep, TemplateVersion
from workflow.models.templates import TemplateImmutable
from workflow.process_templates import STEP_FIELDS, TemplateError, template_draft, template_publish

#: The admin's permission to edit and publish template versions.
CHANGE_PERMISSION = "workflow.change_templateversion"


def edits_templates(user) -> bool:
    """Whom the admin lets edit and publish template versions: staff with the change permission."""
    return bool(user.is_active and user.is_staff and user.has_perm(CHANGE_PERMISSION))


class EditsTemplates(permissions.BasePermission):
    message = _("Only administrators edit and publish process templates.")

    def has_permission(self, request, view):
        return edits_templates(request.user)


def versions_visible_to(user):
    versions = TemplateVersion.objects.all()
    return versions if edits_templates(user) else versions.filter(status=TemplateVersion.Status.PUBLISHED)


class StepSerializer(serializers.ModelSerializer):
    class Meta:
        model = TemplateStep
        fields = ["id", *STEP_FIELDS]
        read_only_fields = ["id"]
        extra_kwargs = {"code": {"required": False, "allow_blank": True}}


class VersionSerializer(serializers.ModelSerializer):
    template = serializers.IntegerField(source="template_id", read_only=True)

    class Meta:
        model = TemplateVersion
        fields = ["id", "template", "number", "status", "effective_from", "published_at", "note"]


class VersionDetailSerializer(VersionSerializer):
    steps = StepSerializer(many=True, read_only=True)

    class Meta(VersionSerializer.Meta):
        fields = [*VersionSerializer.Meta.fields, "steps"]


class TemplateSerializer(serializers.ModelSerializer):
    versions = VersionSerializer(many=True, read_only=True, source="shown_versions")

    class Meta:
        model = ProcessTemplate
        fields = ["id", "code", "name", "versions"]


def templates_with_versions(user):
    shown = versions_visible_to(user).order_by("-number")
    return ProcessTemplate.objects.prefetch_related(Prefetch("versions", queryset=shown, to_attr="shown_versions"))


class TemplateListView(generics.ListAPIView):
    """Process templates with their versions (drafts only for those who edit templates)."""

    serializer_class = TemplateSerializer

    def get_queryset(self):
        return templates_with_versions(self.request.user)


class TemplateDetailView(generics.RetrieveAPIView):
    serializer_class = TemplateSerializer

    def get_queryset(self):
        return templates_with_versions(self.request.user)


def _version(pk, *, shown_to) -> TemplateVersion:
    version = versions_visible_to(shown_to).select_related("template").filter(pk=pk).first()
    if version is None:
        raise Http404
    return version


def _detail(version: TemplateVersion) -> dict:
    version = TemplateVersion.objects.prefetch_related(
        Prefetch("steps", queryset=TemplateStep.objects.order_by("position"))
    ).get(pk=version.pk)
    return VersionDetailSerializer(version).data


class VersionDetailView(generics.GenericAPIView):
    """A template version and its steps, in order."""

    serializer_class = VersionDetailSerializer

    @extend_schema(responses={200: VersionDetailSerializer, 404: RefusalSerializer})
    def get(self, request, pk):
        return Response(_detail(_version(pk, shown_to=request.user)))


class DraftView(generics.GenericAPIView):
    """Administrators: the template's draft, made as a copy of its newest published version (or the
    draft already open, returned as it is)."""

    permission_classes = [permissions.IsAuthenticated, EditsTemplates]
    serializer_class = VersionDetailSerializer

    @extend_schema(
        request=None, responses={201: VersionDetailSerializer, 403: RefusalSerializer, 404: RefusalSerializer}
    )
    def post(self, request, pk):
        template = ProcessTemplate.objects.filter(pk=pk).first()
        if template is None:
            raise Http404
        return Response(_detail(template_draft(template=template, by=request.user)), status=status.HTTP_201_CREATED)


class StepsSerializer(serializers.Serializer):
    steps = StepSerializer(many=True, allow_empty=False, max_length=100)


class DraftStepsView(generics.GenericAPIView):
    """Administrators: replace a draft's steps (each checked as the admin's step form checks it). A
    published version never changes: 409."""

    permission_classes = [permissions.IsAuthenticated, EditsTemplates]
    serializer_class = StepsSerializer

    @extend_schema(
        request=StepsSerializer,
        responses={
            200: VersionDetailSerializer,
            400: RefusalSerializer,
            403: RefusalSerializer,
            404: RefusalSerializer,
            409: ConflictSerializer,
        },
    )
    def put(self, request, pk):
        version = _version(pk, shown_to=request.user)
        payload = self.get_serializer(data=request.data)
        payload.is_valid(raise_exception=True)
        problems = {}
        try:
            with transaction.atomic():
                TemplateVersion.objects.select_for_update().filter(pk=version.pk).first()
                version.steps.all().delete()
                for index, step in enumerate(payload.initial_data["steps"]):
                    form = TemplateStepForm(data=step, instance=TemplateStep(version=version))
                    if not form.is_valid():
                        problems[str(index)] = {name: [str(m) for m in found] for name, found in form.errors.items()}
                        continue
                    form.save()
                if problems:
                    raise _Undo
        except TemplateImmutable:
            raise Conflict(_("A published version never changes; make a new draft.")) from None
        except IntegrityError:
            raise exceptions.ValidationError(
                {"steps": [_("Two steps share a position or a code.")]}, code="invalid"
            ) from None
        except _Undo:
            raise exceptions.ValidationError({"steps": problems}) from None
        return Response(_detail(version))


class _Undo(Exception):
    """Rolls back a draft's steps when one of them is refused."""


class PublishSerializer(serializers.Serializer):
    effective_from = serializers.DateField(
        required=False, help_text=_("The date new cases use it from; the draft's own date when left out.")
    )
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class PublishView(generics.GenericAPIView):
    """Administrators: publish a draft (as the admin's publish action). A running case keeps its version."""

    permission_classes = [permissions.IsAuthenticated, EditsTemplates]
    serializer_class = PublishSerializer

    @extend_schema(
        request=PublishSerializer,
        responses={
            200: VersionDetailSerializer,
            400: RefusalSerializer,
            403: RefusalSerializer,
            404: RefusalSerializer,
        },
    )
    def post(self, request, pk):
        version = _version(pk, shown_to=request.user)
        payload = self.get_serializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        effective_from = data.get("effective_from") or version.effective_from
        if effective_from is None:
            raise exceptions.ValidationError(
                {"effective_from": [_("Give the date from which the version applies.")]}, code="required"
            )
        try:
            published = template_publish(
                version=version, by=request.user, effective_from=effective_from, note=data["note"]
            )
        except TemplateError as error:
            raise exceptions.ValidationError({"detail": str(error)}, code="refused") from error
        return Response(_detail(published))
