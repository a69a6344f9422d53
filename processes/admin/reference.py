"""Award forms with their required documents and eligibility rules, document types, campaigns."""

from __future__ import annotations

from django.contrib import admin

from processes.models import AwardForm, Campaign, DocumentType, EligibilityRule, RequiredDocument


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
        "name",
        "decision_level",
        "for_individual",
        "for_collective",
        "for_household",
        "council_vote",
        "public_posting_working_days",
        "is_active",
        "code",
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
    list_display = ("name", "kind", "launching_unit", "period_start", "period_end", "submission_deadline", "code")
    list_filter = ("kind",)
    list_select_related = ("launching_unit",)
    search_fields = ("code", "name")
    autocomplete_fields = ("launching_unit",)
