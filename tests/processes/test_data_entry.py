"""Data entry as Vietnamese users type it: day-first dates, inclusive end dates, constraint errors in
their language on the field, and names stored composed without invisible characters."""

import unicodedata
from datetime import date, datetime

import pytest
from django import forms
from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import UniqueConstraint
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django_celery_beat.models import ClockedSchedule

from processes.models import (
    AwardForm,
    Campaign,
    Delegation,
    Membership,
    Nominee,
    Objection,
    OrganisationUnit,
    Role,
    UnitLink,
)
from processes.periods import InclusiveEndDateField
from processes.text import NameField, NameFormField, invisible_characters, normalise, validate_name
from tests.factories import NomineeFactory, UnitFactory

User = get_user_model()
LANGUAGES = ["vi", "en"]
RLO = "\u202e"  # RIGHT-TO-LEFT OVERRIDE
ZWSP = "\u200b"  # ZERO WIDTH SPACE
#: "Nguyễn Thị Hằng" typed decomposed (letters and combining marks), as macOS sends it.
NFD_NAME = unicodedata.normalize("NFD", "Nguyễn Thị Hằng")
NFC_NAME = "Nguyễn Thị Hằng"


def _client(user, language: str) -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    client.force_login(user)
    return client


def _url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def _in(language: str, message) -> str:
    """``message`` (a lazy translation or an English msgid) in ``language``."""
    with translation.override(language):
        return translation.gettext(message) if isinstance(message, str) else str(message)


def _form_errors(response) -> dict:
    return {name: list(errors) for name, errors in response.context["adminform"].form.errors.items()}


def _campaign_data(org, **dates):
    return {
        "code": "HP-2027",
        "name": "Phong trào thi đua năm 2027",
        "launching_unit": org.city.pk,
        "kind": "regular",
        "period_start": "01/01/2027",
        "period_end": "31/12/2027",
        "submission_deadline": "15/12/2027",
        **dates,
    }


def test_the_vietnamese_translations_used_below_differ_from_the_english():
    # Otherwise the per-language assertions below would pass without any translation.
    for message in (forms.DateField.default_error_messages["invalid"], validate_name.message):
        assert _in("vi", message) != _in("en", message)


# --- day-first dates -----------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_ambiguous_date_typed_in_the_admin_is_day_first_on_add_and_change(org, language):
    client = _client(org.admin, language)
    response = client.post(_url(Campaign, "add"), _campaign_data(org, period_start="05/12/2026"))
    assert response.status_code == 302, _form_errors(response)
    campaign = Campaign.objects.get(code="HP-2027")
    assert campaign.period_start == date(2026, 12, 5)  # not 12 May

    page = client.get(_url(Campaign, "change", campaign.pk))
    assert 'value="05/12/2026"' in page.text
    response = client.post(_url(Campaign, "change", campaign.pk), _campaign_data(org, period_start="01/02/2027"))
    assert response.status_code == 302, _form_errors(response)
    campaign.refresh_from_db()
    assert campaign.period_start == date(2027, 2, 1)  # not 2 January
    # The list shows dates as they are typed.
    assert "01/02/2027" in client.get(_url(Campaign, "changelist")).text


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_month_first_date_in_the_admin_is_an_error_not_a_date(org, language):
    client = _client(org.admin, language)
    response = client.post(_url(Campaign, "add"), _campaign_data(org, period_end="12/31/2027"))
    assert response.status_code == 200
    assert _form_errors(response) == {"period_end": [_in(language, forms.DateField.default_error_messages["invalid"])]}
    assert not Campaign.objects.filter(code="HP-2027").exists()


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.urls("tests.processes.clocked_admin_urls")
def test_a_date_and_time_typed_in_the_admin_is_day_first(org, language):
    client = _client(org.admin, language)
    add_url = reverse("admin:django_celery_beat_clockedschedule_add", current_app="clocked")
    # The schedule's page also lists the tasks using it (an inline, empty here).
    inline = client.get(add_url).context["inline_admin_formsets"][0].formset.prefix
    empty_inline = {f"{inline}-TOTAL_FORMS": "0", f"{inline}-INITIAL_FORMS": "0"}
    data = {"clocked_time_0": "05/12/2026", "clocked_time_1": "14:30", **empty_inline}
    response = client.post(add_url, data)
    assert response.status_code == 302, _form_errors(response)
    clocked = timezone.localtime(ClockedSchedule.objects.get().clocked_time)
    assert (clocked.date(), clocked.hour, clocked.minute) == (date(2026, 12, 5), 14, 30)
    response = client.post(add_url, {**data, "clocked_time_0": "12/31/2026"})
    assert response.status_code == 200
    assert list(_form_errors(response)) == ["clocked_time"]
    assert ClockedSchedule.objects.count() == 1


