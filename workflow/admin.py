"""The audit log in the admin: for reading only, whoever asks. The calendar overrides: edited here.

Entries are written by ``workflow.audit.audit_append`` and nowhere else; the admin must not become
a second way to add, edit or delete them, not even for a superuser (whose ``has_perm`` is always
True, so the permission methods below return False instead of asking it).
"""

from django import forms
from django.contrib import admin, messages
from django.http import Http404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from workflow.diagram import bpmn_response
from workflow.models import (
    ApprovalProcess,
    ApprovalTask,
    AuditChain,
    AuditEntry,
    CalendarOverride,
    ProcessTemplate,
    StepAction,
    TemplateStep,
    TemplateVersion,
    VoteItem,
    VoteSession,
)
from workflow.process_templates import (
    STEP_FIELDS,
    NoVersionInForce,
    TemplateError,
    template_draft,
    template_publish,
    template_version_for,
)


class IntegerKeyAdminMixin:
    """A key in the change URL that no 64-bit id can match is no object (the admin then says it does
    not exist): a key inherited from viewflow's Process is a one-to-one link, whose lookup has no
    overflow guard, and SQLite raised OverflowError on it."""

    def get_object(self, request, object_id, from_field=None):
        if from_field is None and not (object_id.isascii() and object_id.isdigit() and len(object_id) <= 18):
            return None
        return super().get_object(request, object_id, from_field)


class ReadOnlyAdminMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class AuditEntryInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = AuditEntry
    fields = ("seq", "action", "actor", "from_state", "to_state", "comment", "created_at")
    ordering = ("seq",)
    extra = 0
    show_change_link = True

    def get_queryset(self, request):
        # Each row prints its entry, whose name includes the chain and its subject type.
        return super().get_queryset(request).select_related("actor", "chain__content_type")


@admin.register(AuditChain)
class AuditChainAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("__str__", "content_type", "object_id", "last_seq")
    list_filter = ("content_type",)
    list_select_related = ("content_type",)
    search_fields = ("=object_id",)
    fields = ("content_type", "object_id", "last_seq", "last_hash")
    inlines = (AuditEntryInline,)
    show_full_result_count = False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("chain", "seq", "action", "actor", "from_state", "to_state", "created_at")
    list_display_links = ("chain", "seq")
    list_filter = ("action",)
    list_select_related = ("chain__content_type", "actor")
    search_fields = ("action", "comment")
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-pk")
    fields = (
        "chain",
        "seq",
        "action",
        "actor",
        "from_state",
        "to_state",
        "comment",
        "data",
        "created_at",
        "prev_hash",
        "hash",
    )
    # Counting a large log on every page is the slow part of the changelist; the paginator's
    # count for the filtered page is enough.
    show_full_result_count = False


@admin.register(CalendarOverride)
class CalendarOverrideAdmin(admin.ModelAdmin):
    """Local days off and extra working days. ``workflow.calendar`` drops its cache on every save
    and delete: the change counts at once in this process, in the others (worker, beat) within
    ``WORKING_CALENDAR_CACHE_SECONDS``."""

    list_display = ("date", "weekday", "kind", "reason")
    list_filter = ("kind",)
    search_fields = ("reason",)
    date_hierarchy = "date"
    ordering = ("-date",)
    fields = ("date", "kind", "reason")

    @admin.display(description=_("day of the week"), ordering="date")
    def weekday(self, obj):
        # An extra working day is usually a Saturday or Sunday: the weekday shows a mistyped date.
        return date_format(obj.date, "l")


# --- process templates ------------------------------------------------------------------------


