"""``seed_demo`` over reference data that ``load_reference_data`` loaded and an administrator edited:
the demo adds its organisation, people and cases and leaves the reference data as it found it."""

from io import StringIO

import pytest
from django.core.management import call_command

from processes import demo
from processes.models import (
    AwardForm,
    ChainAssignment,
    DocumentType,
    EligibilityRule,
    Nomination,
    RequiredDocument,
    Stage,
)
from workflow.models import ApprovalProcess, ProcessTemplate, TemplateStep, TemplateVersion
from workflow.process_templates import template_draft

pytestmark = pytest.mark.django_db

REFERENCE_MODELS = (
    AwardForm,
    DocumentType,
    RequiredDocument,
    EligibilityRule,
    ProcessTemplate,
    TemplateVersion,
    TemplateStep,
    ChainAssignment,
)


def _reference_counts() -> dict[str, int]:
    return {model._meta.label: model.objects.count() for model in REFERENCE_MODELS}


def test_seed_demo_on_edited_reference_data_adds_its_cases_keeps_the_edits_and_verifies(monkeypatch):
    call_command("load_reference_data", stdout=StringIO())
    AwardForm.objects.filter(code="BK_CT_UBND_TP").update(name="Bằng khen của Chủ tịch UBND thành phố Hải Phòng")
    RequiredDocument.objects.filter(award_form__code="CSTD_TP", document_type__code="initiative_certificate").delete()
    ChainAssignment.objects.filter(award_form__code="TTLDXS", procedure="ad_hoc").delete()
    draft = template_draft(template=ProcessTemplate.objects.get(code="city_regular"), by=None)
    draft.steps.filter(code="board_intake").update(deadline_working_days=7)
    reference = _reference_counts()
    # A smaller plan, one case per stage and two ad-hoc ones: the full one is test_seed_demo's, and
    # the question here is what the demo does to reference data it did not load.
    monkeypatch.setattr(demo, "STAGE_COUNTS", dict.fromkeys(demo.STAGE_COUNTS, 1))
    monkeypatch.setattr(demo, "AD_HOC_STAGES", [Stage.SUMMARISE, Stage.CLOSED])

    out = StringIO()
    call_command("seed_demo", stdout=out, stderr=StringIO())

    assert set(Nomination.objects.values_list("stage", flat=True)) == set(Stage.values)
    assert Nomination.objects.filter(procedure="ad_hoc", stage=Stage.CLOSED).exists()
    assert _reference_counts() == reference
    assert AwardForm.objects.get(code="BK_CT_UBND_TP").name == "Bằng khen của Chủ tịch UBND thành phố Hải Phòng"
    assert not RequiredDocument.objects.filter(award_form__code="CSTD_TP", document_type__code="initiative_certificate")
    assert not ChainAssignment.objects.filter(award_form__code="TTLDXS", procedure="ad_hoc").exists()
    draft.refresh_from_db()
    assert draft.status == TemplateVersion.Status.DRAFT
    assert draft.steps.get(code="board_intake").deadline_working_days == 7
    # Cases started meanwhile walk the published versions, not the administrator's draft.
    walked = set(ApprovalProcess.objects.values_list("version__template__code", "version__status"))
    assert ("city_regular", TemplateVersion.Status.PUBLISHED) in walked
    assert {status for _code, status in walked} == {TemplateVersion.Status.PUBLISHED}

    verified = StringIO()
    call_command("verify_audit", stdout=verified)  # exits non-zero (SystemExit) on a broken chain
    assert "All audit chains verify." in verified.getvalue()
