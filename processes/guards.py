"""Conditions on the nomination's transitions, each with the message a user sees when it fails.

django-fsm-2 calls each guard with the nomination; services call ``explain`` to say why a
transition is unavailable. Guards read related rows through the nomination and name the domain's vocabularies
(``processes.choices``), so this module imports no model and models can import it.
"""

from __future__ import annotations

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from processes.choices import ACHIEVEMENT_REPORT, CollectiveType, EligibilityKind, Enforcement, NomineeKind


class Guard:
    def __init__(self, check, message):
        self.check = check
        self.message = message
        self.__name__ = check.__name__

    def __call__(self, nomination) -> bool:
        return bool(self.check(nomination))

    def explain(self, nomination):
        detail = getattr(self.check, "detail", None)
        return format_lazy("{} {}", self.message, detail(nomination)) if detail else self.message


def guard(message):
    def wrap(check):
        return Guard(check, message)

    return wrap


def _uploaded_codes(nomination) -> set[str]:
    return set(nomination.files.kept().values_list("document_type__code", flat=True))


def _missing_documents(nomination) -> list[str]:
    required = nomination.award_form.required_documents.select_related("document_type")
    uploaded = _uploaded_codes(nomination)
    return [item.document_type.name for item in required if item.document_type.code not in uploaded]


@guard(_("The achievement report has not been uploaded."))
def has_achievement_report(nomination) -> bool:
    return nomination.files.kept().filter(document_type__code=ACHIEVEMENT_REPORT).exists()


def _required_documents_present(nomination) -> bool:
    return not _missing_documents(nomination)


_required_documents_present.detail = lambda nomination: ", ".join(_missing_documents(nomination))
has_required_documents = Guard(_required_documents_present, _("Documents required by this award form are missing:"))


@guard(
    _(
        "The nominee has a pending discipline, investigation or unresolved complaint "
        "(Decree 152/2025/ND-CP): no award until it is resolved."
    )
)
def nominee_clear(nomination) -> bool:
    return not nomination.nominee.has_pending_proceedings


@guard(_("This award form is not given to this kind of nominee."))
def nominee_kind_accepted(nomination) -> bool:
    return award_form_accepts(nomination.award_form, nomination.nominee)


def award_form_accepts(award_form, nominee) -> bool:
    if nominee.kind == NomineeKind.INDIVIDUAL:
        return award_form.for_individual
    if nominee.collective_type == CollectiveType.HOUSEHOLD:
        return award_form.for_household
    return award_form.for_collective


def unmet_eligibility_rules(nomination, *, enforcement: str):
    """The form's eligibility rules of the given enforcement that the nominee does not meet."""
    rules = nomination.award_form.eligibility_rules.filter(enforcement=enforcement).select_related("required_form")
    unmet = []
    for rule in rules:
        # A streak without its earlier form cannot be evaluated; saving one is refused (the model's
        # constraint), so none should exist: never let one block every case.
        if rule.kind == EligibilityKind.PRIOR_AWARD_STREAK and rule.required_form_id is None:
            continue
        if rule.kind == EligibilityKind.PRIOR_AWARD_STREAK and not _has_streak(nomination, rule):
            unmet.append(rule)
    return unmet


def _has_streak(nomination, rule) -> bool:
    """``rule.years`` consecutive awards of ``rule.required_form``, the streak ending in the
    campaign's year or the year before (which of the two the law means is uncertain)."""
    years = set(nomination.nominee.prior_awards.filter(award_form=rule.required_form).values_list("year", flat=True))
    campaign_year = nomination.campaign.period_end.year
    for last in (campaign_year, campaign_year - 1):
        if all(last - offset in years for offset in range(rule.years)):
            return True
    return False


def _eligible(nomination) -> bool:
    return not unmet_eligibility_rules(nomination, enforcement=Enforcement.BLOCK)


_eligible.detail = lambda nomination: "; ".join(
    rule.description or str(rule) for rule in unmet_eligibility_rules(nomination, enforcement=Enforcement.BLOCK)
)
eligibility_met = Guard(_eligible, _("The nominee does not meet the award form's eligibility rules:"))


@guard(_("Only ad-hoc achievements may go straight from discover to summarise (simplified procedure)."))
def simplified_procedure(nomination) -> bool:
    return nomination.is_simplified


ENTER_SUMMARISE = [
    nominee_kind_accepted,
    has_achievement_report,
    has_required_documents,
    nominee_clear,
    eligibility_met,
]
ENTER_REPLICATE = [nominee_clear]
