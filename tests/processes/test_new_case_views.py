"""A secretary starts a case from the screens: register the nominee, open the nomination."""

from django.urls import reverse

from processes.models import Nomination, Nominee, Stage
from tests.factories import NomineeFactory

NEW_NOMINEE = reverse("processes:nominee-new")
NEW_NOMINATION = reverse("processes:nomination-new")


def _nominee_form(unit, **extra):
    return {
        "kind": "individual",
        "name": "Phạm Thị Thu Hằng",
        "unit": unit.pk,
        "gender": "female",
        "birth_date": "1988-03-08",
        "ethnicity": "Kinh",
        "position": "Điều dưỡng trưởng",
        "id_number": "031188001234",
        "category": "worker",
        **extra,
    }


def test_a_secretary_registers_a_nominee_and_opens_a_nomination(client, org):
    client.force_login(org.hospital_secretary)
    response = client.post(NEW_NOMINEE, _nominee_form(org.hospital))
    nominee = Nominee.objects.get(name="Phạm Thị Thu Hằng")
    assert response.status_code == 302
    assert nominee.unit == org.hospital
    response = client.post(
        NEW_NOMINATION,
        {
            "campaign": org.campaign.pk,
            "award_form": org.city_form.pk,
            "procedure": "regular",
            "nominee": nominee.pk,
            "unit": org.hospital.pk,
            "achievement_summary": "Cứu sống nhiều ca bệnh nặng",
        },
    )
    nomination = Nomination.objects.get()
    assert response.status_code == 302
    assert (nomination.stage, nomination.created_by) == (Stage.DISCOVER, org.hospital_secretary)


def test_a_unit_outside_the_users_roles_is_refused_and_nothing_saved(client, org):
    client.force_login(org.hospital_secretary)
    response = client.post(NEW_NOMINEE, _nominee_form(org.ward))  # forged: not offered in the form
    assert response.status_code == 200
    assert "unit" in response.context["form"].errors
    assert not Nominee.objects.exists()


def test_users_with_no_proposing_role_cannot_reach_the_forms(client, org):
    for user in (org.hospital_member, org.board_officer, org.outsider):
        client.force_login(user)
        assert client.get(NEW_NOMINEE).status_code == 404
        assert client.get(NEW_NOMINATION).status_code == 404


def test_a_duplicate_nomination_is_explained_on_the_form(client, org):
    nominee = NomineeFactory(unit=org.hospital)
    client.force_login(org.hospital_secretary)
    form = {
        "campaign": org.campaign.pk,
        "award_form": org.city_form.pk,
        "procedure": "regular",
        "nominee": nominee.pk,
        "unit": org.hospital.pk,
    }
    assert client.post(NEW_NOMINATION, form).status_code == 302
    again = client.post(NEW_NOMINATION, form)
    assert again.status_code == 200
    assert "already has an open nomination" in again.content.decode()
    assert Nomination.objects.count() == 1


def test_a_nominee_of_another_unit_cannot_be_proposed(client, org):
    stranger = NomineeFactory(unit=org.ward)
    client.force_login(org.hospital_secretary)
    response = client.post(
        NEW_NOMINATION,
        {
            "campaign": org.campaign.pk,
            "award_form": org.city_form.pk,
            "procedure": "regular",
            "nominee": stranger.pk,
            "unit": org.hospital.pk,
        },
    )
    assert response.status_code == 200
    assert "nominee" in response.context["form"].errors
    assert not Nomination.objects.exists()


def test_the_list_offers_opening_a_nomination_only_to_those_who_may(client, org):
    list_url = reverse("processes:nomination-list")
    for user, offered in ((org.hospital_secretary, True), (org.hospital_head, True), (org.hospital_member, False)):
        client.force_login(user)
        assert client.get(list_url).context["can_propose"] is offered, user
