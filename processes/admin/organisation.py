"""Units, their dated parent links and memberships: new memberships through ``membership_create``."""

from __future__ import annotations

from itertools import pairwise

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Subquery
from django.forms.models import BaseInlineFormSet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from processes import errors, services
from processes.admin.mixins import LastDayColumn, ServiceFormMixin, adopt
from processes.models import Membership, OrganisationUnit, UnitLink


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
    list_display = ("name", "kind", "current_parent", "remote_or_island", "code")
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
        adopt(obj, _save_membership(form))
