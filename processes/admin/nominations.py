"""Nominations, their milestones, award decisions and dossier files: created, edited and moved by
the services, transitions as admin actions."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from processes import services
from processes.admin.mixins import ServiceFormMixin, adopt
from processes.models import CultivationMilestone, Decision, DossierDownload, DossierFile, Nomination, Stage
from processes.selectors import nomination_timeline
from processes.services.dossiers import dossier_upload
from workflow.admin import ReadOnlyAdminMixin
from workflow.errors import WorkflowError


class MilestoneInline(admin.TabularInline):
    model = CultivationMilestone
    fields = ("title", "due_on", "done_on")
    extra = 0


class DossierFileInline(admin.TabularInline):
    """Listed only: files arrive through the validated upload (the dossier file admin's add page)."""

    model = DossierFile
    fields = ("original_name", "document_type", "size", "uploaded_by", "uploaded_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("document_type", "uploaded_by")


class NominationForm(forms.ModelForm):
    # The version the form was opened at: an edit made meanwhile by someone else is refused, not lost.
    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Nomination
        fields = ("campaign", "award_form", "procedure", "nominee", "unit", "achievement_summary",
                  "cultivation_goals", "mentor")  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["expected_version"].initial = self.instance.version


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 4, "cols": 60}))


@admin.register(Nomination)
class NominationAdmin(ServiceFormMixin, admin.ModelAdmin):
    form = NominationForm
    list_display = ("id", "nominee", "award_form", "campaign", "unit", "procedure", "stage", "updated_at")
    list_display_links = ("id", "nominee")
    list_filter = ("stage", "procedure", "campaign", "award_form", "unit__kind")
    list_select_related = ("nominee", "award_form", "campaign", "unit")
    search_fields = ("=id", "nominee__name", "unit__name")
    autocomplete_fields = ("nominee", "unit")
    readonly_fields = ("stage", "version", "created_by", "created_at", "updated_at", "audit_trail")
    inlines = (MilestoneInline, DossierFileInline)
    actions = (
        "start_cultivation",
        "submit",
        "resubmit",
        "close",
        "return_for_completion",
        "reject",
        "withdraw",
    )

    def get_queryset(self, request):
        # Nomination.__str__ names the nominee and the form, so autocomplete lists need them too. (A
        # queryset that already selects related rows makes the changelist skip list_select_related.)
        return super().get_queryset(request).select_related(*self.list_select_related)

    def get_readonly_fields(self, request, obj=None):
        fixed = ("campaign", "award_form", "procedure", "nominee", "unit") if obj else ()
        return fixed + self.readonly_fields

    def has_delete_permission(self, request, obj=None):
        # The audit trail outlives nothing it describes: a case ends by withdrawal or rejection.
        return False

    @admin.display(description=_("history"))
    def audit_trail(self, nomination):
        if not nomination or not nomination.pk:
            return "—"
        return format_html(
            "<ol>{}</ol>",
            format_html_join(
                "",
                "<li>{} · {} · {} {} {}</li>",
                (
                    (
                        timezone.localtime(entry.created_at).strftime("%d/%m/%Y %H:%M"),
                        entry.actor or "—",
                        entry.label,
                        f"{entry.from_label} → {entry.to_label}" if entry.to_state else "",
                        f"“{entry.comment}”" if entry.comment else "",
                    )
                    for entry in nomination_timeline(nomination)
                ),
            ),
        )

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if not change:
            created = services.nomination_create(
                by=request.user,
                campaign=data["campaign"],
                award_form=data["award_form"],
                nominee=data["nominee"],
                procedure=data["procedure"],
                unit=data["unit"],
                achievement_summary=data["achievement_summary"],
                cultivation_goals=data["cultivation_goals"],
                mentor=data["mentor"],
            )
            adopt(obj, created)
            obj.created_by, obj.created_at, obj.updated_at = created.created_by, created.created_at, created.updated_at
            return
        edited = {name: data[name] for name in services.EDITABLE_FIELDS if name in form.changed_data}
        if edited:
            services.nomination_update(
                nomination=obj, by=request.user, expected_version=data.get("expected_version"), **edited
            )

    # -- transitions ------------------------------------------------------------------------------

    def _act(self, request, queryset, service, **arguments):
        """Call ``service`` for each selected nomination, each in its own transaction."""
        done = 0
        for nomination in queryset.select_related("nominee", "award_form").order_by("pk"):
            try:
                service(nomination=nomination, by=request.user, expected_version=nomination.version, **arguments)
            except WorkflowError as exc:
                self.message_user(request, f"{nomination}: {exc}", messages.ERROR)
            else:
                done += 1
        if done:
            self.message_user(
                request,
                ngettext("%(count)d nomination moved on.", "%(count)d nominations moved on.", done) % {"count": done},
                messages.SUCCESS,
            )

    def _act_with_reason(self, request, queryset, service, *, action, title):
        form = ReasonForm(request.POST if "confirm" in request.POST else None)
        if form.is_valid():
            self._act(request, queryset, service, reason=form.cleaned_data["reason"])
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.model._meta,
            "queryset": queryset.select_related("nominee", "award_form"),
            "form": form,
            "action": action,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "home_label": _("Home"),
            "cancel_label": _("Cancel"),
        }
        return TemplateResponse(request, "admin/processes/nomination/reason.html", context)

    @admin.action(description=_("Start cultivation"), permissions=["change"])
    def start_cultivation(self, request, queryset):
        self._act(request, queryset, services.nomination_start_cultivation)

    @admin.action(description=_("Submit for approval"), permissions=["change"])
    def submit(self, request, queryset):
        self._act(request, queryset, services.nomination_submit)

    @admin.action(description=_("Resubmit after completion"), permissions=["change"])
    def resubmit(self, request, queryset):
        self._act(request, queryset, services.nomination_resubmit)

    @admin.action(description=_("Close the case…"), permissions=["change"])
    def close(self, request, queryset):
        return self._act_with_reason(
            request, queryset, services.nomination_close, action="close", title=_("Close the case")
        )

    @admin.action(description=_("Return for completion…"), permissions=["change"])
    def return_for_completion(self, request, queryset):
        return self._act_with_reason(
            request,
            queryset,
            services.nomination_return,
            action="return_for_completion",
            title=_("Return for completion"),
        )

    @admin.action(description=_("Reject…"), permissions=["change"])
    def reject(self, request, queryset):
        return self._act_with_reason(request, queryset, services.nomination_reject, action="reject", title=_("Reject"))

    @admin.action(description=_("Withdraw…"), permissions=["change"])
    def withdraw(self, request, queryset):
        return self._act_with_reason(
            request, queryset, services.nomination_withdraw, action="withdraw", title=_("Withdraw")
        )


