"""The replicate stage as work: activities with evidence spread an awarded exemplar, the case closes
by itself when its plan is met (not before), or earlier with a reason; only its unit and the Board
record, and evidence files are checked as dossier files are."""

from datetime import date
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from processes import errors, services
from processes.models import ActivityEvidence, ActivityKind, DisseminationActivity, Nomination, Stage
from processes.services import replication as replication_services
from tests.factories import PDF_BYTES, make_nomination
from workflow.audit import audit_entries_for

DAY = date(2026, 3, 2)


@pytest.fixture
def case(org):
    """An awarded case, in replicate (how it got there is tested elsewhere)."""
    nomination = make_nomination(org)
    Nomination.objects.filter(pk=nomination.pk).update(stage=Stage.REPLICATE)
    return Nomination.objects.get(pk=nomination.pk)


def _record(org, case, *, kind=ActivityKind.TALK, by=None, unit=None, evidence=(), title="Hội nghị điển hình"):
    return services.activity_record(
        nomination=case,
        by=by or org.hospital_secretary,
        kind=kind,
        held_on=DAY,
        title=title,
        description="",
        adopting_unit=unit,
        evidence=evidence,
    )


def _stage(case):
    return Nomination.objects.get(pk=case.pk).stage


def _stored_files(settings):
    root = Path(settings.DOSSIER_ROOT)
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


# --- the plan closes the case -------------------------------------------------------------------------


def test_activities_close_the_case_once_the_default_plan_is_met_and_not_before(org, case):
    # The default plan: two activities of any kind, one adopting unit.
    _record(org, case, kind=ActivityKind.TALK)
    _record(org, case, kind=ActivityKind.ARTICLE, title="Bài báo")
    assert _stage(case) == Stage.REPLICATE  # two activities, but nobody adopted the model yet
    _record(org, case, kind=ActivityKind.ADOPTION, unit=org.ward, title="Phường Trại Cau áp dụng")
    assert _stage(case) == Stage.CLOSED
    closed = audit_entries_for(case).get(action="processes.nomination.closed")
    assert (closed.from_state, closed.to_state, closed.actor) == (Stage.REPLICATE, Stage.CLOSED, org.hospital_secretary)
    assert closed.data == {"plan_met": True, "activities": 3, "adopting_units": 1}
    actions = [entry.action for entry in audit_entries_for(case)]
    assert actions.count("processes.replication.activity_recorded") == 3


def test_a_plan_counts_distinct_adopting_units(org, case):
    services.replication_plan_set(
        nomination=case, by=org.hospital_head, activities_required=2, adoptions_required=2, notes="Hai đơn vị"
    )
    _record(org, case, kind=ActivityKind.ADOPTION, unit=org.ward)
    _record(org, case, kind=ActivityKind.ADOPTION, unit=org.ward, title="Lần hai")
    assert _stage(case) == Stage.REPLICATE  # two activities, one unit
    _record(org, case, kind=ActivityKind.ADOPTION, unit=org.district, title="Quận áp dụng")
    assert _stage(case) == Stage.CLOSED


def test_a_plan_lowered_to_what_is_done_closes_the_case_and_is_audited(org, case):
    _record(org, case, kind=ActivityKind.TRAINING)
    assert _stage(case) == Stage.REPLICATE
    services.replication_plan_set(nomination=case, by=org.board_officer, activities_required=1, adoptions_required=0)
    assert _stage(case) == Stage.CLOSED
    plan_entry = audit_entries_for(case).get(action="processes.replication.plan_set")
    assert plan_entry.data == {"activities_required": 1, "adoptions_required": 0}


def test_a_plan_asks_for_at_least_one_activity(org, case):
    with pytest.raises(errors.DomainError):
        services.replication_plan_set(
            nomination=case, by=org.hospital_head, activities_required=0, adoptions_required=0
        )
    assert _stage(case) == Stage.REPLICATE


def test_nothing_is_recorded_outside_the_replicate_stage(org):
    nomination = make_nomination(org)
    with pytest.raises(errors.TransitionNotAllowed):
        _record(org, nomination)
    assert not DisseminationActivity.objects.exists()


# --- adoption ----------------------------------------------------------------------------------------


