"""Every transition, for every role, from every stage: the rules of the organisation tree."""

import pytest

from processes import errors, services
from processes.models import Decision, Nomination, Procedure, Stage
from tests.factories import approve_until, attach_file, make_nomination, open_step, submitted
from workflow.audit import audit_entries_for

ROLES = [
    "hospital_head",
    "hospital_deputy",
    "hospital_secretary",
    "hospital_member",
    "director",
    "department_secretary",
    "district_chairman",
    "ward_head",
    "board_officer",
    "council_member",
    "chairman",
    "vice_chairman",
    "outsider",
    "admin",
]
UNIT_HEADS = {"hospital_head", "hospital_deputy"}
UNIT_STAFF = UNIT_HEADS | {"hospital_secretary"}
CITY_DECIDERS = {"chairman", "vice_chairman"}
# The spec, written out independently of processes.permissions: for a city-level form proposed by
# the hospital (under the health department, under the city).
CITY_FORM_RULES = {
    ("start_cultivation", Stage.DISCOVER): UNIT_HEADS | {"admin"},
    ("submit", Stage.CULTIVATE): UNIT_STAFF | {"admin"},
    ("submit_simplified", Stage.DISCOVER): UNIT_STAFF | {"admin"},
    ("resubmit", Stage.RETURNED): UNIT_STAFF | {"admin"},
    ("close", Stage.REPLICATE): UNIT_STAFF | {"board_officer", "admin"},
    ("withdraw", Stage.DISCOVER): UNIT_HEADS | {"admin"},
    ("withdraw", Stage.CULTIVATE): UNIT_HEADS | {"admin"},
    ("withdraw", Stage.RETURNED): UNIT_HEADS | {"admin"},
}
# In summarise the case is decided on its open approval step, by whoever holds it (or an admin stepping
# in, with a reason, who never signs the award): (action, the open step) → who may. The hospital's head
# confirms first; the chairman decides last.
CITY_STEP_RULES = {
    ("return_for_completion", "unit_confirm"): {"hospital_head", "admin"},
    ("reject", "unit_confirm"): {"hospital_head", "admin"},
    ("return_for_completion", "board_intake"): {"board_officer", "admin"},
    ("reject", "proposer_submit"): {"director", "admin"},
    ("award", "chairman_decision"): CITY_DECIDERS,
    ("withdraw", "board_appraisal"): UNIT_HEADS | {"admin"},
}
TARGETS = {
    "start_cultivation": Stage.CULTIVATE,
    "submit": Stage.SUMMARISE,
    "submit_simplified": Stage.SUMMARISE,
    "return_for_completion": Stage.RETURNED,
    "resubmit": Stage.SUMMARISE,
    "reject": Stage.REJECTED,
    "award": Stage.REPLICATE,
    "close": Stage.CLOSED,
    "withdraw": Stage.WITHDRAWN,
}


def _put_in_stage(nomination, stage):
    # Test set-up only: the protected field is never assigned by product code.
    Nomination.objects.filter(pk=nomination.pk).update(stage=stage)
    return Nomination.objects.get(pk=nomination.pk)


def _act(nomination, user, action):
    return services.nomination_act(
        nomination=nomination,
        by=user,
        action=action,
        comment="Lý do kiểm thử",
        decision_number="123/QĐ-UBND",
    )


def _ready_nomination(org, *, award_form=None, procedure=Procedure.REGULAR):
    nomination = make_nomination(org, award_form=award_form, procedure=procedure)
    attach_file(nomination, org.report_type, user=org.hospital_secretary)
    return nomination


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("action", "stage"), list(CITY_FORM_RULES))
def test_city_form_transition_allowed_only_for_roles_the_tree_grants(org, role, action, stage):
    procedure = Procedure.AD_HOC if action == "submit_simplified" else Procedure.REGULAR
    nomination = _put_in_stage(_ready_nomination(org, procedure=procedure), stage)
    user = getattr(org, role)
    if role in CITY_FORM_RULES[(action, stage)]:
        moved = _act(nomination, user, action)
        assert moved.stage == TARGETS[action]
        assert Nomination.objects.get(pk=nomination.pk).stage == TARGETS[action]
    else:
        with pytest.raises(errors.PermissionDenied):
            _act(nomination, user, action)
        assert Nomination.objects.get(pk=nomination.pk).stage == stage


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("action", "step"), list(CITY_STEP_RULES))
def test_in_summarise_only_the_holder_of_the_open_step_decides(org, role, action, step):
    nomination = approve_until(submitted(org), step)
    user = getattr(org, role)
    if role in CITY_STEP_RULES[(action, step)]:
        assert _act(nomination, user, action).stage == TARGETS[action]
        assert open_step(nomination) is None
    else:
        with pytest.raises(errors.PermissionDenied):
            _act(nomination, user, action)
        assert Nomination.objects.get(pk=nomination.pk).stage == Stage.SUMMARISE
        assert open_step(nomination).step.code == step