@admin.register(CultivationMilestone)
class CultivationMilestoneAdmin(admin.ModelAdmin):
    list_display = ("title", "nomination", "due_on", "done_on")
    list_filter = ("due_on", "done_on")
    list_select_related = ("nomination__nominee", "nomination__award_form")
    search_fields = ("title", "nomination__nominee__name")
    autocomplete_fields = ("nomination",)


class DecisionForm(forms.ModelForm):
    class Meta:
        model = Decision
        fields = ("nomination", "number", "signed_on")


@admin.register(Decision)
class DecisionAdmin(ServiceFormMixin, admin.ModelAdmin):
    """Adding a decision is recording the award: ``nomination_award`` checks and moves the case."""

    form = DecisionForm
    list_display = ("number", "nomination", "signed_on", "signer", "on_behalf")
    list_filter = ("on_behalf", "signed_on")
    list_select_related = ("nomination__nominee", "nomination__award_form", "signer")
    search_fields = ("number", "nomination__nominee__name")
    readonly_fields = ("signer", "on_behalf")

    def get_changeform_initial_data(self, request):
        return {"signed_on": timezone.localdate(), **super().get_changeform_initial_data(request)}

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "nomination":
            kwargs["queryset"] = Nomination.objects.filter(stage=Stage.SUMMARISE).select_related(
                "nominee", "award_form"
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        awarded = services.nomination_award(
            nomination=data["nomination"], by=request.user, decision_number=data["number"], signed_on=data["signed_on"]
        )
        decision = awarded.decision
        adopt(obj, decision)
        obj.signer, obj.on_behalf = decision.signer, decision.on_behalf


class DossierUploadForm(forms.ModelForm):
    upload = forms.FileField(label=_("file"))

    class Meta:
        model = DossierFile
        fields = ("nomination", "document_type")


@admin.register(DossierFile)
class DossierFileAdmin(ServiceFormMixin, admin.ModelAdmin):
    """Files are added through the validated upload and never edited; downloads go through the
    permission-checked, logged view."""

    form = DossierUploadForm
    list_display = ("original_name", "nomination", "document_type", "size", "uploaded_by", "uploaded_at", "download")
    list_filter = ("document_type", "content_type")
    list_select_related = ("nomination__nominee", "nomination__award_form", "document_type", "uploaded_by")
    search_fields = ("original_name", "nomination__nominee__name", "sha256")
    autocomplete_fields = ("nomination",)
    readonly_fields = ("content_type", "size", "sha256", "uploaded_by", "uploaded_at", "download")

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("nomination", "document_type", "upload")
        return ("original_name", "nomination", "document_type", *self.readonly_fields)

    def get_readonly_fields(self, request, obj=None):
        return ("original_name", "nomination", "document_type", *self.readonly_fields) if obj else ()

    @admin.display(description=_("download"))
    def download(self, dossier_file):
        if not dossier_file.pk:
            return "—"
        return format_html(
            '<a href="{}">{}</a>', reverse("processes:dossier-download", args=[dossier_file.pk]), _("download")
        )

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        uploaded = dossier_upload(
            nomination=data["nomination"], by=request.user, document_type=data["document_type"], upload=data["upload"]
        )
        adopt(obj, uploaded)
        obj.original_name = uploaded.original_name


@admin.register(DossierDownload)
class DossierDownloadAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The download log: read-only, written only by the download view."""

    list_display = ("at", "user", "file", "ip_address")
    list_filter = ("at",)
    list_select_related = ("user", "file")
    search_fields = ("user__username", "file__original_name", "=ip_address")
