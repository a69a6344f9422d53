"""The Django admin over the award domain.

Writes that have a service go through it with ``request.user``: nominations are created, edited
and moved by ``processes.services``, memberships are added by ``membership_create``, files by
``dossier_upload`` and award decisions by ``nomination_award``. A refusal (any ``WorkflowError``) is shown
on the form or as a message per object, and nothing is half-saved. ``stage`` is never a form
field (the FSM field is protected); transitions are admin actions.
"""

from __future__ import annotations

from itertools import pairwise

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Subquery
from django.forms.models import BaseInlineFormSet
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from processes import errors, services
from processes.models import (
    AwardForm,
    Campaign,
    ChainAssignment,
    Consultation,
    CultivationMilestone,
    Decision,
    Delegation,
    DocumentType,
    DossierDownload,
    DossierFile,
    EligibilityRule,
    Membership,
    Nomination,
    Nominee,
    Objection,
    OrganisationUnit,
    PriorAward,
    RequiredDocument,
    Stage,
    UnitLink,
)
from processes.selectors import nomination_timeline
from processes.services.dossiers import dossier_upload
from processes.text import NameFormField
from workflow.admin import ReadOnlyAdminMixin
from workflow.errors import WorkflowError


class ServiceFormMixin:
    """Show a service's refusal on the form it came from, with the user's input kept.

    The admin saves inside one transaction; a ``WorkflowError`` raised by a service during the save
    leaves that transaction and rolls everything back. The same POST is then shown again with the
    service's message as a form error, so the user sees why and nothing is half-saved.
    """

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except WorkflowError as exc:
            if request.method != "POST" or hasattr(request, "_service_refusal"):
                raise
            request._service_refusal = exc
            return super().changeform_view(request, object_id, form_url, extra_context)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        refusal = getattr(request, "_service_refusal", None)
        if refusal is None:
            return form

        class RefusedForm(form):
            def clean(self):
                super().clean()
                raise ValidationError(str(refusal))

        return RefusedForm


def _adopt(obj, saved) -> None:
    """Make the admin's unsaved ``obj`` stand for the row a service saved, for the redirect and log."""
    obj.pk = saved.pk
    obj._state.adding = False
    obj._state.db = saved._state.db


# --- organisation -------------------------------------------------------------------------------


class LastDayColumn:
    """Lists and read-only pages show a period's last day in force, as forms take it; the stored
    ``valid_to`` is the day after (``processes.periods``)."""

    @admin.display(description=_("until the end of"), ordering="valid_to")
    def until_the_end_of(self, row):
        return row.last_day


def _overlap(periods) -> bool:
    """Whether any two [valid_from, valid_to) periods meet; ``valid_to=None`` is open-ended."""
    ordered = sorted(periods, key=lambda period: period[0])
    # Sorted by start, some pair overlaps exactly when some neighbouring pair does.
    return any(earlier_to is None or later_from < earlier_to for (_, earlier_to), (later_from, _) in pairwise(ordered))


class ParentLinkFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        # UnitLink.clean compares each row with the database only: two new rows in one submission
        # would both pass, and SQLite has no exclusion constraint to stop them.
        periods = [
            (form.cleaned_data["valid_from"], form.cleaned_data.get("valid_to"))
            for form in self.forms
            if form.cleaned_data.get("valid_from") and not form.cleaned_data.get("DELETE")
        ]
        if _overlap(periods):
            raise ValidationError(_("A unit has one parent at a time: these periods overlap."))


class ParentLinkInline(admin.TabularInline):
    model = UnitLink
    formset = ParentLinkFormSet
    fk_name = "unit"
    fields = ("parent", "valid_from", "valid_to")
    autocomplete_fields = ("parent",)
    extra = 0


class MembershipForm(forms.ModelForm):
    """Membership.clean (run by every model form) refuses a second head for an overlapping period."""

    class Meta:
        model = Membership
        fields = ("user", "unit", "role", "valid_from", "valid_to")