def test_an_adoption_names_a_unit_and_not_the_exemplars_own(org, case):
    with pytest.raises(errors.DomainError, match="names the unit"):
        _record(org, case, kind=ActivityKind.ADOPTION, unit=None)
    with pytest.raises(errors.DomainError, match="own unit"):
        _record(org, case, kind=ActivityKind.ADOPTION, unit=org.hospital)
    assert not DisseminationActivity.objects.exists()


def test_the_adoption_form_needs_a_unit_and_offers_no_own_unit(client, org, case):
    client.force_login(org.hospital_secretary)
    url = reverse("processes:activity-new", args=[case.pk])
    response = client.post(url, {"kind": "adoption", "held_on": "02/03/2026", "title": "Áp dụng mô hình"})
    assert response.status_code == 400
    form = response.context["replication"].activity_form
    assert "adopting_unit" in form.errors
    assert form.data["title"] == "Áp dụng mô hình"  # what was typed is kept
    assert org.hospital not in form.fields["adopting_unit"].queryset
    assert org.ward in form.fields["adopting_unit"].queryset
    own = client.post(
        url, {"kind": "adoption", "held_on": "02/03/2026", "title": "X", "adopting_unit": org.hospital.pk}
    )
    assert own.status_code == 400
    assert not DisseminationActivity.objects.exists()


# --- closing with a reason -----------------------------------------------------------------------------


def test_a_secretary_closes_the_case_with_a_reason(client, org, case):
    with pytest.raises(errors.DomainError):
        services.nomination_close(nomination=case, by=org.hospital_secretary, reason="   ")
    assert _stage(case) == Stage.REPLICATE

    client.force_login(org.hospital_secretary)
    url = reverse("processes:replication-close", args=[case.pk])
    refused = client.post(url, {"reason": "", "expected_version": case.version})
    assert refused.status_code == 400
    assert _stage(case) == Stage.REPLICATE

    response = client.post(
        url, {"reason": "Đơn vị giải thể, không tiếp tục nhân rộng", "expected_version": case.version}
    )
    assert response.status_code == 302
    assert _stage(case) == Stage.CLOSED
    closed = audit_entries_for(case).get(action="processes.nomination.closed")
    assert closed.comment == "Đơn vị giải thể, không tiếp tục nhân rộng"
    assert closed.actor == org.hospital_secretary


def test_the_plain_close_button_is_gone_and_the_section_shows_the_progress(client, org, case):
    _record(org, case, kind=ActivityKind.TALK)
    client.force_login(org.hospital_secretary)
    page = client.get(reverse("processes:nomination-detail", args=[case.pk]))
    assert "close" not in [action["name"] for action in page.context["actions"]]
    assert "1/2 activities, 0/1 adopting units" in page.text
    assert reverse("processes:replication-close", args=[case.pk]) in page.text
    assert reverse("processes:activity-new", args=[case.pk]) in page.text
    # A plain member sees the progress, and no form.
    client.force_login(org.hospital_member)
    page = client.get(reverse("processes:nomination-detail", args=[case.pk]))
    assert "1/2 activities" in page.text
    assert reverse("processes:activity-new", args=[case.pk]) not in page.text


def test_the_transition_view_no_longer_closes_without_a_reason(client, org, case):
    client.force_login(org.hospital_head)
    url = reverse("processes:nomination-transition", args=[case.pk])
    response = client.post(url, {"action": "close", "comment": "", "expected_version": case.version})
    assert response.status_code == 409
    assert _stage(case) == Stage.REPLICATE


# --- who may record -----------------------------------------------------------------------------------


def test_a_user_of_another_unit_cannot_record_plan_or_close(client, org, case):
    with pytest.raises(errors.PermissionDenied):
        _record(org, case, by=org.ward_head)
    client.force_login(org.ward_head)
    data = {"kind": "talk", "held_on": "02/03/2026", "title": "Hội nghị"}
    assert client.post(reverse("processes:activity-new", args=[case.pk]), data).status_code == 404
    plan = {"activities_required": 1, "adoptions_required": 0}
    assert client.post(reverse("processes:replication-plan", args=[case.pk]), plan).status_code == 404
    reason = {"reason": "Không", "expected_version": case.version}
    assert client.post(reverse("processes:replication-close", args=[case.pk]), reason).status_code == 404
    # A member of the proposing unit sees the case but spreads nothing.
    client.force_login(org.hospital_member)
    assert client.post(reverse("processes:activity-new", args=[case.pk]), data).status_code == 403
    assert client.post(reverse("processes:replication-plan", args=[case.pk]), plan).status_code == 403
    assert not DisseminationActivity.objects.exists()
    assert _stage(case) == Stage.REPLICATE


