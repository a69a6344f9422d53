"""The conditions on entering summarise and replicate, each on its own."""

import pytest

from processes import errors, services
from processes.models import (
    DocumentType,
    EligibilityRule,
    Nomination,
    PriorAward,
    Procedure,
    RequiredDocument,
    Stage,
)
from tests.factories import AwardFormFactory, NomineeFactory, attach_file, make_nomination


def _in_stage(nomination, stage):
    Nomination.objects.filter(pk=nomination.pk).update(stage=stage)
    return Nomination.objects.get(pk=nomination.pk)


@pytest.fixture
def cultivating(org):
    return _in_stage(make_nomination(org), Stage.CULTIVATE)


def test_submit_needs_the_achievement_report(org, cultivating):
    with pytest.raises(errors.TransitionNotAllowed) as refused:
        services.nomination_submit(nomination=cultivating, by=org.hospital_head)
    assert "achievement report" in str(refused.value)
    attach_file(cultivating, org.report_type, user=org.hospital_secretary)
    assert services.nomination_submit(nomination=cultivating, by=org.hospital_head).stage == Stage.SUMMARISE


def test_submit_needs_every_document_the_award_form_requires(org, cultivating):
    minutes = DocumentType.objects.create(code="minutes", name="Biên bản họp hội đồng")
    RequiredDocument.objects.create(award_form=cultivating.award_form, document_type=minutes)
    attach_file(cultivating, org.report_type, user=org.hospital_secretary)
    with pytest.raises(errors.TransitionNotAllowed) as refused:
        services.nomination_submit(nomination=cultivating, by=org.hospital_head)
    assert "Biên bản họp hội đồng" in str(refused.value)
    attach_file(cultivating, minutes, user=org.hospital_secretary)
    assert services.nomination_submit(nomination=cultivating, by=org.hospital_head).stage == Stage.SUMMARISE


def test_resubmit_checks_the_same_documents(org):
    returned = _in_stage(make_nomination(org), Stage.RETURNED)
    with pytest.raises(errors.TransitionNotAllowed):
        services.nomination_resubmit(nomination=returned, by=org.hospital_secretary)
    attach_file(returned, org.report_type, user=org.hospital_secretary)
    assert services.nomination_resubmit(nomination=returned, by=org.hospital_secretary).stage == Stage.SUMMARISE


@pytest.mark.parametrize("flag", ["pending_discipline", "under_investigation", "pending_complaint"])
def test_pending_proceedings_block_entering_summarise(org, cultivating, flag):
    attach_file(cultivating, org.report_type, user=org.hospital_secretary)
    setattr(cultivating.nominee, flag, True)
    cultivating.nominee.save()
    with pytest.raises(errors.TransitionNotAllowed) as refused:
        services.nomination_submit(nomination=cultivating, by=org.hospital_head)
    assert "152/2025" in str(refused.value)
    assert Nomination.objects.get(pk=cultivating.pk).stage == Stage.CULTIVATE


@pytest.mark.parametrize("flag", ["pending_discipline", "under_investigation", "pending_complaint"])
def test_pending_proceedings_raised_during_approval_block_the_award(org, flag):
    nomination = _in_stage(make_nomination(org), Stage.SUMMARISE)
    setattr(nomination.nominee, flag, True)
    nomination.nominee.save()
    with pytest.raises(errors.TransitionNotAllowed):
        services.nomination_award(nomination=nomination, by=org.chairman, decision_number="9/QĐ")
    assert Nomination.objects.get(pk=nomination.pk).stage == Stage.SUMMARISE


def test_only_ad_hoc_cases_may_skip_cultivation(org):
    regular = make_nomination(org, procedure=Procedure.REGULAR)
    ad_hoc = make_nomination(org, procedure=Procedure.AD_HOC)
    for nomination in (regular, ad_hoc):
        attach_file(nomination, org.report_type, user=org.hospital_secretary)
    with pytest.raises(errors.TransitionNotAllowed) as refused:
        services.nomination_submit(nomination=regular, by=org.hospital_head)
    assert "simplified" in str(refused.value)
    assert services.nomination_submit(nomination=ad_hoc, by=org.hospital_head).stage == Stage.SUMMARISE


def test_a_blocking_eligibility_rule_is_enforced_and_a_warning_rule_is_not(org, cultivating):
    grassroots = AwardFormFactory(code="CSTD_CS")
    attach_file(cultivating, org.report_type, user=org.hospital_secretary)
    rule = EligibilityRule.objects.create(
        award_form=cultivating.award_form,
        kind=EligibilityRule.Kind.PRIOR_AWARD_STREAK,
        required_form=grassroots,
        years=3,
        enforcement=EligibilityRule.Enforcement.BLOCK,
        description="3 năm liên tục Chiến sĩ thi đua cơ sở",
    )
    PriorAward.objects.create(nominee=cultivating.nominee, award_form=grassroots, year=2024)
    PriorAward.objects.create(nominee=cultivating.nominee, award_form=grassroots, year=2025)
    with pytest.raises(errors.TransitionNotAllowed) as refused:
        services.nomination_submit(nomination=cultivating, by=org.hospital_head)
    assert "3 năm liên tục" in str(refused.value)

    rule.enforcement = EligibilityRule.Enforcement.WARN
    rule.save()
    assert services.nomination_submit(nomination=cultivating, by=org.hospital_head).stage == Stage.SUMMARISE


def test_a_complete_streak_of_earlier_awards_meets_the_rule(org, cultivating):
    grassroots = AwardFormFactory(code="CSTD_CS")
    attach_file(cultivating, org.report_type, user=org.hospital_secretary)
    EligibilityRule.objects.create(
        award_form=cultivating.award_form,
        kind=EligibilityRule.Kind.PRIOR_AWARD_STREAK,
        required_form=grassroots,
        years=3,
        enforcement=EligibilityRule.Enforcement.BLOCK,
    )
    for year in (2023, 2024, 2025):
        PriorAward.objects.create(nominee=cultivating.nominee, award_form=grassroots, year=year)
    assert services.nomination_submit(nomination=cultivating, by=org.hospital_head).stage == Stage.SUMMARISE


def test_an_award_form_is_not_given_to_a_kind_of_nominee_it_excludes(org):
    individuals_only = AwardFormFactory(code="CSTD_TP", for_collective=False, for_household=False)
    collective = NomineeFactory(
        unit=org.hospital, kind="collective", name="Khoa Hồi sức tích cực", id_number="", category="", gender=""
    )
    with pytest.raises(errors.DomainError) as refused:
        services.nomination_create(
            by=org.hospital_secretary, campaign=org.campaign, award_form=individuals_only, nominee=collective
        )
    assert "kind of nominee" in str(refused.value)
    assert not Nomination.objects.exists()