class MembershipInline(admin.TabularInline):
    model = Membership
    form = MembershipForm
    fields = ("user", "role", "valid_from", "valid_to")
    autocomplete_fields = ("user",)
    extra = 0


def _save_membership(form, *, unit=None) -> Membership:
    """New memberships through the service; edits saved as they are (Membership.clean has run)."""
    membership = form.instance
    if membership._state.adding:
        return services.membership_create(
            user=membership.user,
            unit=unit or membership.unit,
            role=membership.role,
            valid_from=membership.valid_from,
            valid_to=membership.valid_to,
        )
    try:
        with transaction.atomic():
            membership.save()
    except IntegrityError as exc:  # PostgreSQL's exclusion constraint, under a race
        raise errors.OverlappingMembership() from exc
    return membership


@admin.register(OrganisationUnit)
class OrganisationUnitAdmin(ServiceFormMixin, admin.ModelAdmin):
    list_display = ("code", "name", "kind", "current_parent", "remote_or_island")
    list_filter = ("kind", "remote_or_island")
    search_fields = ("code", "name")
    inlines = (ParentLinkInline, MembershipInline)

    def get_queryset(self, request):
        parent_today = UnitLink.objects.on(timezone.localdate()).filter(unit=OuterRef("pk")).values("parent__name")
        return super().get_queryset(request).annotate(current_parent_name=Subquery(parent_today[:1]))

    @admin.display(description=_("current parent"), ordering="current_parent_name")
    def current_parent(self, unit):
        return unit.current_parent_name or "—"

    def save_formset(self, request, form, formset, change):
        if formset.model is not Membership:
            return super().save_formset(request, form, formset, change)
        # What formset.save() would do, with new memberships going through the service. The three
        # lists are what the admin's change message reads.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for member_form in formset.initial_forms:
            if member_form in formset.deleted_forms:
                formset.deleted_objects.append(member_form.instance)
                member_form.instance.delete()
        for member_form in formset.forms:
            if member_form in formset.deleted_forms or not member_form.has_changed():
                continue
            adding = member_form.instance._state.adding
            saved = _save_membership(member_form, unit=form.instance)
            if adding:
                formset.new_objects.append(saved)
            else:
                formset.changed_objects.append((saved, member_form.changed_data))
        return None


@admin.register(UnitLink)
class UnitLinkAdmin(LastDayColumn, admin.ModelAdmin):
    list_display = ("unit", "parent", "valid_from", "until_the_end_of")
    list_filter = ("unit__kind", "valid_from")
    list_select_related = ("unit", "parent")
    search_fields = ("unit__code", "unit__name", "parent__name")
    autocomplete_fields = ("unit", "parent")


@admin.register(Membership)
class MembershipAdmin(LastDayColumn, ServiceFormMixin, admin.ModelAdmin):
    form = MembershipForm
    list_display = ("user", "unit", "role", "valid_from", "until_the_end_of")
    list_filter = ("role", "unit__kind")
    list_select_related = ("user", "unit")
    search_fields = ("user__username", "user__first_name", "user__last_name", "unit__code", "unit__name")
    autocomplete_fields = ("user", "unit")

    def save_model(self, request, obj, form, change):
        _adopt(obj, _save_membership(form))


# --- reference data -----------------------------------------------------------------------------


class RequiredDocumentInline(admin.TabularInline):
    model = RequiredDocument
    extra = 0


class EligibilityRuleInline(admin.StackedInline):
    model = EligibilityRule
    fk_name = "award_form"
    extra = 0


@admin.register(AwardForm)
class AwardFormAdmin(admin.ModelAdmin):
    list_display = (
        "code",
        "name",
        "decision_level",
        "for_individual",
        "for_collective",
        "for_household",
        "council_vote",
        "public_posting_working_days",
        "is_active",
    )
    list_filter = ("decision_level", "council_vote", "is_active")
    search_fields = ("code", "name", "name_en")
    inlines = (RequiredDocumentInline, EligibilityRuleInline)


