"""``manage.py load_reference_data``: the award forms, document types, eligibility rules and default
chains of a real installation, loaded with no unit and no user, never over an administrator's edits."""

import csv
from datetime import date
from io import StringIO
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import call_command

import processes
from processes.models import (
    AwardForm,
    ChainAssignment,
    DocumentType,
    EligibilityRule,
    OrganisationUnit,
    RequiredDocument,
)
from processes.reference_data import DATA_DIR, load_reference_data
from workflow.models import ProcessTemplate, TemplateVersion
from workflow.process_templates import template_draft

pytestmark = pytest.mark.django_db

NOTHING_ADDED = "The reference data is all there: nothing was added.\n"
CITY = {"achievement_report", "submission_letter", "council_minutes"}
UNIT = {"achievement_report", "council_minutes"}
#: The dossier each form asks for (Law 06/2022 Art. 84-85), written out here rather than derived.
REQUIRED_DOCUMENTS = {
    "BK_CT_UBND_TP": CITY,
    "CSTD_TP": CITY | {"initiative_certificate"},
    "CO_THI_DUA_TP": CITY,
    "TTLDXS": CITY,
    "BK_DOT_XUAT": {"achievement_report", "submission_letter"},
    "CSTD_CS": UNIT | {"initiative_certificate"},
    "LDTT": UNIT,
    "TTLDTT": UNIT,
    "GK": UNIT,
}
DOCUMENT_TYPE_CODES = {*CITY, "initiative_certificate", "agency_opinion"}
VOTE_STEPS = {"council_review", "level_council"}


