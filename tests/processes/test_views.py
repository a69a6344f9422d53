"""The screens: scoped to the tree, constant in queries, honest about refused clicks."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from processes.models import Nomination, Stage
from processes.permissions import can_view, nominations_visible_to
from tests.factories import NomineeFactory, make_nomination
from workflow.audit import audit_entries_for

LIST = reverse("processes:nomination-list")


def detail(nomination):
    return reverse("processes:nomination-detail", args=[nomination.pk])


def transition(nomination):
    return reverse("processes:nomination-transition", args=[nomination.pk])


def test_anonymous_users_are_sent_to_the_login_page(client, org):
    nomination = make_nomination(org)
    for url in (LIST, detail(nomination)):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    response = client.post(transition(nomination), {"action": "start_cultivation"})
    assert response.status_code == 302
    assert Nomination.objects.get(pk=nomination.pk).stage == Stage.DISCOVER


def test_the_list_shows_only_the_users_part_of_the_tree(client, org):
    in_hospital = make_nomination(org)
    in_ward = make_nomination(org, unit=org.ward, award_form=org.unit_form)
    client.force_login(org.ward_secretary)
    response = client.get(LIST)
    assert list(response.context["page"].rows) == [in_ward]
    client.force_login(org.director)
    assert list(client.get(LIST).context["page"].rows) == [in_hospital]
    client.force_login(org.board_officer)  # city-level forms only
    assert list(client.get(LIST).context["page"].rows) == [in_hospital]


def test_the_visible_queryset_and_the_object_check_agree_for_every_user(org):
    nominations = [
        make_nomination(org),
        make_nomination(org, award_form=org.unit_form),
        make_nomination(org, unit=org.ward, award_form=org.unit_form),
        make_nomination(org, unit=org.ward),
    ]
    own = make_nomination(org, nominee=NomineeFactory(unit=org.ward, user=org.hospital_member))
    nominations.append(own)
    for user in org.users.values():
        visible = set(nominations_visible_to(user).values_list("pk", flat=True))
        for nomination in nominations:
            assert (nomination.pk in visible) == can_view(user, nomination), (user, nomination)
    assert own.pk in set(nominations_visible_to(org.hospital_member).values_list("pk", flat=True))


def test_the_list_runs_the_same_number_of_queries_for_3_and_30_rows(client, org):
    client.force_login(org.director)
    counts = []
    for total in (3, 30):
        while Nomination.objects.count() < total:
            make_nomination(org)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(LIST)
        assert len(response.context["page"].rows) == total
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_keyset_pages_cover_every_row_once(client, org):
    for _ in range(60):
        make_nomination(org)
    client.force_login(org.director)
    response = client.get(LIST)
    first = response.context["page"]
    second = client.get(LIST, {"cursor": response.context["next_cursor"]}).context["page"]
    seen = [n.pk for n in first.rows] + [n.pk for n in second.rows]
    assert len(first.rows) == 50
    assert second.next_after is None
    assert sorted(seen) == sorted(Nomination.objects.values_list("pk", flat=True))


def test_a_forged_or_foreign_id_is_not_found(client, org):
    nomination = make_nomination(org)
    client.force_login(org.ward_head)
    assert client.get(detail(nomination)).status_code == 404
    response = client.post(transition(nomination), {"action": "withdraw", "comment": "x", "expected_version": 1})
    assert response.status_code == 404
    assert client.get(reverse("processes:nomination-detail", args=[999999])).status_code == 404
    assert Nomination.objects.get(pk=nomination.pk).stage == Stage.DISCOVER


def test_a_head_moves_a_nomination_from_the_detail_page(client, org):
    nomination = make_nomination(org)
    client.force_login(org.hospital_head)
    page = client.get(detail(nomination))
    assert [action["name"] for action in page.context["actions"]] == ["start_cultivation", "withdraw"]
    response = client.post(transition(nomination), {"action": "start_cultivation", "expected_version": 1})
    assert response.status_code == 302
    assert Nomination.objects.get(pk=nomination.pk).stage == Stage.CULTIVATE


def test_a_double_click_takes_the_step_once_and_explains_the_second(client, org):
    nomination = make_nomination(org)
    client.force_login(org.hospital_head)
    form = {"action": "withdraw", "comment": "Đơn vị rút hồ sơ", "expected_version": 1}
    assert client.post(transition(nomination), form).status_code == 302
    second = client.post(transition(nomination), form)
    assert second.status_code == 409
    assert "after you opened it" in second.content.decode()
    assert "Đơn vị rút hồ sơ" in second.content.decode()  # what was typed is still there
    assert audit_entries_for(nomination).filter(action="processes.nomination.withdrawn").count() == 1


def test_a_stale_edit_keeps_the_typed_text_on_the_page(client, org):
    nomination = make_nomination(org)
    client.force_login(org.hospital_secretary)
    edit = reverse("processes:nomination-edit", args=[nomination.pk])
    first = {"achievement_summary": "Bản thứ nhất", "cultivation_goals": "", "mentor": "", "expected_version": 1}
    assert client.post(edit, first).status_code == 302
    second = client.post(edit, {**first, "achievement_summary": "Bản thứ hai, gõ rất lâu"})
    assert second.status_code == 409
    assert "Bản thứ hai, gõ rất lâu" in second.content.decode()
    assert Nomination.objects.get(pk=nomination.pk).achievement_summary == "Bản thứ nhất"


def test_a_script_in_a_name_is_shown_as_text(client, org):
    nominee = NomineeFactory(unit=org.hospital, name='<script>alert("x")</script>')
    nomination = make_nomination(org, nominee=nominee)
    client.force_login(org.hospital_head)
    for url in (LIST, detail(nomination)):
        body = client.get(url).content.decode()
        assert '<script>alert("x")</script>' not in body
        assert "&lt;script&gt;" in body


@pytest.mark.parametrize("cursor", ["garbage", "2026-01-01|x", "|", "9999-99-99T00:00|1"])
def test_a_malformed_cursor_is_refused_and_the_first_page_shown(client, org, cursor):
    make_nomination(org)
    client.force_login(org.director)
    response = client.get(LIST, {"cursor": cursor})
    assert response.status_code == 400
    assert "This page link is not valid" in response.content.decode()
    assert len(response.context["page"].rows) == 1
