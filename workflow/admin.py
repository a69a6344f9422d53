"""The audit log in the admin: for reading only, whoever asks. The calendar overrides: edited here.
Process templates: drafted, edited from lists, compared with the published version and published
after a confirmation (the domain's admin, ``processes.admin.templates``, adds its vocabularies).

Entries are written by ``workflow.audit.audit_append`` and nowhere else; the admin must not become
a second way to add, edit or delete them, not even for a superuser (whose ``has_perm`` is always
True, so the permission methods below return False instead of asking it).
"""

import re
import unicodedata
from dataclasses import dataclass

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from workflow.bpmn import bpmn_response
from workflow.diagram import template_svg
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
from workflow.template_diff import StepChange, step_changes


class PublishConfirmation(forms.Form):
    """The publish action's second step: the administrator has seen the diff and said yes."""

    confirmed = forms.BooleanField(required=False)

    def given(self) -> bool:
        return self.is_valid() and self.cleaned_data["confirmed"]


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


class DayListField(forms.Field):
    """Whole numbers of working days typed as "2, 1", kept as the list ``[2, 1]`` (largest first)."""

    widget = forms.TextInput
    default_error_messages = {
        "invalid": _("Type whole numbers of working days separated by commas, for example “2, 1”."),
    }

    def prepare_value(self, value):
        if isinstance(value, list | tuple):
            return ", ".join(str(day) for day in value)
        return value

    def to_python(self, value):
        if isinstance(value, list):
            return value
        parts = [part for part in re.split(r"[,;\s]+", (value or "").strip()) if part]
        # ASCII digits only: "²".isdigit() is true, and int() refuses it.
        if not all(re.fullmatch(r"[0-9]{1,3}", part) for part in parts):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return sorted({int(part) for part in parts}, reverse=True)


def code_from_name(name: str) -> str:
    """A step code made from its Vietnamese name: "Thẩm định hồ sơ" → ``tham_dinh_ho_so``."""
    text = name.replace("đ", "d").replace("Đ", "D")
    text = "".join(char for char in unicodedata.normalize("NFKD", text) if not unicodedata.combining(char))
    return slugify(text).replace("-", "_")[:40].strip("_") or "step"


class TemplateStepForm(forms.ModelForm):
    """A step picked from lists: the rules, the kind and the escalation are choices with their
    labels, the actions are boxes to tick, reminders are day numbers, the code is made from the name."""

    actions = forms.MultipleChoiceField(
        label=_("allowed actions"),
        choices=[(value, label) for value, label in StepAction.choices if value != StepAction.SEND_BACK],
        widget=forms.CheckboxSelectMultiple,
    )
    reminder_offsets = DayListField(
        label=_("reminders (working days before the deadline)"),
        required=False,
        help_text=_("Day numbers separated by commas, e.g. “2, 1”: a reminder 2 and 1 working days before."),
    )

    class Meta:
        model = TemplateStep
        fields = STEP_FIELDS
        labels = {"code": _("step code")}
        help_texts = {"code": _("Left blank, it is made from the name. Versions compare steps by their code.")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].required = False
        self.fields["deadline_working_days"].widget.attrs["min"] = 1

    def clean_actions(self):
        # Stored in a fixed order, whatever order the boxes were ticked in.
        chosen = set(self.cleaned_data["actions"])
        return [action for action in StepAction.values if action in chosen]

    def clean(self):
        data = super().clean()
        if not data.get("code") and data.get("name"):
            data["code"] = self.unique_code(code_from_name(data["name"]))
        return data

    def unique_code(self, code: str) -> str:
        version_id = self.instance.version_id
        if version_id is None:
            return code
        taken = set(
            TemplateStep.objects.filter(version_id=version_id)
            .exclude(pk=self.instance.pk)
            .values_list("code", flat=True)
        )
        candidate, number = code, 2
        while candidate in taken:
            candidate, number = f"{code[:36]}_{number}", number + 1
        return candidate


def _is_published(version) -> bool:
    return version is not None and version.status == TemplateVersion.Status.PUBLISHED


class TemplateStepInline(admin.StackedInline):
    """Editable while the version is a draft; a published version's steps are shown, never changed.
    Stacked, each step in a few labelled groups, so that a step reads in full at 1,280 px."""

    model = TemplateStep
    form = TemplateStepForm
    extra = 0
    ordering = ("position",)
    classes = ("template-steps",)
    fieldsets = (
        (None, {"fields": (("position", "name", "code"), ("kind", "condition"))}),
        (_("Who decides"), {"fields": (("approver_rule", "approver_param"),)}),
        (_("What they may decide"), {"fields": ("actions",)}),
        (
            _("Deadline, reminders and escalation"),
            {"fields": (("deadline_working_days", "reminder_offsets"), ("escalation_rule", "escalation_param"))},
        ),
    )

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
    list_display = ("name", "version_in_force", "code")
    search_fields = ("code", "name")
    fields = ("name", "code")
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