@admin.register(DocumentType)
class DocumentTypeAdmin(admin.ModelAdmin):
    list_display = ("name", "code")
    search_fields = ("code", "name")


@admin.register(RequiredDocument)
class RequiredDocumentAdmin(admin.ModelAdmin):
    list_display = ("award_form", "document_type")
    list_filter = ("award_form", "document_type")
    list_select_related = ("award_form", "document_type")


@admin.register(EligibilityRule)
class EligibilityRuleAdmin(admin.ModelAdmin):
    list_display = ("award_form", "kind", "required_form", "years", "enforcement", "uncertain")
    list_filter = ("enforcement", "uncertain", "kind")
    list_select_related = ("award_form", "required_form")
    search_fields = ("award_form__code", "award_form__name", "legal_basis", "description")


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "launching_unit", "period_start", "period_end", "submission_deadline")
    list_filter = ("kind",)
    list_select_related = ("launching_unit",)
    search_fields = ("code", "name")
    autocomplete_fields = ("launching_unit",)


# --- nominees -----------------------------------------------------------------------------------


class PriorAwardInline(admin.TabularInline):
    model = PriorAward
    extra = 0


@admin.register(Nominee)
class NomineeAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "masked_id", "unit", "category", "collective_type", "remote_or_island", "blocked")
    list_filter = (
        "kind",
        "category",
        "collective_type",
        "remote_or_island",
        "pending_discipline",
        "under_investigation",
        "pending_complaint",
    )
    list_select_related = ("unit",)
    # The full ID number finds a nominee, but lists only ever show its last digits.
    search_fields = ("name", "=id_number", "unit__name")
    autocomplete_fields = ("unit", "user")
    inlines = (PriorAwardInline,)
    fieldsets = (
        (None, {"fields": ("kind", "name", "unit", "user", "remote_or_island")}),
        (
            _("Individual"),
            {"fields": ("gender", "birth_date", "ethnicity", "position", "id_number", "category")},
        ),
        (_("Collective"), {"fields": ("collective_type",)}),
        (
            _("Pending proceedings (Decree 152/2025/ND-CP)"),
            {"fields": ("pending_discipline", "under_investigation", "pending_complaint")},
        ),
    )

    @admin.display(description=_("ID number"))
    def masked_id(self, nominee):
        return nominee.masked_id_number

    @admin.display(description=_("proceedings pending"), boolean=True)
    def blocked(self, nominee):
        return nominee.has_pending_proceedings

    def save_model(self, request, obj, form, change):
        if not change:
            return super().save_model(request, obj, form, change)
        # Through the service: a pending-proceedings flag set here reaches the open cases' logs and
        # the holders of their steps.
        edited = {name: form.cleaned_data[name] for name in form.changed_data if name in services.NOMINEE_FIELDS}
        if edited:
            services.nominee_update(nominee=obj, by=request.user, **edited)
        others = [name for name in form.changed_data if name not in services.NOMINEE_FIELDS]
        if others:
            obj.save(update_fields=others)
        return None


@admin.register(PriorAward)
class PriorAwardAdmin(admin.ModelAdmin):
    list_display = ("nominee", "award_form", "year", "decision_number")
    list_filter = ("award_form", "year")
    list_select_related = ("nominee", "award_form")
    search_fields = ("nominee__name", "decision_number")
    autocomplete_fields = ("nominee",)


# --- nominations --------------------------------------------------------------------------------


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
    list_display = ("id", "nominee", "form_code", "campaign", "unit", "procedure", "stage", "updated_at")
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

    @admin.display(description=_("award form"), ordering="award_form__code")
    def form_code(self, nomination):
        return nomination.award_form.code

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
            _adopt(obj, created)
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

    @admin.action(description=_("Close the case"), permissions=["change"])
    def close(self, request, queryset):
        self._act(request, queryset, services.nomination_close)

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
        _adopt(obj, decision)
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
        _adopt(obj, uploaded)
        obj.original_name = uploaded.original_name


