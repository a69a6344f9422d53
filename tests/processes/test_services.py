"""Creation, duplicates, edits and races: nothing lost, nothing doubled, nothing half-saved."""

import threading

import pytest
from django.db import IntegrityError, connection, transaction

from processes import errors, services
from processes.models import Nomination, Stage
from tests.factories import NomineeFactory, attach_file, make_nomination
from workflow.audit import audit_entries_for


def _create(org, nominee, **extra):
    return services.nomination_create(
        by=org.hospital_secretary, campaign=org.campaign, award_form=org.city_form, nominee=nominee, **extra
    )


def test_create_writes_the_nomination_and_its_first_audit_entry(org):
    nomination = _create(org, NomineeFactory(unit=org.hospital))
    assert nomination.stage == Stage.DISCOVER
    assert nomination.unit == org.hospital
    assert [entry.action for entry in audit_entries_for(nomination)] == ["processes.nomination.created"]


def test_only_staff_of_the_proposing_unit_may_create(org):
    nominee = NomineeFactory(unit=org.hospital)
    for outsider in (org.hospital_member, org.ward_head, org.outsider):
        with pytest.raises(errors.PermissionDenied):
            services.nomination_create(by=outsider, campaign=org.campaign, award_form=org.city_form, nominee=nominee)
    assert not Nomination.objects.exists()


def test_second_open_nomination_for_the_same_nominee_form_and_campaign_is_refused(org):
    nominee = NomineeFactory(unit=org.hospital)
    first = _create(org, nominee)
    with pytest.raises(errors.DuplicateNomination):
        _create(org, nominee)
    assert Nomination.objects.count() == 1
    assert audit_entries_for(first).count() == 1

    services.nomination_withdraw(nomination=first, by=org.hospital_head, reason="Hồ sơ lập nhầm")
    again = _create(org, nominee)
    assert again.pk != first.pk


def test_the_database_itself_refuses_a_duplicate_open_nomination(org):
    nomination = make_nomination(org)
    with pytest.raises(IntegrityError), transaction.atomic():
        make_nomination(org, nominee=nomination.nominee)


def test_a_stale_edit_is_refused_and_the_first_edit_survives(org):
    first_tab = make_nomination(org)
    second_tab = Nomination.objects.get(pk=first_tab.pk)
    services.nomination_update(nomination=first_tab, by=org.hospital_secretary, achievement_summary="Bản của A")
    with pytest.raises(errors.StaleObject) as refused:
        services.nomination_update(nomination=second_tab, by=org.hospital_head, achievement_summary="Bản của B")
    assert org.hospital_secretary.get_full_name() in str(refused.value)  # says who changed it
    assert Nomination.objects.get(pk=first_tab.pk).achievement_summary == "Bản của A"


def test_a_stale_transition_is_refused_not_repeated(org):
    first_tab = make_nomination(org)
    second_tab = Nomination.objects.get(pk=first_tab.pk)
    services.nomination_start_cultivation(nomination=first_tab, by=org.hospital_head)
    with pytest.raises(errors.StaleObject):
        services.nomination_start_cultivation(nomination=second_tab, by=org.hospital_deputy)
    assert audit_entries_for(first_tab).filter(action="processes.nomination.cultivation_started").count() == 1


def test_an_edit_after_a_transition_the_editor_never_saw_is_refused(org):
    nomination = make_nomination(org)
    stale = Nomination.objects.get(pk=nomination.pk)
    services.nomination_start_cultivation(nomination=nomination, by=org.hospital_head)
    with pytest.raises(errors.StaleObject):
        services.nomination_update(nomination=stale, by=org.hospital_secretary, mentor="BS. Trần Thị Hoa")
    assert Nomination.objects.get(pk=nomination.pk).mentor == ""


def test_editing_fields_outside_the_dossier_text_is_refused(org):
    nomination = make_nomination(org)
    with pytest.raises(ValueError, match="not editable"):
        services.nomination_update(nomination=nomination, by=org.hospital_secretary, stage="replicate")


def test_a_failed_audit_append_rolls_the_transition_back(org, monkeypatch):
    nomination = make_nomination(org)

    def broken_append(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services.nominations, "audit_append", broken_append)
    with pytest.raises(RuntimeError):
        services.nomination_start_cultivation(nomination=nomination, by=org.hospital_head)
    current = Nomination.objects.get(pk=nomination.pk)
    assert (current.stage, current.version) == (Stage.DISCOVER, 1)


@pytest.mark.postgres
def test_concurrent_submissions_of_one_nomination_yield_exactly_one(org):
    nomination = make_nomination(org)
    Nomination.objects.filter(pk=nomination.pk).update(stage=Stage.CULTIVATE)
    attach_file(nomination, org.report_type, user=org.hospital_secretary)
    version = Nomination.objects.get(pk=nomination.pk).version
    start = threading.Barrier(8)
    outcomes = []

    def submit(user):
        try:
            start.wait()
            copy = Nomination.objects.get(pk=nomination.pk)
            services.nomination_submit(nomination=copy, by=user, expected_version=version)
            outcomes.append("ok")
        except errors.DomainError as error:
            outcomes.append(type(error).__name__)
        finally:
            connection.close()

    users = [org.hospital_head, org.hospital_deputy, org.hospital_secretary] * 3
    threads = [threading.Thread(target=submit, args=(user,)) for user in users[:8]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["StaleObject"] * 7 + ["ok"]
    assert audit_entries_for(nomination).filter(action="processes.nomination.submitted").count() == 1
    assert Nomination.objects.get(pk=nomination.pk).version == version + 1


def test_only_the_units_staff_register_nominees_and_only_known_fields(org):
    with pytest.raises(errors.PermissionDenied):
        services.nominee_create(by=org.hospital_member, unit=org.hospital, kind="individual", name="Lê Văn Tám")
    with pytest.raises(ValueError, match="unknown nominee fields"):
        services.nominee_create(
            by=org.hospital_secretary, unit=org.hospital, kind="individual", name="X", user=org.admin
        )
    nominee = services.nominee_create(
        by=org.hospital_secretary, unit=org.hospital, kind="individual", name="Lê Văn Tám"
    )
    assert (nominee.unit, nominee.name) == (org.hospital, "Lê Văn Tám")