@pytest.mark.parametrize("language", [*LANGUAGES, None])
def test_form_fields_read_dates_and_times_day_first_and_keep_iso_for_date_inputs(language):
    with translation.override(language):
        assert forms.DateField().clean("05/12/2026") == date(2026, 12, 5)
        assert forms.DateField().clean("5/12/26") == date(2026, 12, 5)
        assert forms.DateField().clean("2026-12-05") == date(2026, 12, 5)  # what <input type="date"> sends
        moment = forms.DateTimeField().clean("05/12/2026 14:30")
        assert moment.replace(tzinfo=None) == datetime(2026, 12, 5, 14, 30)
        assert forms.DateTimeField().clean("2026-12-05T14:30").replace(tzinfo=None) == datetime(2026, 12, 5, 14, 30)
        for field, month_first in ((forms.DateField(), "12/31/2026"), (forms.DateTimeField(), "12/31/2026 14:30")):
            with pytest.raises(forms.ValidationError):
                field.clean(month_first)


def test_the_new_nominee_form_keeps_iso_in_its_date_input(client, org):
    # <input type="date"> takes ISO only: a day-first value would show an empty box.
    client.force_login(org.hospital_secretary)
    nominee = NomineeFactory(unit=org.hospital, birth_date=date(1988, 3, 8))
    from processes.forms import NomineeForm

    form = NomineeForm(instance=nominee, units=OrganisationUnit.objects.all())
    assert 'value="1988-03-08"' in str(form["birth_date"])


# --- inclusive end dates -------------------------------------------------------------------------


def test_an_end_typed_in_the_membership_admin_is_the_last_day_and_is_shown_so(org):
    client = _client(org.admin, "vi")
    data = {
        "user": org.outsider.pk,
        "unit": org.hospital.pk,
        "role": Role.MEMBER,
        "valid_from": "01/12/2026",
        "valid_to": "10/12/2026",
    }
    assert client.post(_url(Membership, "add"), data).status_code == 302
    membership = Membership.objects.get(user=org.outsider)
    assert membership.valid_to == date(2026, 12, 11)  # stored exclusive
    # In force until the end of the 10th.
    assert Membership.objects.on(date(2026, 12, 10)).filter(pk=membership.pk).exists()
    assert not Membership.objects.on(date(2026, 12, 11)).filter(pk=membership.pk).exists()

    listing = client.get(_url(Membership, "changelist"), {"user__id__exact": org.outsider.pk}).text
    assert "10/12/2026" in listing
    assert "11/12/2026" not in listing
    assert "đến hết ngày" in listing.lower()
    page = client.get(_url(Membership, "change", membership.pk)).text
    assert 'value="10/12/2026"' in page
    # Saved again unchanged, it stays the same period.
    assert client.post(_url(Membership, "change", membership.pk), data).status_code == 302
    membership.refresh_from_db()
    assert membership.valid_to == date(2026, 12, 11)


def _inline_form_data(response) -> dict:
    """The POST a browser sends back for an admin change page with its inlines, unedited."""
    data = {}

    def add(form):
        for name in form.fields:
            value = form[name].value()
            if isinstance(value, bool):
                if value:
                    data[form.add_prefix(name)] = "on"
            elif isinstance(value, date):
                data[form.add_prefix(name)] = value.strftime("%d/%m/%Y")  # as the page shows it
            elif value is not None:
                data[form.add_prefix(name)] = value

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        add(inline.formset.management_form)
        for form in inline.formset.forms:
            add(form)
    return data