@admin.register(DossierDownload)
class DossierDownloadAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The download log: read-only, written only by the download view."""

    list_display = ("at", "user", "file", "ip_address")
    list_filter = ("at",)
    list_select_related = ("user", "file")
    search_fields = ("user__username", "file__original_name", "=ip_address")


admin.site.site_header = _("Emulation and commendation: administration")
admin.site.site_title = _("Emulation and commendation")
admin.site.index_title = _("Configuration and records")


# --- approval chains ----------------------------------------------------------------------------


@admin.register(ChainAssignment)
class ChainAssignmentAdmin(admin.ModelAdmin):
    """Which process template each award form (and procedure) walks; a new case takes the
    template's version in force on its start date."""

    list_display = ("award_form", "procedure", "template")
    list_filter = ("procedure", "template")
    list_select_related = ("award_form", "template")
    search_fields = ("award_form__code", "award_form__name", "template__code")
    autocomplete_fields = ("award_form",)
    fields = ("award_form", "procedure", "template")


@admin.register(Delegation)
class DelegationAdmin(LastDayColumn, admin.ModelAdmin):
    """A head's stand-in for a period: tasks made in it go to the delegate, on the head's behalf."""

    list_display = ("delegator", "delegate", "unit", "valid_from", "until_the_end_of")
    list_filter = ("valid_from",)
    list_select_related = ("delegator", "delegate", "unit")
    search_fields = ("delegator__username", "delegate__username", "unit__code", "unit__name")
    autocomplete_fields = ("unit",)
    raw_id_fields = ("delegator", "delegate")
    fields = ("unit", "delegator", "delegate", "valid_from", "valid_to", "reason")
    date_hierarchy = "valid_from"

    def get_fields(self, request, obj=None):
        if obj is None:
            return self.fields
        return tuple("until_the_end_of" if name == "valid_to" else name for name in self.fields)

    def get_readonly_fields(self, request, obj=None):
        # A delegation is a record of what was decided: made through the service, never edited.
        return self.get_fields(request, obj) if obj is not None else ()

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is not None:
            return form

        class CheckedDelegationForm(form):
            def clean(self):
                data = super().clean()
                if all(data.get(name) for name in ("delegator", "delegate", "unit", "valid_from")):
                    try:
                        services.delegation_check(
                            by=request.user,
                            delegator=data["delegator"],
                            delegate=data["delegate"],
                            unit=data["unit"],
                            valid_from=data["valid_from"],
                        )
                    except WorkflowError as error:
                        raise ValidationError(str(error)) from error
                return data

        return CheckedDelegationForm

    def save_model(self, request, obj, form, change):
        if change:
            return
        created = services.delegation_create(
            by=request.user,
            delegator=obj.delegator,
            delegate=obj.delegate,
            unit=obj.unit,
            valid_from=obj.valid_from,
            valid_to=obj.valid_to,
            reason=obj.reason,
        )
        obj.pk = created.pk


@admin.register(Objection)
class ObjectionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Recorded through the services (checks and audit entries); shown here, never edited."""

    list_display = ("nomination", "author", "recorded_at", "recorded_by", "resolved_at")
    list_filter = ("recorded_at",)
    list_select_related = ("nomination__nominee", "recorded_by")
    search_fields = ("author", "nomination__nominee__name")


@admin.register(Consultation)
class ConsultationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Asked and answered through the services; shown here, never edited."""

    list_display = ("nomination", "agency_name", "requested_at", "due_at", "answered_at", "via_board")
    list_filter = ("answered_at", "via_board")
    list_select_related = ("nomination__nominee",)
    search_fields = ("agency_name", "nomination__nominee__name")


# --- users ----------------------------------------------------------------------------------------

User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class NamedUserAdmin(UserAdmin):
    """Django's user admin; first and last names are kept as every name is (``processes.text``)."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name in ("first_name", "last_name"):
            kwargs["form_class"] = NameFormField
        return super().formfield_for_dbfield(db_field, request, **kwargs)
