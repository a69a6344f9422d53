"""One decision for several approved cases: the product numbers it, gapless per issuer and year, and
signs it all or nothing; a weekend or holiday date needs confirming; the decisions' pages."""

from datetime import date

import pytest
from django.urls import reverse

from processes import errors, services
from processes.models import AwardDecision, Decision, DecisionCounter, Nomination, OrganisationUnit, Stage
from tests.factories import approve_until, make_nomination, open_step, submitted
from workflow.audit import audit_entries_for
from workflow.models import ApprovalTask

MONDAY = date(2026, 11, 23)
SUNDAY = date(2026, 11, 22)
NATIONAL_DAY = date(2026, 9, 2)  # a Wednesday
MAKE_UP_SATURDAY = date(2026, 8, 22)  # the government's make-up working Saturday
#: Statements of one page of the decisions list, whatever the number of decisions.
LIST_QUERIES = 20


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


# --- the screens -----------------------------------------------------------------------------------


def _choices(*nominations):
    return [f"{open_step(n).pk}:{Nomination.objects.get(pk=n.pk).version}" for n in nominations]


def test_my_work_links_the_signer_to_the_signing_page_listing_the_cases(client, org):
    first, second = at_signing(org), at_signing(org)
    submitted(org)  # at its first step: not awaiting a signature
    client.force_login(org.chairman)
    assert reverse("processes:decision-sign") in client.get(reverse("processes:my-work")).text
    page = client.get(reverse("processes:decision-sign"))
    assert [item.nomination.pk for item in page.context["awaiting"]] == [first.pk, second.pk]
    client.force_login(org.hospital_head)
    assert reverse("processes:decision-sign") not in client.get(reverse("processes:my-work")).text
    assert client.get(reverse("processes:decision-sign")).context["awaiting"] == []


def test_the_signer_confirms_and_signs_several_cases_on_one_decision(client, org):
    first, second = at_signing(org), at_signing(org)
    client.force_login(org.chairman)
    chosen = {"tasks": _choices(first, second), "signed_on": "23/11/2026"}
    confirm = client.get(reverse("processes:decision-sign-confirm"), chosen)
    assert confirm.status_code == 200
    assert [item.nomination.pk for item in confirm.context["chosen"]] == [first.pk, second.pk]
    assert not confirm.context["off_day"]
    response = client.post(reverse("processes:decision-sign-confirm"), chosen)
    document = AwardDecision.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("processes:decision-detail", args=[document.pk])
    assert (document.signed_on, document.awards.count()) == (MONDAY, 2)
    # The same form sent again signs nothing twice.
    again = client.post(reverse("processes:decision-sign-confirm"), chosen)
    assert again.status_code == 409
    assert "already decided" in again.text
    assert AwardDecision.objects.count() == 1


def test_a_sunday_is_signed_only_once_confirmed_on_the_page(client, org):
    nomination = at_signing(org)
    client.force_login(org.chairman)
    chosen = {"tasks": _choices(nomination), "signed_on": SUNDAY.isoformat()}
    confirm = client.get(reverse("processes:decision-sign-confirm"), chosen)
    assert confirm.context["off_day"]
    assert 'name="confirm_non_working_day"' in confirm.text
    refused = client.post(reverse("processes:decision-sign-confirm"), chosen)
    assert refused.status_code == 409
    assert "not a working day" in refused.text
    assert not AwardDecision.objects.exists()
    signed = client.post(reverse("processes:decision-sign-confirm"), {**chosen, "confirm_non_working_day": "on"})
    assert signed.status_code == 302
    assert AwardDecision.objects.get().signed_on == SUNDAY