def test_the_unit_page_inlines_take_and_show_the_last_day(org):
    client = _client(org.admin, "vi")
    url = _url(OrganisationUnit, "change", org.hospital.pk)
    data = _inline_form_data(client.get(url))
    index = int(data["memberships-TOTAL_FORMS"])
    data.update(
        {
            "memberships-TOTAL_FORMS": str(index + 1),
            f"memberships-{index}-user": str(org.outsider.pk),
            f"memberships-{index}-role": Role.MEMBER,
            f"memberships-{index}-valid_from": "01/12/2026",
            f"memberships-{index}-valid_to": "10/12/2026",
        }
    )
    links = int(data["parent_links-TOTAL_FORMS"])
    data[f"parent_links-{links - 1}-valid_to"] = "31/12/2026"
    response = client.post(url, data)
    assert response.status_code == 302, response.context and response.context["errors"]
    assert Membership.objects.get(user=org.outsider).valid_to == date(2026, 12, 11)
    assert UnitLink.objects.get(unit=org.hospital).valid_to == date(2027, 1, 1)

    page = client.get(url)
    assert 'value="10/12/2026"' in page.text
    assert 'value="31/12/2026"' in page.text
    assert "11/12/2026" not in page.text
    # Posted back unchanged, nothing moves by a day.
    assert client.post(url, _inline_form_data(page)).status_code == 302
    assert Membership.objects.get(user=org.outsider).valid_to == date(2026, 12, 11)
    assert UnitLink.objects.get(unit=org.hospital).valid_to == date(2027, 1, 1)
    listing = client.get(_url(UnitLink, "changelist"), {"unit__id__exact": org.hospital.pk}).text
    assert "31/12/2026" in listing
    assert "01/01/2027" not in listing


def test_a_delegation_until_the_10th_includes_the_10th_on_every_admin_page(org):
    client = _client(org.admin, "vi")
    data = {
        "unit": org.hospital.pk,
        "delegator": org.hospital_head.pk,
        "delegate": org.hospital_deputy.pk,
        "valid_from": "01/12/2026",
        "valid_to": "10/12/2026",
        "reason": "Đi công tác",
    }
    response = client.post(_url(Delegation, "add"), data)
    assert response.status_code == 302, _form_errors(response)
    delegation = Delegation.objects.get()
    assert delegation.valid_to == date(2026, 12, 11)
    assert Delegation.objects.on(date(2026, 12, 10)).filter(pk=delegation.pk).exists()

    for page in (
        client.get(_url(Delegation, "changelist")).text,
        client.get(_url(Delegation, "change", delegation.pk)).text,  # read-only
    ):
        assert "10/12/2026" in page
        assert "11/12/2026" not in page
        assert "đến hết ngày" in page.lower()
    with translation.override("vi"):
        assert "01/12/2026 - 10/12/2026" in str(delegation)


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_last_day_before_the_first_is_refused_on_the_end_date_and_a_one_day_period_is_fine(org, language):
    client = _client(org.admin, language)
    data = {
        "user": org.outsider.pk,
        "unit": org.hospital.pk,
        "role": Role.MEMBER,
        "valid_from": "10/12/2026",
        "valid_to": "09/12/2026",
    }
    response = client.post(_url(Membership, "add"), data)
    assert response.status_code == 200
    assert _form_errors(response) == {"valid_to": [_in(language, "The last day cannot come before the first day.")]}
    assert not Membership.objects.filter(user=org.outsider).exists()

    assert client.post(_url(Membership, "add"), {**data, "valid_to": "10/12/2026"}).status_code == 302
    membership = Membership.objects.get(user=org.outsider)
    assert (membership.valid_from, membership.valid_to) == (date(2026, 12, 10), date(2026, 12, 11))


def test_the_end_date_form_field_converts_both_ways():
    field = InclusiveEndDateField(required=False)
    assert field.prepare_value(date(2026, 12, 11)) == date(2026, 12, 10)
    assert field.clean("10/12/2026") == date(2026, 12, 11)
    assert field.clean("") is None
    assert not field.has_changed(date(2026, 12, 11), "10/12/2026")
    assert field.has_changed(date(2026, 12, 11), "11/12/2026")
    with pytest.raises(forms.ValidationError):
        field.clean("31/12/9999")  # no day after it


# --- constraint errors ---------------------------------------------------------------------------