def _csv(name: str) -> list[dict]:
    with (Path(processes.__file__).resolve().parent / "data" / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _load() -> str:
    out = StringIO()
    call_command("load_reference_data", stdout=out)
    return out.getvalue()


def _counts() -> dict[str, int]:
    return {model._meta.label: model._default_manager.count() for model in apps.get_models()}


def _verify_audit() -> str:
    out = StringIO()
    call_command("verify_audit", stdout=out)  # exits non-zero (SystemExit) on a broken chain
    return out.getvalue()


def _assignments() -> dict[tuple[str, str], str]:
    return {
        (row.award_form.code, row.procedure): row.template.code
        for row in ChainAssignment.objects.select_related("award_form", "template")
    }


def test_on_an_empty_database_it_loads_every_form_document_type_rule_chain_and_assignment():
    assert not OrganisationUnit.objects.exists()
    output = _load()

    form_rows = _csv("award-forms.csv")
    forms = {form.code: form for form in AwardForm.objects.all()}
    assert set(forms) == {row["code"] for row in form_rows}
    for row in form_rows:
        form = forms[row["code"]]
        kinds = set(row["nominee_kinds"].split("|"))
        assert (form.name, form.name_en, form.decision_level) == (row["name_vi"], row["name_en"], row["decided_by"])
        assert (form.for_individual, form.for_collective, form.for_household) == (
            "individual" in kinds,
            "collective" in kinds,
            "household" in kinds,
        )
        assert form.council_vote == (row["council_vote"] == "yes")
        assert form.public_posting_working_days == int(row["public_posting_wd"])
        assert form.is_active
    assert (forms["CSTD_TP"].council_threshold_percent, forms["CSTD_TP"].council_threshold_of) == (90, "members")

    assert set(DocumentType.objects.values_list("code", flat=True)) == DOCUMENT_TYPE_CODES
    required = {}
    for form_code, type_code in RequiredDocument.objects.values_list("award_form__code", "document_type__code"):
        required.setdefault(form_code, set()).add(type_code)
    assert required == REQUIRED_DOCUMENTS
    rules = EligibilityRule.objects.values_list(
        "award_form__code", "kind", "required_form__code", "years", "enforcement", "uncertain"
    )
    assert list(rules) == [("CSTD_TP", "prior_award_streak", "CSTD_CS", 3, "warn", True)]

    chain_rows = _csv("chains.csv")
    templates = {template.code: template for template in ProcessTemplate.objects.all()}
    assert set(templates) == {row["chain"] for row in chain_rows}
    assert not TemplateVersion.objects.filter(status=TemplateVersion.Status.DRAFT).exists()
    for code, template in templates.items():
        versions = list(template.versions.order_by("number"))
        expected_dates = [date(2021, 1, 1), date(2025, 7, 1)] if code == "city_regular" else [date(2021, 1, 1)]
        assert [version.effective_from for version in versions] == expected_dates
        steps = list(versions[0].steps.order_by("position"))
        rows = sorted((row for row in chain_rows if row["chain"] == code), key=lambda row: int(row["order"]))
        assert [
            (step.code, step.name, step.actions, step.deadline_working_days)
            for step in steps
            if step.code != "public_posting"
        ] == [
            (row["step_code"], row["name_vi"], row["actions"].split("|"), int(row["default_sla_working_days"]))
            for row in rows
        ]
        assert {step.code for step in steps if step.kind == "vote"} == VOTE_STEPS & {row["step_code"] for row in rows}
    first, reform = templates["city_regular"].versions.order_by("number")
    codes = [step.code for step in first.steps.order_by("position")]
    # The posting window comes right before the council, for the forms that post their nominees.
    assert codes[codes.index("public_posting") + 1] == "council_review"
    assert first.steps.get(code="council_review").condition == "council_vote"
    proposer = {version.number: version.steps.get(code="proposer_submit") for version in (first, reform)}
    assert proposer[1].approver_param == "department,district"
    assert proposer[2].approver_param == "department,district,commune"  # communes sign from the reform
    assert [step.code for step in reform.steps.order_by("position")] == codes

    expected = {(row["code"], ""): row["default_chain"] for row in form_rows}
    expected |= {
        (row["code"], "ad_hoc"): "city_simplified" for row in form_rows if row["default_chain"] == "city_regular"
    }
    assert _assignments() == expected

    # It needs no unit and no user, and made none.
    assert not OrganisationUnit.objects.exists()
    assert not get_user_model().objects.exists()
    lines = output.splitlines()
    assert lines[0] == "Reference data added:"
    assert "  Award forms (9):" in lines
    assert "    CSTD_TP: Chiến sĩ thi đua thành phố" in lines
    assert "  Template versions (4):" in lines
    assert "  Chain assignments (13):" in lines
    assert "All audit chains verify." in _verify_audit()  # the published versions' entries included


def test_a_second_run_adds_nothing_and_says_so():
    _load()
    before = _counts()
    assert _load() == NOTHING_ADDED
    assert _counts() == before


def _edit_as_an_administrator():
    """What administrators do over the loaded data: rename, retire, retune, reroute and redraft."""
    AwardForm.objects.filter(code="GK").update(name="Giấy khen của Giám đốc Sở")
    AwardForm.objects.filter(code="LDTT").update(is_active=False)
    AwardForm.objects.filter(code="CSTD_TP").update(council_threshold_percent=75)
    DocumentType.objects.filter(code="council_minutes").update(name="Biên bản họp Hội đồng")
    RequiredDocument.objects.filter(award_form__code="CSTD_TP", document_type__code="initiative_certificate").delete()
    EligibilityRule.objects.filter(award_form__code="CSTD_TP").update(enforcement=EligibilityRule.Enforcement.BLOCK)
    ChainAssignment.objects.filter(award_form__code="TTLDXS", procedure="ad_hoc").delete()
    ChainAssignment.objects.filter(award_form__code="GK", procedure="").update(
        template=ProcessTemplate.objects.get(code="city_regular")
    )
    ProcessTemplate.objects.filter(code="unit_level").update(name="Khen thưởng cấp sở")
    draft = template_draft(template=ProcessTemplate.objects.get(code="city_regular"), by=None)
    draft.steps.filter(code="board_intake").update(deadline_working_days=7)
    return draft


def _assert_the_edits_are_there(draft):
    forms = AwardForm.objects.in_bulk(field_name="code")
    assert forms["GK"].name == "Giấy khen của Giám đốc Sở"
    assert not forms["LDTT"].is_active
    assert forms["CSTD_TP"].council_threshold_percent == 75
    assert DocumentType.objects.get(code="council_minutes").name == "Biên bản họp Hội đồng"
    assert not RequiredDocument.objects.filter(
        award_form__code="CSTD_TP", document_type__code="initiative_certificate"
    ).exists()
    assert EligibilityRule.objects.get(award_form__code="CSTD_TP").enforcement == "block"
    assignments = _assignments()
    assert ("TTLDXS", "ad_hoc") not in assignments
    assert assignments["GK", ""] == "city_regular"
    assert ProcessTemplate.objects.get(code="unit_level").name == "Khen thưởng cấp sở"
    draft.refresh_from_db()
    assert draft.status == TemplateVersion.Status.DRAFT
    assert draft.steps.get(code="board_intake").deadline_working_days == 7
    assert draft.template.versions.count() == 3


def test_an_administrators_edits_survive_a_rerun():
    _load()
    draft = _edit_as_an_administrator()
    before = _counts()
    assert _load() == NOTHING_ADDED
    assert _counts() == before
    _assert_the_edits_are_there(draft)


def test_a_rerun_adds_back_only_what_is_missing_and_names_it():
    _load()
    draft = _edit_as_an_administrator()
    AwardForm.objects.filter(code="TTLDTT").delete()  # its required documents and assignment go with it
    DocumentType.objects.filter(code="agency_opinion").delete()
    before = _counts()

    added = load_reference_data()

    labels = {model._meta.label: sorted(str(row) for row in rows) for model, rows in added.rows.items()}
    assert labels == {
        "processes.DocumentType": ["Văn bản hiệp y của cơ quan liên quan"],
        "processes.AwardForm": ["Tập thể lao động tiên tiến"],
        "processes.RequiredDocument": [
            "Tập thể lao động tiên tiến: Biên bản họp Hội đồng",
            "Tập thể lao động tiên tiến: Báo cáo thành tích",
        ],
        "processes.ChainAssignment": [
            "Tập thể lao động tiên tiến / any procedure → Khen thưởng cấp sở",
        ],
    }
    after = _counts()
    assert {label: after[label] - before[label] for label in after if after[label] != before[label]} == {
        "processes.DocumentType": 1,
        "processes.AwardForm": 1,
        "processes.RequiredDocument": 2,
        "processes.ChainAssignment": 1,
    }
    _assert_the_edits_are_there(draft)


def test_the_command_names_what_it_added():
    _load()
    AwardForm.objects.filter(code="TTLDTT").delete()
    assert _load().splitlines() == [
        "Reference data added:",
        "  Award forms (1):",
        "    TTLDTT: Tập thể lao động tiên tiến",
        "  Required documents (2):",
        "    Tập thể lao động tiên tiến: Báo cáo thành tích",
        "    Tập thể lao động tiên tiến: Biên bản họp Hội đồng Thi đua - Khen thưởng",
        "  Chain assignments (1):",
        "    Tập thể lao động tiên tiến / any procedure → Khen thưởng cấp sở, cấp huyện (cấp xã từ 01/7/2025)",
    ]


def test_the_csvs_it_reads_ship_inside_the_app():
    assert DATA_DIR.resolve().is_relative_to(Path(processes.__file__).resolve().parent)
    for name in ("award-forms.csv", "chains.csv"):
        assert (DATA_DIR / name).is_file()
