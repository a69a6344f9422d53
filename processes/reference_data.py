"""The reference data an installation starts from: ``manage.py load_reference_data``.

The award forms of ``data/award-forms.csv`` with the documents their dossiers need and their
eligibility rules, the document types, the default approval chains of ``data/chains.csv`` as published
process templates (with ``city_regular``'s version 2 from the 2025 reform), and which chain each form's
cases walk. None of it needs an organisation unit or a user, so a real installation
(``THIDUA_DEMO_DATA=false``) loads it before anyone is set up; ``seed_demo`` loads it the same way and
adds only the demo's organisation, people and cases on top.

Once loaded, the data is the administrators' to edit, so a run never changes a row that is there. It
adds a row only when its natural key is missing (a document type's, a form's or a template's code), and
the rows that hang from one (a form's required documents and eligibility rules, a template's versions,
the chain assignments of a form or of a template) only with a parent the same run adds: a document an
administrator took off a form's list, a deleted rule, a template changed through a new version or an
assignment moved or deleted stays as they left it. A form is retired by making it inactive: a deleted
one comes back, whole, on the next run.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from django.db import models, transaction

from processes.models import (
    AwardForm,
    ChainAssignment,
    DecisionLevel,
    DocumentType,
    EligibilityRule,
    Procedure,
    RequiredDocument,
)
from workflow.models import ProcessTemplate, StepKind, TemplateVersion
from workflow.process_templates import template_draft, template_publish

DATA_DIR = Path(__file__).resolve().parent / "data"

# --- award forms --------------------------------------------------------------------------------

DOCUMENT_TYPES = {
    DocumentType.ACHIEVEMENT_REPORT: "Báo cáo thành tích",
    "submission_letter": "Tờ trình đề nghị khen thưởng",
    "council_minutes": "Biên bản họp Hội đồng Thi đua - Khen thưởng",
    "initiative_certificate": "Giấy chứng nhận sáng kiến",
    "agency_opinion": "Văn bản hiệp y của cơ quan liên quan",
}


def required_document_codes(form_code: str, chain: str) -> list[str]:
    """The dossier a form needs (Law 06/2022 Art. 84): kept as rows admins may edit later."""
    codes = [DocumentType.ACHIEVEMENT_REPORT]
    if chain == "city_regular":
        codes += ["submission_letter", "council_minutes"]
    elif chain == "city_simplified":
        codes += ["submission_letter"]  # one dossier set with a short summary (Art. 85)
    else:
        codes += ["council_minutes"]  # the department's or district's council reviews
    if form_code in ("CSTD_TP", "CSTD_CS"):
        codes.append("initiative_certificate")
    return codes


#: The customary secret-ballot rules of the city titles (editable per form).
VOTE_RULES = {
    "CSTD_TP": {"council_quorum_percent": 67, "council_threshold_percent": 90, "council_threshold_of": "members"},
    "CO_THI_DUA_TP": {"council_quorum_percent": 67, "council_threshold_percent": 90, "council_threshold_of": "cast"},
}
#: Eligibility rules by the code of the form they guard; each comes with its form.
ELIGIBILITY_RULES = {
    "CSTD_TP": [
        {
            "kind": EligibilityRule.Kind.PRIOR_AWARD_STREAK,
            "required_form": "CSTD_CS",
            "years": 3,
            "enforcement": EligibilityRule.Enforcement.WARN,
            "uncertain": True,
            "legal_basis": (
                "Customary for the city title; UNCERTAIN beside Decree 152/2025/ND-CP (a lower award is not a "
                "prerequisite for a higher one), so it only warns until confirmed."
            ),
            "description": "Ba lần liên tục đạt danh hiệu Chiến sĩ thi đua cơ sở.",
        },
    ],
}

# --- approval chains ----------------------------------------------------------------------------

#: Version 1 of each chain applies from this day, early enough for the cases an installation records.
CHAINS_IN_FORCE_FROM = date(2021, 1, 1)
#: The day the district level was abolished and communes/wards came to report to the city.
REFORM_DAY = date(2025, 7, 1)
TEMPLATE_NAMES = {
    "city_regular": "Khen thưởng cấp thành phố (thủ tục thông thường)",
    "city_simplified": "Khen thưởng cấp thành phố (thủ tục đơn giản)",
    "unit_level": "Khen thưởng cấp sở, cấp huyện (cấp xã từ 01/7/2025)",
}
#: The actor column of chains.csv read as an approver rule and its parameter. Approximations: the
#: deciding level is the nearest department, district or commune above the proposing unit (a commune
#: chairman decides unit-level awards after the reform); its council is approximated by every member
#: of that level's unit, until level councils are units of their own.
ACTOR_RULES = {
    "head of the nominee's unit": ("subject_unit_head", ""),
    "head of the parent unit at department/district level": ("ancestor_head", "department,district"),
    "Board officers (group)": ("unit_members", "board"),
    "council members": ("council", ""),
    "city chairman (or a vice-chairman signing on the chairman's behalf)": ("city_chairman", ""),
    "city chairman": ("city_chairman", ""),
    "council of the deciding level": ("unit_members", "above:department,district,commune"),
    "head of the deciding level": ("ancestor_head", "department,district,commune"),
}
REMINDER_OFFSETS = (2, 1)
#: Steps taken only for some cases: the council votes only on forms with council_vote=yes.
STEP_CONDITIONS = {("city_regular", "council_review"): "council_vote"}
#: The council's step is a session vote.
STEP_KINDS = {("city_regular", "council_review"): StepKind.VOTE, ("unit_level", "level_council"): StepKind.VOTE}
#: Public posting before the council (chains.csv has no row for it; award-forms.csv gives its length):
#: after the window, objections go to the Board, who clear them or reject the case.
POSTING_STEP = {
    "code": "public_posting",
    "name": "Công khai danh sách đề nghị khen thưởng",
    "kind": StepKind.POSTING,
    "approver_rule": "unit_members",
    "approver_param": "board",
    "actions": ["approve", "reject"],
    "deadline_working_days": 5,
    "condition": "public_posting",
}
#: Version 2 of city_regular: from the reform the commune/ward chairman signs the submission for the
#: units under the commune. Departments keep the step; "district" stays in the list for an
#: organisation tree that keeps a district after the reform day (where none is left, the kind simply
#: never matches).
REFORM_PROPOSER = {
    "name": "Thủ trưởng sở / Chủ tịch UBND xã, phường trình",
    "approver_param": "department,district,commune",
}
#: Later versions of a chain: from which day, why, and what changes in which step.
REVISIONS = {
    "city_regular": [
        (
            REFORM_DAY,
            "Từ 01/7/2025 không còn cấp huyện: Chủ tịch UBND xã, phường trình khen thưởng.",
            {"proposer_submit": REFORM_PROPOSER},
        ),
    ],
}
#: Ad-hoc achievements and brave rescues take the simplified procedure whatever the city form.
AD_HOC_CHAINS = {"city_regular": "city_simplified"}


def rows(name: str) -> list[dict]:
    with (DATA_DIR / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def form_chains() -> dict[str, str]:
    """Award form code → the code of the chain its cases walk (award-forms.csv's default_chain)."""
    return {row["code"]: row["default_chain"] for row in rows("award-forms.csv")}


# --- loading ------------------------------------------------------------------------------------


@dataclass
class Added:
    """The rows one run added, by model, in the order they were added; empty when nothing was missing."""

    rows: dict[type[models.Model], list[models.Model]] = field(default_factory=dict)

    def add(self, *objects: models.Model) -> None:
        for obj in objects:
            self.rows.setdefault(type(obj), []).append(obj)

    def __bool__(self) -> bool:
        return any(self.rows.values())


def load_reference_data() -> Added:
    """Add what is missing of the reference data (see the module's docstring); return what was added."""
    added = Added()
    with transaction.atomic():
        document_types = _load_document_types(added)
        forms, new_forms = _load_award_forms(document_types, added)
        templates, new_templates = _load_templates(added)
        _assign(forms, templates, form_chains(), added, new_forms=new_forms, new_templates=new_templates)
    return added


def load_chains(forms: dict[str, AwardForm], chains: dict[str, str] | None = None) -> dict[str, ProcessTemplate]:
    """The chains of chains.csv as published templates (those missing), and an assignment for each of
    ``forms`` (code → AwardForm) without one, to the chain ``chains`` names for its code (default: the
    CSV's). For forms made elsewhere, as the test factories make theirs."""
    templates, _new = _load_templates(Added())
    _assign(forms, templates, form_chains() if chains is None else chains, Added())
    return templates


def _load_document_types(added: Added) -> dict[str, DocumentType]:
    types = DocumentType.objects.in_bulk(list(DOCUMENT_TYPES), field_name="code")
    for code, name in DOCUMENT_TYPES.items():
        if code not in types:
            types[code] = DocumentType.objects.create(code=code, name=name)
            added.add(types[code])
    return types


def _load_award_forms(document_types, added: Added) -> tuple[dict[str, AwardForm], set[str]]:
    """Every form of the CSV by code, and the codes of those this run created."""
    form_rows = rows("award-forms.csv")
    forms = AwardForm.objects.in_bulk([row["code"] for row in form_rows], field_name="code")
    created = [row for row in form_rows if row["code"] not in forms]
    for row in created:
        kinds = set(row["nominee_kinds"].split("|"))
        forms[row["code"]] = AwardForm.objects.create(
            code=row["code"],
            name=row["name_vi"],
            name_en=row["name_en"],
            decision_level=DecisionLevel(row["decided_by"]),
            for_individual="individual" in kinds,
            for_collective="collective" in kinds,
            for_household="household" in kinds,
            council_vote=row["council_vote"] == "yes",
            public_posting_working_days=int(row["public_posting_wd"] or 0),
            notes=row["notes"],
            **VOTE_RULES.get(row["code"], {}),
        )
        added.add(forms[row["code"]])
    added.add(
        *RequiredDocument.objects.bulk_create(
            RequiredDocument(award_form=forms[row["code"]], document_type=document_types[code])
            for row in created
            for code in required_document_codes(row["code"], row["default_chain"])
        )
    )
    for row in created:
        for rule in ELIGIBILITY_RULES.get(row["code"], []):
            required_form = forms.get(rule["required_form"])
            if required_form is not None:
                added.add(
                    EligibilityRule.objects.create(
                        award_form=forms[row["code"]], **{**rule, "required_form": required_form}
                    )
                )
    return forms, {row["code"] for row in created}


def _load_templates(added: Added) -> tuple[dict[str, ProcessTemplate], set[str]]:
    """Every chain of the CSV as a template by code, and the codes of those this run created (only
    these get versions: a template that is there is the administrators')."""
    by_chain: dict[str, list[dict]] = {}
    for row in rows("chains.csv"):
        by_chain.setdefault(row["chain"], []).append(row)
    templates, created = {}, set()
    for chain, steps in by_chain.items():
        template, new = ProcessTemplate.objects.get_or_create(
            code=chain, defaults={"name": TEMPLATE_NAMES.get(chain, chain)}
        )
        templates[chain] = template
        if new:
            created.add(chain)
            added.add(template, *_publish_versions(template, steps))
    return templates, created


def _publish_versions(template: ProcessTemplate, steps: list[dict]) -> list[TemplateVersion]:
    chain = template.code
    draft = template_draft(template=template, by=None)
    for row in sorted(steps, key=lambda row: int(row["order"])):
        rule, param = ACTOR_RULES[row["actor"]]
        sla = int(row["default_sla_working_days"])
        if row["step_code"] == "council_review":
            draft.steps.create(position=int(row["order"]) * 10 - 5, **POSTING_STEP, reminder_offsets=[1])
        draft.steps.create(
            kind=STEP_KINDS.get((chain, row["step_code"]), StepKind.DECISION),
            position=int(row["order"]) * 10,
            code=row["step_code"],
            name=row["name_vi"],
            approver_rule=rule,
            approver_param=param,
            actions=row["actions"].split("|"),
            deadline_working_days=sla,
            reminder_offsets=[offset for offset in REMINDER_OFFSETS if offset < sla],
            condition=STEP_CONDITIONS.get((chain, row["step_code"]), ""),
        )
    versions = [template_publish(version=draft, by=None, effective_from=CHAINS_IN_FORCE_FROM, note="Theo chains.csv")]
    for effective_from, note, changes in REVISIONS.get(chain, []):
        draft = template_draft(template=template, by=None)
        for code, values in changes.items():
            draft.steps.filter(code=code).update(**values)
        versions.append(template_publish(version=draft, by=None, effective_from=effective_from, note=note))
    return versions


def _assign(forms, templates, chains: dict[str, str], added: Added, *, new_forms=None, new_templates=None) -> None:
    """Assign each form, for any procedure, to its chain, and for the ad-hoc procedure to that chain's
    ad-hoc chain, where the form has no row for the procedure yet. Given the codes of the forms and
    templates this run created, only where the form or the template is one of them."""
    restricted = new_forms is not None
    for form in forms.values():
        chain = chains.get(form.code)
        for procedure, code in (("", chain), (Procedure.AD_HOC, AD_HOC_CHAINS.get(chain))):
            template = templates.get(code)
            if template is None or (restricted and form.code not in new_forms and code not in new_templates):
                continue
            assignment, created = ChainAssignment.objects.get_or_create(
                award_form=form, procedure=procedure, defaults={"template": template}
            )
            if created:
                added.add(assignment)