def _nominee_admin_data(org, **extra):
    return {
        "kind": "individual",
        "name": "Trần Thị Mai",
        "unit": org.hospital.pk,
        "gender": "female",
        "birth_date": "08/03/1988",
        "ethnicity": "Kinh",
        "id_number": "031188001234",
        "category": "worker",
        "prior_awards-TOTAL_FORMS": "0",
        "prior_awards-INITIAL_FORMS": "0",
        **extra,
    }


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_duplicate_id_number_in_the_admin_is_said_in_the_users_language_on_the_field(org, language):
    NomineeFactory(unit=org.ward, id_number="031188001234")
    response = _client(org.admin, language).post(_url(Nominee, "add"), _nominee_admin_data(org))
    assert response.status_code == 200
    assert _form_errors(response) == {
        "id_number": [_in(language, "A nominee with this ID number is already registered.")]
    }
    assert "Constraint" not in response.text
    assert Nominee.objects.filter(id_number="031188001234").count() == 1


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_duplicate_id_number_in_the_new_nominee_form_is_said_on_the_field(org, language):
    NomineeFactory(unit=org.ward, id_number="031188001234")
    data = {**_nominee_admin_data(org), "birth_date": "1988-03-08"}
    response = _client(org.hospital_secretary, language).post(reverse("processes:nominee-new"), data)
    assert response.status_code == 200
    form = response.context["form"]
    assert dict(form.errors) == {"id_number": [_in(language, "A nominee with this ID number is already registered.")]}
    assert not form.non_field_errors()
    assert "Constraint" not in response.text
    assert not Nominee.objects.filter(name="Trần Thị Mai").exists()


def test_a_check_constraint_speaks_vietnamese_too(org):
    # A collective with an ID number: the nominee_kind_fields constraint, as a form-wide error.
    response = _client(org.admin, "vi").post(
        _url(Nominee, "add"), _nominee_admin_data(org, kind="collective", category="", gender="")
    )
    assert response.status_code == 200
    expected = _in(
        "vi", "An individual has no collective type; a collective has no ID number and no individual category."
    )
    assert list(response.context["adminform"].form.non_field_errors()) == [expected]
    assert not Nominee.objects.filter(name="Trần Thị Mai").exists()


def test_a_campaign_ending_before_it_starts_is_refused_on_its_end_date(org):
    response = _client(org.admin, "vi").post(
        _url(Campaign, "add"), _campaign_data(org, period_start="01/12/2027", period_end="30/11/2027")
    )
    assert response.status_code == 200
    assert _form_errors(response) == {"period_end": [_in("vi", "The campaign cannot end before it starts.")]}


def _constraints():
    for app in ("processes", "workflow"):
        for model in apps.get_app_config(app).get_models():
            for constraint in model._meta.constraints:
                yield model, constraint


def test_every_constraint_has_its_own_message_translated_into_vietnamese():
    checked = 0
    for model, constraint in _constraints():
        message = constraint.violation_error_message
        where = f"{model.__name__}.{constraint.name}"
        assert message, where
        assert message != constraint.default_violation_error_message, where
        assert _in("vi", message) != _in("en", message), f"{where}: no Vietnamese translation"
        assert "%(name)s" not in _in("en", message), where
        if isinstance(constraint, UniqueConstraint) and constraint.condition is not None and constraint.fields:
            # Conditional uniques would otherwise land on no field at all.
            assert len(constraint.fields) > 1 or constraint.violation_error_code in ("unique", None), where
        checked += 1
    assert checked >= 20


def test_an_id_number_is_ascii_digits():
    nominee = NomineeFactory.build(unit=UnitFactory.build(), id_number="٠٣١١٨٨٠٠١٢٣٤")  # Arabic-Indic digits
    with pytest.raises(Exception, match="9 or 12 digits"):
        nominee.clean_fields(exclude={"unit", "user"})


# --- names ---------------------------------------------------------------------------------------

NAME_FIELDS = [
    (Nominee, "name"),
    (OrganisationUnit, "name"),
    (Campaign, "name"),
    (AwardForm, "name"),
    (AwardForm, "name_en"),
    (Objection, "author"),
]


def test_invisible_characters_are_named_and_names_composed():
    assert invisible_characters(f"Nguyễn{RLO}gpj.exe{ZWSP}{ZWSP}\n") == [
        "U+202E RIGHT-TO-LEFT OVERRIDE",
        "U+200B ZERO WIDTH SPACE",
        "U+000A",
    ]
    assert invisible_characters("Lê Thị Ánh-Tuyết (Đ.)") == []
    assert normalise(NFD_NAME) == NFC_NAME != NFD_NAME


