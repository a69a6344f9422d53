"""One decision for several approved cases: the product numbers it, gapless per issuer and year, and
signs it all or nothing; a weekend or holiday date needs confirming; the decisions' pages."""

from datetime import date

import pytest

from processes import errors, services
from processes.models import AwardDecision, Decision, DecisionCounter, Nomination, OrganisationUnit, Stage
from tests.factories import approve_until, open_step, submitted
from workflow.audit import audit_entries_for
from workflow.models import ApprovalTask

MONDAY = date(2026, 11, 23)
SUNDAY = date(2026, 11, 22)
NATIONAL_DAY = date(2026, 9, 2)  # a Wednesday
MAKE_UP_SATURDAY = date(2026, 8, 22)  # the government's make-up working Saturday


def at_signing(org, **kwargs):
    """A case approved up to its last step: the chairman's signature (chairman and vice-chairman hold it)."""
    return approve_until(submitted(org, **kwargs))


def sign(org, *nominations, by=None, on=MONDAY, **kwargs) -> AwardDecision:
    return services.decision_sign(
        by=by or org.chairman, task_ids=[open_step(n).pk for n in nominations], signed_on=on, **kwargs
    )


def test_several_cases_are_awarded_on_one_numbered_decision(org):
    org.city.decision_symbol = "QĐ-UBND"
    org.city.save()
    first, second, third = at_signing(org), at_signing(org), at_signing(org)
    document = sign(org, first, second, third)
    assert (document.number, document.issuer, document.year, document.signed_on) == (
        "1/QĐ-UBND",
        org.city,
        2026,
        MONDAY,
    )
    assert (document.signer, document.on_behalf) == (org.chairman, False)
    awards = Decision.objects.filter(document=document).order_by("nomination_id")
    assert [award.nomination_id for award in awards] == [first.pk, second.pk, third.pk]
    assert {(award.number, award.signed_on, award.signer_id) for award in awards} == {
        ("1/QĐ-UBND", MONDAY, org.chairman.pk)
    }
    assert set(Nomination.objects.filter(pk__in=[first.pk, second.pk, third.pk]).values_list("stage", flat=True)) == {
        Stage.REPLICATE
    }
    entry = audit_entries_for(first).get(action="processes.nomination.awarded")
    assert (entry.data["decision_number"], entry.data["award_decision"]) == ("1/QĐ-UBND", document.pk)
    assert DecisionCounter.objects.get(issuer=org.city, year=2026).last_number == 1


def test_an_issuer_without_a_symbol_uses_the_default_symbol(org, settings):
    settings.DECISION_SYMBOL_DEFAULT = "QĐ-UBND"
    assert sign(org, at_signing(org)).number == "1/QĐ-UBND"


def test_numbers_follow_each_other_per_issuer_and_restart_each_year(org):
    numbers = [sign(org, at_signing(org), on=day).sequence for day in (date(2025, 12, 30), date(2025, 12, 31))]
    numbers += [sign(org, at_signing(org), on=day).sequence for day in (date(2026, 1, 5), MONDAY)]
    assert numbers == [1, 2, 1, 2]
    # Another issuer numbers on its own: the district's chairman signs its certificates.
    other = OrganisationUnit.objects.create(code="HP.X", name="Quận X", kind="district", decision_symbol="QĐ-UBND")
    counter = DecisionCounter.objects.create(issuer=other, year=2026, last_number=40)
    assert sign(org, at_signing(org)).sequence == 3
    counter.refresh_from_db()
    assert counter.last_number == 40


def test_a_case_that_fails_signs_nothing_and_the_number_is_given_again(org):
    good, stale = at_signing(org), at_signing(org)
    Nomination.objects.filter(pk=stale.pk).update(version=stale.version + 5)
    tasks = {open_step(good).pk: good.version, open_step(stale).pk: stale.version}
    with pytest.raises(errors.DomainError) as refused:
        services.decision_sign(by=org.chairman, task_ids=list(tasks), signed_on=MONDAY, expected_versions=tasks)
    assert stale.nominee.name in str(refused.value)
    assert "Nothing was signed" in str(refused.value)
    assert not AwardDecision.objects.exists()
    assert not Decision.objects.exists()
    assert Nomination.objects.get(pk=good.pk).stage == Stage.SUMMARISE
    assert not DecisionCounter.objects.filter(last_number__gt=0).exists()
    assert sign(org, good).sequence == 1


def test_a_step_not_held_by_the_signer_is_refused_by_name(org):
    mine, not_at_signing = at_signing(org), submitted(org)
    with pytest.raises(errors.DomainError) as refused:
        sign(org, mine, not_at_signing)
    assert not_at_signing.nominee.name in str(refused.value)
    with pytest.raises(errors.DomainError):
        sign(org, mine, by=org.director)  # holds nothing here
    with pytest.raises(errors.DomainError):
        sign(org, mine, by=org.admin)  # an administrator never signs the award
    assert not AwardDecision.objects.exists()
    assert Nomination.objects.get(pk=mine.pk).stage == Stage.SUMMARISE


def test_a_step_already_signed_is_not_signed_twice(org):
    nomination = at_signing(org)
    task_id = open_step(nomination).pk
    services.decision_sign(by=org.chairman, task_ids=[task_id], signed_on=MONDAY)
    with pytest.raises(errors.DomainError) as refused:
        services.decision_sign(by=org.chairman, task_ids=[task_id], signed_on=MONDAY)
    assert "already decided" in str(refused.value)
    assert AwardDecision.objects.count() == 1
    assert DecisionCounter.objects.get().last_number == 1


@pytest.mark.parametrize("day", [SUNDAY, NATIONAL_DAY])
def test_a_sunday_or_a_holiday_needs_the_signers_confirmation(org, day):
    nomination = at_signing(org)
    with pytest.raises(services.NonWorkingDay):
        sign(org, nomination, on=day)
    assert not AwardDecision.objects.exists()
    assert sign(org, nomination, on=day, confirm_non_working_day=True).signed_on == day


def test_a_make_up_saturday_is_a_working_day(org):
    assert sign(org, at_signing(org), on=MAKE_UP_SATURDAY).signed_on == MAKE_UP_SATURDAY


def test_a_date_in_the_future_is_refused(org):
    with pytest.raises(errors.DomainError):
        sign(org, at_signing(org), on=date(2999, 1, 5))


def test_a_vice_chairman_signs_on_the_chairmans_behalf(org):
    first, second = at_signing(org), at_signing(org)
    document = sign(org, first, second, by=org.vice_chairman)
    assert (document.signer, document.on_behalf) == (org.vice_chairman, True)
    assert set(Decision.objects.filter(document=document).values_list("on_behalf", flat=True)) == {True}


def test_a_decision_signed_outside_the_product_keeps_its_typed_number_without_a_document(org):
    nomination = services.nomination_award(nomination=at_signing(org), by=org.chairman, decision_number="77/QĐ-UBND")
    assert (nomination.decision.number, nomination.decision.document) == ("77/QĐ-UBND", None)
    assert not DecisionCounter.objects.exists()


def test_a_case_of_another_issuer_is_refused_by_name(org):
    city_case, other_case = at_signing(org), at_signing(org)
    ApprovalTask.objects.filter(pk=open_step(other_case).pk).update(unit_id=org.district.pk)
    with pytest.raises(errors.DomainError) as refused:
        sign(org, city_case, other_case)
    assert other_case.nominee.name in str(refused.value)
    assert not AwardDecision.objects.exists()