def test_the_case_page_refuses_signing_on_a_day_off_until_confirmed(client, org, monkeypatch):
    monkeypatch.setattr("processes.services.signing.is_working_day", lambda day: False)
    monkeypatch.setattr("processes.views.is_working_day", lambda day: False)
    nomination = at_signing(org)
    task = open_step(nomination)
    client.force_login(org.chairman)
    url = reverse("processes:step-decide", args=[nomination.pk, task.pk])
    assert (
        'name="confirm_non_working_day"'
        in client.get(reverse("processes:nomination-detail", args=[nomination.pk])).text
    )
    refused = client.post(url, {"action": "approve", "expected_version": nomination.version})
    assert refused.status_code == 409
    assert not AwardDecision.objects.exists()
    signed = client.post(
        url, {"action": "approve", "expected_version": nomination.version, "confirm_non_working_day": "on"}
    )
    assert signed.status_code == 302
    assert Nomination.objects.get(pk=nomination.pk).decision.document.sequence == 1


def test_a_forged_or_someone_elses_step_refuses_the_whole_form(client, org):
    mine, theirs = at_signing(org), submitted(org)
    client.force_login(org.chairman)
    for tasks in (_choices(mine, theirs), [f"{open_step(mine).pk + 10_000}:1"], ["²:1"]):
        response = client.post(reverse("processes:decision-sign-confirm"), {"tasks": tasks, "signed_on": "23/11/2026"})
        assert response.status_code == 400
    assert not AwardDecision.objects.exists()
    assert Nomination.objects.get(pk=mine.pk).stage == Stage.SUMMARISE
    # The vice-chairman holds the same step: his own, not forged.
    client.force_login(org.director)
    response = client.post(
        reverse("processes:decision-sign-confirm"), {"tasks": _choices(mine), "signed_on": "23/11/2026"}
    )
    assert response.status_code == 400


def test_the_decision_page_shows_its_number_signer_and_awardees(client, org):
    first, second = at_signing(org), at_signing(org)
    document = sign(org, first, second, by=org.vice_chairman)
    client.force_login(org.hospital_head)  # sees both cases through the tree
    page = client.get(reverse("processes:decision-detail", args=[document.pk]))
    assert page.status_code == 200
    assert document.number in page.text
    assert "KT. CHỦ TỊCH / PHÓ CHỦ TỊCH" in page.text
    assert org.vice_chairman.get_full_name() in page.text
    assert first.nominee.name in page.text
    assert second.nominee.name in page.text
    assert "23/11/2026" in page.text


def test_a_decision_none_of_whose_awardees_the_user_sees_is_not_found(client, org):
    document = sign(org, at_signing(org))
    client.force_login(org.ward_head)
    assert client.get(reverse("processes:decision-detail", args=[document.pk])).status_code == 404
    assert client.get(reverse("processes:decision-detail", args=[document.pk + 1000])).status_code == 404
    assert document.number not in client.get(reverse("processes:decision-list")).text


def _decisions(org, count, *, unit):
    """``count`` numbered decisions of the city, each awarding one case proposed by ``unit``."""
    counter, _ = DecisionCounter.objects.get_or_create(issuer=org.city, year=2026)
    made = []
    for _ in range(count):
        counter.last_number += 1
        made.append(
            AwardDecision(
                issuer=org.city,
                year=2026,
                sequence=counter.last_number,
                symbol="QĐ-UBND",
                signed_on=MONDAY,
                signer=org.chairman,
            )
        )
    counter.save()
    made = AwardDecision.objects.bulk_create(made)
    Decision.objects.bulk_create(
        Decision(
            nomination=make_nomination(org, unit=unit),
            number=document.number,
            signed_on=MONDAY,
            signer=org.chairman,
            document=document,
        )
        for document in made
    )
    return made


@pytest.mark.parametrize("count", [10, 200])
def test_the_decisions_list_is_scoped_and_reads_a_constant_number_of_statements(
    client, org, count, django_assert_num_queries
):
    mine = _decisions(org, count, unit=org.hospital)
    hidden = _decisions(org, 1, unit=org.ward)[0]
    client.force_login(org.hospital_head)
    client.get(reverse("processes:decision-list"))  # the session and the user's scope warm up
    with django_assert_num_queries(LIST_QUERIES):
        page = client.get(reverse("processes:decision-list"))
    assert page.status_code == 200
    shown = [decision.pk for decision in page.context["page"].object_list]
    assert hidden.pk not in shown
    assert set(shown) <= {decision.pk for decision in mine}
    assert len(shown) == min(count, 50)
    assert page.context["page"].paginator.count == count