class TemplateStepForm(forms.ModelForm):
    actions = forms.MultipleChoiceField(
        label=_("allowed actions"), choices=StepAction.choices, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = TemplateStep
        fields = STEP_FIELDS

    def clean_actions(self):
        # Stored in a fixed order, whatever order the boxes were ticked in.
        chosen = set(self.cleaned_data["actions"])
        return [action for action in StepAction.values if action in chosen]


def _is_published(version) -> bool:
    return version is not None and version.status == TemplateVersion.Status.PUBLISHED


class TemplateStepInline(admin.TabularInline):
    """Editable while the version is a draft; a published version's steps are shown, never changed."""

    model = TemplateStep
    form = TemplateStepForm
    extra = 0
    ordering = ("position",)

    def has_add_permission(self, request, obj=None):
        return obj is not None and not _is_published(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return not _is_published(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not _is_published(obj) and super().has_delete_permission(request, obj)


class TemplateVersionInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = TemplateVersion
    fields = ("number", "status", "effective_from", "published_at", "published_by", "note")
    ordering = ("-number",)
    extra = 0
    show_change_link = True


def _draft_message(modeladmin, request, drafts):
    for draft in drafts:
        url = reverse("admin:workflow_templateversion_change", args=[draft.pk])
        modeladmin.message_user(
            request,
            format_html(
                _('Draft {number} of “{template}” is ready to edit: <a href="{url}">open it</a>.'),
                number=draft.number,
                template=draft.template,
                url=url,
            ),
            messages.SUCCESS,
        )


@admin.register(ProcessTemplate)
class ProcessTemplateAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "version_in_force")
    search_fields = ("code", "name")
    fields = ("code", "name")
    inlines = (TemplateVersionInline,)
    actions = ("new_draft",)

    def get_readonly_fields(self, request, obj=None):
        # Cases and chain assignments name a template by its code; it stays once made.
        return ("code",) if obj is not None else ()

    @admin.display(description=_("version in force today"))
    def version_in_force(self, obj):
        try:
            return template_version_for(template=obj, on=timezone.localdate()).number
        except NoVersionInForce:
            return "—"

    @admin.action(description=_("Make a new draft (a copy of the newest published version)"), permissions=["change"])
    def new_draft(self, request, queryset):
        _draft_message(self, request, [template_draft(template=template, by=request.user) for template in queryset])


@admin.register(TemplateVersion)
class TemplateVersionAdmin(admin.ModelAdmin):
    """A version is made by the “new draft” action and frozen by “publish”; until then its steps
    and its effective date are edited here. Publishing takes the effective date from the draft."""

    list_display = ("template", "number", "status", "effective_from", "published_at", "published_by")
    list_filter = ("status", "template")
    list_select_related = ("template", "published_by")
    fields = ("template", "number", "status", "effective_from", "note", "published_at", "published_by", "bpmn")
    readonly_fields = ("template", "number", "status", "published_at", "published_by", "bpmn")
    inlines = (TemplateStepInline,)
    actions = ("publish", "new_draft")

    def get_urls(self):
        return [
            path(
                "<path:object_id>/bpmn/",
                self.admin_site.admin_view(self.bpmn_view),
                name="workflow_templateversion_bpmn",
            ),
            *super().get_urls(),
        ]

    def bpmn_view(self, request, object_id):
        """The version as BPMN 2.0 XML, for whoever may see it here."""
        version = self.get_object(request, object_id) if object_id.isascii() and object_id.isdigit() else None
        if version is None or not self.has_view_permission(request, version):
            raise Http404
        return bpmn_response(version)

    @admin.display(description=_("for other tools"))
    def bpmn(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        return format_html(
            '<a href="{}" download>{}</a>',
            reverse("admin:workflow_templateversion_bpmn", args=[obj.pk]),
            _("Download as BPMN 2.0 (XML)"),
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return not _is_published(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not _is_published(obj) and super().has_delete_permission(request, obj)

    def get_actions(self, request):
        # The bulk delete would reach published versions, which refuse it with an error page.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.action(description=_("Publish (from each draft's effective date)"), permissions=["change"])
    def publish(self, request, queryset):
        for version in queryset.select_related("template").order_by("template_id", "number"):
            if version.effective_from is None:
                self.message_user(
                    request,
                    _("%(version)s: enter the date it applies from (effective from), then publish.")
                    % {"version": version},
                    messages.ERROR,
                )
                continue
            try:
                published = template_publish(version=version, by=request.user, effective_from=version.effective_from)
            except TemplateError as exc:
                self.message_user(request, f"{version}: {exc.message}", messages.ERROR)
            else:
                self.message_user(
                    request,
                    _("%(version)s is published; new cases from %(date)s use it.")
                    % {"version": published, "date": published.effective_from.isoformat()},
                    messages.SUCCESS,
                )

    @admin.action(description=_("Make a new draft of these templates"), permissions=["change"])
    def new_draft(self, request, queryset):
        templates = ProcessTemplate.objects.filter(pk__in=queryset.values("template_id")).order_by("code")
        _draft_message(self, request, [template_draft(template=template, by=request.user) for template in templates])


# --- running approvals and council sessions: records, read-only ----------------------------------


class ApprovalTaskInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ApprovalTask
    fk_name = "process"
    fields = (
        "step",
        "unit_label",
        "assignee",
        "on_behalf_of",
        "opened_at",
        "due_at",
        "closed_at",
        "action",
        "decided_by",
    )
    readonly_fields = fields
    ordering = ("opened_at", "pk")


@admin.register(ApprovalProcess)
class ApprovalProcessAdmin(IntegerKeyAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Where each case stands in its chain; decisions are taken on the case's page, never here."""

    list_display = ("pk", "version", "subject_id", "structure_on", "position", "status", "created")
    list_filter = ("status", "version__template")
    list_select_related = ("version__template",)
    search_fields = ("=subject_id",)
    fields = ("version", "subject_type", "subject_id", "structure_on", "position", "last_action", "status")
    readonly_fields = fields
    inlines = [ApprovalTaskInline]


class VoteItemInline(ReadOnlyAdminMixin, admin.TabularInline):
    """The agenda with each case's rules and, once the session closed, its tally (never a ballot)."""

    model = VoteItem
    fields = (
        "subject_label",
        "eligible_count",
        "quorum_percent",
        "threshold_percent",
        "threshold_of",
        "yes",
        "no",
        "abstain",
        "outcome",
    )
    readonly_fields = fields


@admin.register(VoteSession)
class VoteSessionAdmin(IntegerKeyAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("title", "council_label", "opened_at", "closes_at", "closed_at", "member_count")
    list_filter = ("closed_at",)
    list_select_related = ("opened_by",)
    fields = ("title", "council_label", "opened_by", "opened_at", "closes_at", "closed_at", "member_count")
    readonly_fields = fields
    inlines = [VoteItemInline]