UNIT_STEP_RULES = {
    # A unit-level form is decided by the department director; the city and the Board play no part.
    ("award", "level_decision"): {"director"},
    ("return_for_completion", "unit_confirm"): {"hospital_head", "admin"},
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("action", "step"), list(UNIT_STEP_RULES))
def test_unit_level_form_is_decided_by_the_department_not_the_city(org, role, action, step):
    nomination = approve_until(submitted(org, award_form=org.unit_form), step)
    user = getattr(org, role)
    if role in UNIT_STEP_RULES[(action, step)]:
        assert _act(nomination, user, action).stage == TARGETS[action]
    else:
        with pytest.raises(errors.PermissionDenied):
            _act(nomination, user, action)


@pytest.mark.parametrize("role", ROLES)
def test_a_unit_level_case_is_closed_by_its_unit(org, role):
    nomination = _put_in_stage(_ready_nomination(org, award_form=org.unit_form), Stage.REPLICATE)
    user = getattr(org, role)
    if role in UNIT_STAFF | {"admin"}:
        assert _act(nomination, user, "close").stage == Stage.CLOSED
    else:
        with pytest.raises(errors.PermissionDenied):
            _act(nomination, user, "close")


ALL_SOURCES = {action: {stage for (name, stage) in CITY_FORM_RULES if name == action} for action in TARGETS}
for _action in ("return_for_completion", "reject", "award", "withdraw"):
    ALL_SOURCES[_action].add(Stage.SUMMARISE)


@pytest.mark.parametrize(
    ("action", "stage"),
    [(action, stage) for action in TARGETS for stage in Stage.values if stage not in ALL_SOURCES[action]],
)
def test_transition_from_a_wrong_stage_is_refused_even_for_an_admin(org, action, stage):
    nomination = _put_in_stage(_ready_nomination(org, procedure=Procedure.AD_HOC), stage)
    with pytest.raises(errors.TransitionNotAllowed) as refused:
        _act(nomination, org.admin, action)
    assert Nomination.objects.get(pk=nomination.pk).stage == stage
    assert str(refused.value)  # a message the user can read


def test_each_transition_writes_exactly_one_audit_entry_with_actor_and_states(org):
    nomination = _ready_nomination(org)
    before = nomination.stage
    moved = services.nomination_start_cultivation(nomination=nomination, by=org.hospital_head)
    entries = list(audit_entries_for(moved))
    assert [entry.action for entry in entries] == ["processes.nomination.cultivation_started"]
    assert (entries[0].actor, entries[0].from_state, entries[0].to_state) == (org.hospital_head, before, "cultivate")


def test_nobody_acts_on_their_own_nomination(org):
    nomination = _ready_nomination(org)
    nomination.nominee.user = org.hospital_head
    nomination.nominee.save()
    with pytest.raises(errors.PermissionDenied):
        services.nomination_start_cultivation(nomination=nomination, by=org.hospital_head)
    assert services.nomination_start_cultivation(nomination=nomination, by=org.hospital_deputy).stage == "cultivate"


def test_award_records_the_decision_and_whether_it_was_signed_on_behalf(org):
    by_chairman = approve_until(submitted(org))
    by_vice = approve_until(submitted(org))
    services.nomination_award(nomination=by_chairman, by=org.chairman, decision_number="1/QĐ")
    services.nomination_award(nomination=by_vice, by=org.vice_chairman, decision_number="2/QĐ")
    by_chairman.refresh_from_db()
    by_vice.refresh_from_db()
    assert (by_chairman.decision.signer, by_chairman.decision.on_behalf) == (org.chairman, False)
    assert (by_vice.decision.signer, by_vice.decision.on_behalf) == (org.vice_chairman, True)


@pytest.mark.parametrize("action", ["return_for_completion", "reject", "withdraw"])
def test_returning_rejecting_and_withdrawing_need_a_reason(org, action):
    nomination = submitted(org)
    with pytest.raises(errors.DomainError):
        services.nomination_act(nomination=nomination, by=org.admin, action=action, comment="   ")
    assert Nomination.objects.get(pk=nomination.pk).stage == Stage.SUMMARISE


def test_award_without_a_decision_number_changes_nothing(org):
    nomination = approve_until(submitted(org))
    with pytest.raises(errors.DomainError):
        services.nomination_award(nomination=nomination, by=org.chairman, decision_number="")
    nomination.refresh_from_db()
    assert nomination.stage == Stage.SUMMARISE
    assert not Decision.objects.filter(nomination=nomination).exists()
