"""Who approves a step: each rule over the organisation tree, self-approval, delegation, and the
two dates (the structure of the case's start, the people of the task's day)."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from processes import errors
from processes.approvers import eligible_for_reassignment, resolve_approvers, template_for
from processes.models import ChainAssignment, Delegation, Membership, Procedure, Role, UnitKind, UnitLink
from tests.factories import NomineeFactory, UnitFactory, UserFactory, link, make_nomination, member
from workflow.models import ProcessTemplate, TemplateStep

pytestmark = pytest.mark.django_db

DAY = date(2026, 3, 2)
REFORM = date(2025, 7, 1)


def step(rule, param=""):
    """Resolution reads only the rule and its parameter; an unsaved step is enough."""
    return TemplateStep(code="s", name="s", approver_rule=rule, approver_param=param)


def resolve(nomination, rule, param="", *, structure_on=DAY, people_on=DAY):
    return resolve_approvers(
        nomination=nomination, step=step(rule, param), structure_on=structure_on, people_on=people_on
    )


def nominated(org, unit, user=None):
    return make_nomination(org, unit=unit, nominee=NomineeFactory(unit=unit, user=user))


# --- the rules ----------------------------------------------------------------------------------


def test_subject_unit_head_is_the_head_of_the_proposing_unit(org):
    assignment = resolve(nominated(org, org.hospital), "subject_unit_head")
    assert assignment.users == [org.hospital_head]
    assert assignment.unit == org.hospital
    assert assignment.on_behalf_of is None
    assert "head of HP.SYT.BV" in assignment.reason


def test_ancestor_head_is_the_head_of_the_nearest_unit_above_of_the_given_kinds(org):
    assert resolve(nominated(org, org.hospital), "ancestor_head", "department,district").users == [org.director]
    ward_case = resolve(nominated(org, org.ward), "ancestor_head", "department,district")
    assert (ward_case.users, ward_case.unit) == ([org.district_chairman], org.district)


def test_ancestor_head_never_takes_the_unit_itself(org):
    # The department proposes for its own staff: no department *above* it, so nobody.
    with pytest.raises(errors.NoApprover, match="ancestor_head"):
        resolve(nominated(org, org.department), "ancestor_head", "department")


def test_unit_members_of_a_kind_are_every_member_of_those_units_whatever_the_role(org):
    second = UserFactory(username="board_head")
    member(second, org.board, Role.HEAD, valid_from=date(2020, 1, 1))
    assignment = resolve(nominated(org, org.hospital), "unit_members", "board")
    assert assignment.users == [second, org.board_officer]  # the unit's head first
    assert assignment.unit == org.board
    by_code = resolve(nominated(org, org.hospital), "unit_members", "HP.SNV.BTDKT")
    assert by_code.users == assignment.users


def test_unit_members_above_are_the_members_of_the_deciding_level(org):
    assignment = resolve(nominated(org, org.hospital), "unit_members", "above:department,district,commune")
    assert assignment.users == [org.director, org.department_secretary]
    assert assignment.unit == org.department


def test_unit_members_leave_out_whoever_has_left_the_unit_by_the_task_day(org):
    Membership.objects.filter(user=org.board_officer).update(valid_to=date(2026, 1, 1))
    newcomer = UserFactory(username="new_officer")
    member(newcomer, org.board, Role.MEMBER, valid_from=date(2026, 1, 1))
    assert resolve(nominated(org, org.hospital), "unit_members", "board").users == [newcomer]


def test_council_is_the_city_council_or_the_council_of_a_given_level(org):
    assert resolve(nominated(org, org.hospital), "council").users == [org.council_member]
    level_council = UnitFactory(code="HP.SYT.HD", name="Hội đồng TĐKT Sở Y tế", kind=UnitKind.COUNCIL)
    link(level_council, org.department, valid_from=date(2020, 1, 1))
    level_member = UserFactory(username="health_council")
    member(level_member, level_council, Role.MEMBER, valid_from=date(2020, 1, 1))
    assignment = resolve(nominated(org, org.hospital), "council", "department,district")
    assert (assignment.users, assignment.unit) == ([level_member], level_council)


def test_city_chairman_comes_first_and_the_vice_chairmen_may_sign_on_his_behalf(org):
    assignment = resolve(nominated(org, org.ward), "city_chairman")
    assert assignment.users == [org.chairman, org.vice_chairman]
    assert assignment.unit == org.city
    assert assignment.on_behalf_of is None


# --- nobody decides on their own nomination ----------------------------------------------------


def test_a_head_who_is_the_nominee_is_replaced_by_the_deputy(org):
    assignment = resolve(nominated(org, org.hospital, user=org.hospital_head), "subject_unit_head")
    assert assignment.users == [org.hospital_deputy]
    assert assignment.on_behalf_of == org.hospital_head
    assert "nominee" in assignment.reason


def test_without_a_deputy_the_parent_units_head_decides(org):
    assignment = resolve(nominated(org, org.ward, user=org.ward_head), "subject_unit_head")
    assert assignment.users == [org.district_chairman]
    assert assignment.unit == org.ward
    assert assignment.on_behalf_of == org.ward_head
    assert "HP.LC" in assignment.reason


def test_the_nominated_chairman_leaves_the_decision_to_the_vice_chairman(org):
    assignment = resolve(nominated(org, org.ward, user=org.chairman), "city_chairman")
    assert assignment.users == [org.vice_chairman]
    assert assignment.on_behalf_of == org.chairman


def test_a_group_simply_drops_the_nominee(org):
    other = UserFactory(username="second_officer")
    member(other, org.board, Role.MEMBER, valid_from=date(2020, 1, 1))
    assignment = resolve(nominated(org, org.board, user=org.board_officer), "unit_members", "board")
    assert assignment.users == [other]
    assert "left out" in assignment.reason


def test_a_group_of_only_the_nominee_has_no_approver(org):
    with pytest.raises(errors.NoApprover):
        resolve(nominated(org, org.hospital, user=org.council_member), "council")


# --- delegation ---------------------------------------------------------------------------------


@pytest.fixture
def leave(org):
    return Delegation.objects.create(
        delegator=org.hospital_head,
        delegate=org.hospital_deputy,
        unit=org.hospital,
        valid_from=date(2026, 3, 1),
        valid_to=date(2026, 3, 15),
        reason="Nghỉ phép",
    )


def test_a_task_made_during_a_delegation_goes_to_the_delegate_on_the_heads_behalf(org, leave):
    assignment = resolve(nominated(org, org.hospital), "subject_unit_head", people_on=date(2026, 3, 1))
    assert assignment.users == [org.hospital_deputy]
    assert assignment.on_behalf_of == org.hospital_head
    assert f"delegation #{leave.pk}" in assignment.reason


@pytest.mark.parametrize("day", [date(2026, 2, 28), date(2026, 3, 15)])
def test_a_task_made_outside_the_delegation_stays_with_the_head(org, leave, day):
    assignment = resolve(nominated(org, org.hospital), "subject_unit_head", people_on=day)
    assert assignment.users == [org.hospital_head]
    assert assignment.on_behalf_of is None


def test_a_delegation_is_refused_to_oneself_and_to_someone_outside_the_unit(org):
    to_self = Delegation(delegator=org.hospital_head, delegate=org.hospital_head, unit=org.hospital, valid_from=DAY)
    with pytest.raises(ValidationError, match="themselves"):
        to_self.full_clean()
    outside = Delegation(delegator=org.hospital_head, delegate=org.outsider, unit=org.hospital, valid_from=DAY)
    with pytest.raises(ValidationError, match="belong to the unit"):
        outside.full_clean()
    not_head = Delegation(
        delegator=org.hospital_secretary, delegate=org.hospital_deputy, unit=org.hospital, valid_from=DAY
    )
    with pytest.raises(ValidationError, match="Only the head"):
        not_head.full_clean()
    Delegation(
        delegator=org.hospital_head, delegate=org.hospital_deputy, unit=org.hospital, valid_from=DAY
    ).full_clean()


# --- reorganisation: structure of the start date, people of the task's day ---------------------


@pytest.fixture
def reform(org):
    """From 2025-07-01 the ward hangs under a new commune reporting straight to the city; the
    district chairman is replaced on 2025-08-01 (the old route still has a person to ask)."""
    commune = UnitFactory(code="HP.PLCH", name="Phường Lê Chân", kind=UnitKind.COMMUNE)
    link(commune, org.city, valid_from=REFORM)
    UnitLink.objects.filter(unit=org.ward).update(valid_to=REFORM)
    link(org.ward, commune, valid_from=REFORM)
    commune_chairman = UserFactory(username="commune_chairman")
    member(commune_chairman, commune, Role.HEAD, valid_from=REFORM)
    Membership.objects.filter(user=org.district_chairman).update(valid_to=date(2025, 8, 1))
    new_district_chairman = UserFactory(username="new_district_chairman")
    member(new_district_chairman, org.district, Role.HEAD, valid_from=date(2025, 8, 1))
    return {"commune": commune, "commune_chairman": commune_chairman, "new_district_chairman": new_district_chairman}


def test_cases_started_before_and_after_the_reorganisation_climb_different_trees(org, reform):
    nomination = nominated(org, org.ward)
    kinds = "department,district,commune"
    before = resolve(nomination, "ancestor_head", kinds, structure_on=date(2025, 6, 30), people_on=date(2025, 7, 10))
    after = resolve(nomination, "ancestor_head", kinds, structure_on=REFORM, people_on=date(2025, 7, 10))
    assert (before.unit, before.users) == (org.district, [org.district_chairman])
    assert (after.unit, after.users) == (reform["commune"], [reform["commune_chairman"]])


def test_the_old_route_asks_whoever_holds_the_role_on_the_task_day(org, reform):
    nomination = nominated(org, org.ward)
    later = resolve(
        nomination, "ancestor_head", "department,district", structure_on=date(2025, 6, 30), people_on=date(2025, 9, 1)
    )
    assert (later.unit, later.users) == (org.district, [reform["new_district_chairman"]])


def test_the_2021_rule_finds_nobody_in_the_2025_tree(org, reform):
    with pytest.raises(errors.NoApprover, match="Phường Trại Cau"):
        resolve(nominated(org, org.ward), "ancestor_head", "department,district", structure_on=REFORM)


# --- nobody to ask ------------------------------------------------------------------------------


def test_a_unit_without_a_head_raises_no_approver_naming_the_unit_and_the_rule(org):
    Membership.objects.filter(user=org.hospital_head).update(valid_to=date(2026, 1, 1))
    with pytest.raises(errors.NoApprover) as refused:
        resolve(nominated(org, org.hospital), "subject_unit_head")
    assert refused.value.unit == org.hospital
    assert "Bệnh viện Việt Tiệp" in str(refused.value)
    assert "subject_unit_head" in str(refused.value)


def test_an_unknown_kind_in_the_parameter_is_refused(org):
    with pytest.raises(errors.NoApprover, match="no known unit kind"):
        resolve(nominated(org, org.hospital), "ancestor_head", "province")


# --- reassignment ------------------------------------------------------------------------------


def test_eligible_for_reassignment_are_the_resolved_users_the_head_and_the_deputies_never_the_nominee(org, leave):
    nomination = nominated(org, org.hospital)
    plain = eligible_for_reassignment(
        nomination=nomination, step=step("subject_unit_head"), structure_on=DAY, people_on=date(2026, 4, 1)
    )
    assert plain == [org.hospital_head, org.hospital_deputy]

    second_deputy = UserFactory(username="second_deputy")
    member(second_deputy, org.hospital, Role.DEPUTY, valid_from=date(2020, 1, 1))
    delegated = eligible_for_reassignment(
        nomination=nomination, step=step("subject_unit_head"), structure_on=DAY, people_on=date(2026, 3, 5)
    )
    assert delegated == [org.hospital_deputy, org.hospital_head, second_deputy]

    own = nominated(org, org.hospital, user=org.hospital_deputy)
    assert org.hospital_deputy not in eligible_for_reassignment(
        nomination=own, step=step("subject_unit_head"), structure_on=DAY, people_on=date(2026, 4, 1)
    )


def test_a_headless_unit_still_offers_its_deputies_for_reassignment(org):
    Membership.objects.filter(user=org.hospital_head).update(valid_to=date(2026, 1, 1))
    eligible = eligible_for_reassignment(
        nomination=nominated(org, org.hospital), step=step("subject_unit_head"), structure_on=DAY, people_on=DAY
    )
    assert eligible == [org.hospital_deputy]


# --- which template -----------------------------------------------------------------------------


def test_template_for_prefers_the_exact_procedure_then_the_forms_default(org):
    ChainAssignment.objects.all().delete()
    regular = ProcessTemplate.objects.create(code="regular", name="Thông thường")
    simplified = ProcessTemplate.objects.create(code="simplified", name="Đơn giản")
    ChainAssignment.objects.create(award_form=org.city_form, procedure="", template=regular)
    ChainAssignment.objects.create(award_form=org.city_form, procedure=Procedure.AD_HOC, template=simplified)

    assert template_for(nomination=make_nomination(org, procedure=Procedure.AD_HOC)) == simplified
    assert template_for(nomination=make_nomination(org, procedure=Procedure.THEMATIC)) == regular
    with pytest.raises(errors.NoChain, match="No approval chain"):
        template_for(nomination=make_nomination(org, award_form=org.unit_form))