def test_the_board_records_for_a_city_level_case(org, case):
    activity = _record(org, case, by=org.board_officer)
    assert activity.recorded_by == org.board_officer


# --- evidence files ------------------------------------------------------------------------------------


def test_evidence_is_stored_under_a_random_name_and_downloaded_by_who_sees_the_case(client, org, case, settings):
    activity = _record(org, case, evidence=[SimpleUploadedFile("bien-ban.pdf", PDF_BYTES)])
    evidence = activity.evidence.get()
    assert evidence.original_name == "bien-ban.pdf"
    assert evidence.content_type == "application/pdf"
    assert evidence.size == len(PDF_BYTES)
    assert "bien-ban" not in evidence.file.name
    assert evidence.file.name.startswith(f"{case.pk}/replication/")
    client.force_login(org.hospital_member)
    response = client.get(reverse("processes:evidence-download", args=[evidence.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF_BYTES
    assert response["X-Content-Type-Options"] == "nosniff"
    client.force_login(org.ward_head)
    assert client.get(reverse("processes:evidence-download", args=[evidence.pk])).status_code == 404
    assert client.get(reverse("processes:evidence-download", args=[evidence.pk + 1000])).status_code == 404


def test_evidence_of_a_wrong_type_is_refused_and_nothing_is_kept(client, org, case, settings):
    with pytest.raises(errors.UploadRejected):
        _record(org, case, evidence=[SimpleUploadedFile("bien-ban.pdf", b"MZ\x90\x00 not a pdf at all")])
    client.force_login(org.hospital_secretary)
    data = {
        "kind": "talk",
        "held_on": "02/03/2026",
        "title": "Hội nghị",
        "evidence": [SimpleUploadedFile("anh.pdf", b"#!/bin/sh\necho hi\n")],
    }
    response = client.post(reverse("processes:activity-new", args=[case.pk]), data)
    assert response.status_code == 409
    assert response.context["replication"].activity_form.data["title"] == "Hội nghị"
    assert not DisseminationActivity.objects.exists()
    assert not ActivityEvidence.objects.exists()
    assert _stored_files(settings) == []


def test_oversized_evidence_is_refused(client, org, case, settings):
    settings.DOSSIER_MAX_UPLOAD_BYTES = 100
    big = PDF_BYTES + b"%" * 200
    with pytest.raises(errors.UploadRejected):
        _record(org, case, evidence=[SimpleUploadedFile("bien-ban.pdf", big)])
    client.force_login(org.hospital_secretary)
    data = {
        "kind": "talk",
        "held_on": "02/03/2026",
        "title": "Hội nghị",
        "evidence": [SimpleUploadedFile("b.pdf", big)],
    }
    response = client.post(reverse("processes:activity-new", args=[case.pk]), data)
    assert response.status_code == 400
    assert not DisseminationActivity.objects.exists()
    assert _stored_files(settings) == []


def test_a_refused_record_deletes_the_files_it_stored(org, case, settings, monkeypatch):
    def refuse(*args, **kwargs):
        raise errors.DomainError("refused at the last moment")

    monkeypatch.setattr(replication_services, "audit_append", refuse)
    with pytest.raises(errors.DomainError):
        _record(org, case, evidence=[SimpleUploadedFile("bien-ban.pdf", PDF_BYTES)])
    assert _stored_files(settings) == []
    assert not DisseminationActivity.objects.exists()


# --- the case page stays cheap ---------------------------------------------------------------------


def test_the_case_page_reads_the_activities_in_a_constant_number_of_queries(client, org, case):
    services.replication_plan_set(nomination=case, by=org.hospital_head, activities_required=100, adoptions_required=1)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("processes:nomination-detail", args=[case.pk])).status_code == 200
        return len(captured)

    client.force_login(org.hospital_secretary)
    for _ in range(2):
        _record(org, case, evidence=[SimpleUploadedFile("a.pdf", PDF_BYTES)])
    few = queries()
    for _ in range(10):
        _record(org, case, evidence=[SimpleUploadedFile("a.pdf", PDF_BYTES)])
    assert queries() == few