@dataclass
class PublishItem:
    """One draft on the publish confirmation: what it changes, and whether it can be published."""

    version: TemplateVersion
    published: TemplateVersion | None
    changes: list[StepChange]
    diagram_svg: str = ""
    problem: str = ""


@admin.register(TemplateVersion)
class TemplateVersionAdmin(admin.ModelAdmin):
    """A version is made by the “new draft” action and frozen by “publish”; until then its steps
    and its effective date are edited here. Publishing shows what the draft changes against the
    version now published and asks for a confirmation; it takes the effective date from the draft."""

    list_display = ("template", "number", "status", "effective_from", "published_at", "published_by")
    list_filter = ("status", "template")
    list_select_related = ("template", "published_by")
    fields = ("template", "number", "status", "effective_from", "note", "published_at", "published_by", "bpmn")
    readonly_fields = ("template", "number", "status", "published_at", "published_by", "bpmn")
    inlines = (TemplateStepInline,)
    actions = ("publish", "new_draft")
    change_form_template = "admin/workflow/templateversion/change_form.html"
    publish_template = "admin/workflow/templateversion/publish_confirmation.html"

    class Media:
        css = {"all": ("workflow/template_editor.css",)}

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

    def get_urls(self):
        publish = path(
            "<path:object_id>/publish/",
            self.admin_site.admin_view(self.publish_view),
            name="workflow_templateversion_publish",
        )
        bpmn = path(
            "<path:object_id>/bpmn/",
            self.admin_site.admin_view(self.bpmn_view),
            name="workflow_templateversion_bpmn",
        )
        return [publish, bpmn, *super().get_urls()]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The version's page, with its route drawn below the steps (as saved, steps in order)."""
        version = self.get_object(request, object_id)
        extra = dict(extra_context or {})
        if version is not None:
            # The diagram module escapes every name it draws.
            extra["diagram_svg"] = mark_safe(template_svg(version))  # noqa: S308
        return super().change_view(request, object_id, form_url, extra_context=extra)

    def publish_view(self, request, object_id):
        """The confirmation page of one draft, reached from its change page."""
        version = self.get_object(request, object_id)
        if version is None:
            raise Http404(_("No such template version."))
        if not self.has_change_permission(request, version):
            raise PermissionDenied
        return self.publish_confirmation(request, [version])

    # -- how a step's values read, in the diff ----------------------------------------------------

    def step_value(self, step: TemplateStep, name: str) -> str:
        """A step's field as the administrator reads it: labels, never codes (the domain's admin
        names its rule parameters)."""
        value = getattr(step, name)
        if name == "actions":
            labels = dict(StepAction.choices)
            return ", ".join(str(labels.get(action, action)) for action in value)
        if name == "reminder_offsets":
            return ", ".join(str(day) for day in value) or "—"
        if TemplateStep._meta.get_field(name).choices:
            return str(getattr(step, f"get_{name}_display")())
        return "—" if value in ("", None) else str(value)

    # -- publishing -------------------------------------------------------------------------------

    def publish_item(self, version: TemplateVersion) -> PublishItem:
        published = (
            version.template.versions.filter(status=TemplateVersion.Status.PUBLISHED).order_by("-number").first()
        )
        before = list(published.steps.order_by("position")) if published is not None else []
        changes = step_changes(before=before, after=version.steps.order_by("position"), describe=self.step_value)
        item = PublishItem(version=version, published=published, changes=changes)
        if version.status != TemplateVersion.Status.DRAFT:
            item.problem = _("Already published.")
        elif version.effective_from is None:
            item.problem = _("Enter the date it applies from (effective from) on the draft, then publish.")
        else:
            # The diagram module escapes every name it draws.
            item.diagram_svg = mark_safe(template_svg(version))  # noqa: S308
        return item

    def publish_confirmation(self, request, versions):
        items = [self.publish_item(version) for version in versions]
        context = {
            **self.admin_site.each_context(request),
            "title": _("Publish a template version?"),
            "opts": self.opts,
            "items": items,
            "ready": [item for item in items if not item.problem],
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "changelist_url": reverse("admin:workflow_templateversion_changelist"),
        }
        return TemplateResponse(request, self.publish_template, context)

    @admin.action(description=_("Publish (from each draft's effective date)"), permissions=["change"])
    def publish(self, request, queryset):
        versions = queryset.select_related("template").order_by("template_id", "number")
        if not PublishConfirmation(request.POST).given():
            return self.publish_confirmation(request, list(versions))
        for version in versions:
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
                    % {"version": published, "date": date_format(published.effective_from, "SHORT_DATE_FORMAT")},
                    messages.SUCCESS,
                )
        return None

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