@pytest.mark.parametrize(("model", "name"), NAME_FIELDS, ids=[f"{m.__name__}.{n}" for m, n in NAME_FIELDS])
def test_every_name_field_composes_and_refuses_invisible_characters(model, name):
    field = model._meta.get_field(name)
    assert isinstance(field, NameField)
    assert isinstance(field.formfield(), NameFormField)
    assert field.clean(NFD_NAME, None) == NFC_NAME
    for bad in (f"Nguyễn{RLO}Văn", f"Nguyễn{ZWSP}Văn", "Nguyễn\u2028Văn", "Nguyễn\x00Văn", "\u2066Ann\u2069"):
        with pytest.raises(forms.ValidationError) as refused:
            field.clean(bad, None)
        assert [error.code for error in refused.value.error_list] == ["invisible_characters"]


def test_names_saved_in_any_way_are_stored_composed_and_found_either_way(org):
    nominee = NomineeFactory(unit=org.hospital, name=NFD_NAME)
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM processes_nominee WHERE id = %s", [nominee.pk])
        assert cursor.fetchone()[0] == NFC_NAME
    assert Nominee.objects.get(name=NFD_NAME) == nominee
    Nominee.objects.filter(pk=nominee.pk).update(name=unicodedata.normalize("NFD", "Lê Văn Đức"))
    assert Nominee.objects.filter(name="Lê Văn Đức").exists()


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_new_nominee_form_refuses_a_bidi_override_and_stores_the_composed_name(org, language):
    client = _client(org.hospital_secretary, language)
    data = {**_nominee_admin_data(org), "birth_date": "1988-03-08", "name": f"Trần Thị {RLO}iaM"}
    response = client.post(reverse("processes:nominee-new"), data)
    assert response.status_code == 200
    [error] = response.context["form"].errors["name"]
    assert "U+202E RIGHT-TO-LEFT OVERRIDE" in error
    with translation.override(language):
        assert error.startswith(str(validate_name.message).split("(")[0])
    assert not Nominee.objects.exists()

    assert client.post(reverse("processes:nominee-new"), {**data, "name": NFD_NAME}).status_code == 302
    assert Nominee.objects.get().name == NFC_NAME


def test_the_admin_refuses_invisible_characters_in_unit_campaign_and_user_names(org):
    client = _client(org.admin, "vi")
    response = client.post(
        _url(OrganisationUnit, "add"),
        {
            "code": "HP.X",
            "name": f"Phường{ZWSP} Mới",
            "kind": "unit",
            **{
                f"{prefix}-{key}": "0"
                for prefix in ("parent_links", "memberships")
                for key in ("TOTAL_FORMS", "INITIAL_FORMS")
            },
        },
    )
    assert response.status_code == 200
    assert list(_form_errors(response)) == ["name"]
    assert "U+200B" in _form_errors(response)["name"][0]

    response = client.post(_url(Campaign, "add"), _campaign_data(org, name=f"Phong trào {RLO}2027"))
    assert list(_form_errors(response)) == ["name"]
    assert not Campaign.objects.filter(code="HP-2027").exists()

    user = org.outsider
    joined = timezone.localtime(user.date_joined)
    data = {
        "username": user.username,
        "email": user.email,
        "date_joined_0": joined.strftime("%d/%m/%Y"),
        "date_joined_1": joined.strftime("%H:%M:%S"),
        "is_active": "on",
        "first_name": f"Hằng{ZWSP}",
        "last_name": "Phạm",
    }
    response = client.post(_url(User, "change", user.pk), data)
    assert response.status_code == 200
    assert list(_form_errors(response)) == ["first_name"]
    response = client.post(_url(User, "change", user.pk), {**data, "first_name": NFD_NAME})
    assert response.status_code == 302, _form_errors(response)
    user.refresh_from_db()
    assert user.first_name == NFC_NAME


def test_the_migration_composes_names_stored_before(org):
    from importlib import import_module

    migration = import_module("processes.migrations.0008_names_inclusive_end_dates_constraint_messages")
    nominee = NomineeFactory(unit=org.hospital)
    with connection.cursor() as cursor:  # as an older version stored it, past the field's normalising
        cursor.execute("UPDATE processes_nominee SET name = %s WHERE id = %s", [NFD_NAME, nominee.pk])
        cursor.execute("UPDATE auth_user SET last_name = %s WHERE id = %s", [NFD_NAME, org.outsider.pk])
    migration.compose_names(apps, None)
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM processes_nominee WHERE id = %s", [nominee.pk])
        assert cursor.fetchone()[0] == NFC_NAME
        cursor.execute("SELECT last_name FROM auth_user WHERE id = %s", [org.outsider.pk])
        assert cursor.fetchone()[0] == NFC_NAME
