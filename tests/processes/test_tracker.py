"""The case tracker: accent-blind word-prefix search, every filter, the orders and their keyset pages,
the user's scope, and a constant number of queries."""

import unicodedata
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from processes.filters import TrackerFilter
from processes.forms import keyset_cursor
from processes.models import Decision, IndividualCategory, Nomination, NomineeKind, refresh_search_text
from processes.permissions import user_scope
from processes.selectors import SORTS, tracker_page
from processes.text import searchable
from tests.factories import NomineeFactory, holders, make_nomination, open_step, submitted
from workflow.models import ApprovalTask

LIST = reverse("processes:nomination-list")


def found(user, **query) -> list[int]:
    """The ids the tracker's FilterSet selects for ``user`` with ``query``."""
    filterset = TrackerFilter(query, user=user, scope=user_scope(user))
    assert filterset.is_valid(), filterset.form.errors
    return sorted(filterset.qs.values_list("pk", flat=True))


def named(org, name, *, unit=None, **fields):
    unit = unit or org.hospital
    return make_nomination(org, unit=unit, nominee=NomineeFactory(unit=unit, name=name), **fields)


def store_decomposed(nomination):
    """The nominee's name as some input methods send it (NFD), written past the model (as old rows
    or another program would have it), and the search column filled as the data migration does."""
    nfd = unicodedata.normalize("NFD", nomination.nominee.name)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE processes_nominee SET name = %s WHERE id = %s", [nfd, nomination.nominee_id])
    refresh_search_text(Nomination.objects.filter(pk=nomination.pk))
    nomination.nominee.refresh_from_db()
    assert nomination.nominee.name == nfd != unicodedata.normalize("NFC", nfd)


# --- search ------------------------------------------------------------------------------------------


def test_the_normaliser_drops_case_marks_and_the_unicode_form_and_maps_d_stroke():
    composed = "Đặng Thị Hoà"
    assert searchable(composed) == searchable(unicodedata.normalize("NFD", composed)) == " dang thi hoa "
    assert searchable("NGUYỄN THỊ HOA") == searchable("nguyen thi hoa") == " nguyen thi hoa "
    assert searchable("123/QĐ-UBND") == " 123 qd ubnd "
    assert searchable("", None) == ""


@pytest.mark.parametrize(
    "query", ["nguyen thi hoa", "NGUYỄN THỊ HOA", unicodedata.normalize("NFD", "Nguyễn Thị Hoa"), "hoa"]
)
def test_a_name_is_found_whatever_case_marks_and_unicode_form_stored_or_typed(org, query):
    stored_nfc = named(org, "Nguyễn Thị Hoa")
    stored_nfd = named(org, "Nguyễn Thị Hoa", award_form=org.unit_form)
    store_decomposed(stored_nfd)
    named(org, "Trần Văn Bình")
    assert found(org.admin, q=query) == sorted([stored_nfc.pk, stored_nfd.pk])


def test_words_match_at_their_start_so_hoa_does_not_find_khoa(org):
    hoa = named(org, "Lê Thị Hoa")
    named(org, "Phạm Đăng Khoa")
    named(org, "Vũ Thị Thoa")
    assert found(org.admin, q="Hoa") == [hoa.pk]
    assert found(org.admin, q="ho") == [hoa.pk]  # a word's beginning is enough


def test_d_stroke_is_found_as_d_and_as_itself(org):
    duc = named(org, "Đặng Văn Đức")
    named(org, "Dương Văn Tú")
    for query in ("dang duc", "Đức", "ĐẶNG", "đang"):
        assert found(org.admin, q=query) == [duc.pk], query


def test_several_words_must_all_be_found_in_any_order(org):
    both = named(org, "Nguyễn Thị Hoa")
    named(org, "Nguyễn Văn Nam")
    assert found(org.admin, q="hoa nguyen") == [both.pk]


def test_the_unit_name_is_searched(org):
    in_ward = named(org, "Hoàng Minh", unit=org.ward)
    named(org, "Hoàng Lan")
    assert found(org.admin, q="trai cau") == [in_ward.pk]


def test_an_id_number_is_found_exactly_spaces_ignored(org):
    nominee = NomineeFactory(unit=org.hospital, id_number="031234567890")
    target = make_nomination(org, nominee=nominee)
    make_nomination(org, nominee=NomineeFactory(unit=org.hospital, id_number="031234567891"))
    assert found(org.admin, q="031234567890") == [target.pk]
    assert found(org.admin, q="0312 3456 7890") == [target.pk]
    assert found(org.admin, q="03123456789") == []  # 11 digits: no ID number, and no prefix match


def test_a_decision_number_is_searched_normalised_once_recorded(org):
    nomination = named(org, "Ngô Bảo Châu")
    named(org, "Ngô Thì Nhậm")
    Decision.objects.create(
        nomination=nomination, number="1234/QĐ-UBND", signed_on=date(2026, 5, 1), signer=org.chairman
    )
    assert found(org.admin, q="1234/qd-ubnd") == [nomination.pk]
    assert found(org.admin, q="1234/QĐ") == [nomination.pk]


def test_renaming_a_nominee_or_a_unit_keeps_the_search_in_step(org):
    nomination = named(org, "Nguyễn Văn An", unit=org.ward)
    nominee = nomination.nominee
    nominee.name = "Nguyễn Văn Bảo"
    nominee.save()
    assert found(org.admin, q="bao") == [nomination.pk]
    assert found(org.admin, q="an") == []
    org.ward.name = "Phường Cát Dài"
    org.ward.save()
    assert found(org.admin, q="cat dai") == [nomination.pk]
    assert found(org.admin, q="trai cau") == []


def test_a_unit_head_of_another_unit_finds_nothing_of_it(org):
    named(org, "Nguyễn Thị Hoa")  # the hospital's, a city-level form
    assert found(org.ward_head, q="hoa") == []
    assert found(org.hospital_head, q="hoa") != []


# --- filters -----------------------------------------------------------------------------------------


def test_campaign_award_form_stage_kind_and_updated_filters(org):
    from tests.factories import CampaignFactory

    other_campaign = CampaignFactory(code="HP-2027", launching_unit=org.city)
    city = make_nomination(org)
    unit_level = make_nomination(org, award_form=org.unit_form)
    Nomination.objects.filter(pk=unit_level.pk).update(campaign=other_campaign)
    collective = make_nomination(
        org,
        nominee=NomineeFactory(
            unit=org.hospital, kind=NomineeKind.COLLECTIVE, id_number="", category="", gender="", name="Khoa Nhi"
        ),
    )
    Nomination.objects.filter(pk=collective.pk).update(updated_at=timezone.now() - timedelta(days=40))
    assert found(org.admin, campaign=other_campaign.pk) == [unit_level.pk]
    assert found(org.admin, award_form=org.unit_form.pk) == [unit_level.pk]
    assert found(org.admin, kind=NomineeKind.COLLECTIVE) == [collective.pk]
    assert found(org.admin, kind=NomineeKind.INDIVIDUAL) == sorted([city.pk, unit_level.pk])
    start = (timezone.localdate() - timedelta(days=45)).isoformat()
    end = (timezone.localdate() - timedelta(days=35)).isoformat()
    assert found(org.admin, updated_after=start, updated_before=end) == [collective.pk]
    assert found(org.admin, updated_after=timezone.localdate().isoformat()) == sorted([city.pk, unit_level.pk])
    moved = submitted(org)
    assert found(org.admin, stage="summarise") == [moved.pk]


def test_the_unit_filter_takes_the_unit_and_everything_below_it(org):
    in_ward = make_nomination(org, unit=org.ward)
    in_hospital = make_nomination(org)
    assert found(org.admin, unit=org.district.pk) == [in_ward.pk]
    assert found(org.admin, unit=org.ward.pk) == [in_ward.pk]
    assert found(org.admin, unit=org.city.pk) == sorted([in_ward.pk, in_hospital.pk])
    assert found(org.admin, unit=org.department.pk) == [in_hospital.pk]


def test_priority_groups_as_the_domain_has_them(org):
    worker = make_nomination(org, nominee=NomineeFactory(unit=org.hospital, category=IndividualCategory.FARMER))
    woman = make_nomination(
        org, nominee=NomineeFactory(unit=org.hospital, category=IndividualCategory.LEADER, gender="female")
    )
    remote = make_nomination(
        org,
        nominee=NomineeFactory(unit=org.hospital, category=IndividualCategory.MANAGER, remote_or_island=True),
    )
    assert found(org.admin, priority="direct_worker") == [worker.pk]
    assert found(org.admin, priority="woman") == [woman.pk]
    assert found(org.admin, priority="remote") == [remote.pk]


def test_step_holder_overdue_due_within_and_submitted_filters(org):
    waiting = submitted(org)
    later = submitted(org)
    make_nomination(org)  # no step open
    task = open_step(waiting)
    holder = holders(task)[0]
    assert found(org.admin, step=task.step.code) == sorted([waiting.pk, later.pk])
    assert found(org.admin, holder=holder.pk) == sorted([waiting.pk, later.pk])
    # One step overdue, the other due in 30 days.
    ApprovalTask.objects.filter(pk=task.pk).update(due_at=timezone.now() - timedelta(days=1))
    ApprovalTask.objects.filter(pk=open_step(later).pk).update(due_at=timezone.now() + timedelta(days=30))
    assert found(org.admin, overdue="on") == [waiting.pk]
    assert found(org.admin, due_within="3") == [waiting.pk]
    assert found(org.admin, due_within="40") == sorted([waiting.pk, later.pk])
    today = timezone.localdate().isoformat()
    assert found(org.admin, submitted_after=today, submitted_before=today) == sorted([waiting.pk, later.pk])
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    assert found(org.admin, submitted_after=tomorrow) == []


def test_a_refused_filter_value_is_said_and_the_others_still_apply(client, org):
    hoa = named(org, "Nguyễn Thị Hoa")
    named(org, "Trần Văn Bình")
    client.force_login(org.admin)
    for bad in ({"due_within": "²"}, {"step": "no-such-step"}, {"campaign": "99999999999999999999"}, {"cursor": "x"}):
        response = client.get(LIST, {"q": "hoa", **bad})
        assert response.status_code == 400, bad
        assert [row.pk for row in response.context["page"].rows] == [hoa.pk]
        assert list(response.context["messages"]), bad


# --- orders and pages --------------------------------------------------------------------------------


def _all_pages(user, sort, size=2) -> list[int]:
    scope = user_scope(user)
    seen, after = [], None
    for _ in range(50):
        page = tracker_page(TrackerFilter({}, user=user, scope=scope).qs, sort=sort, after=after, size=size)
        seen += [row.pk for row in page.rows]
        if page.next_after is None:
            return seen
        order, key, pk = page.next_after
        after = (SORTS[order].parse(key), pk)
    raise AssertionError("no last page")


@pytest.mark.parametrize("sort", list(SORTS))
def test_every_order_pages_without_duplicates_or_skips(org, sort):
    moment = timezone.now()
    rows = [named(org, name) for name in ("Bùi An", "Bùi An", "An Khê", "Đỗ Mai", "Yên Thế")]
    rows += [submitted(org), submitted(org)]
    rows.append(make_nomination(org, unit=org.ward))
    Nomination.objects.filter(pk__in=[row.pk for row in rows[:3]]).update(updated_at=moment)  # ties
    whole = _all_pages(org.admin, sort, size=100)
    assert sorted(whole) == sorted(row.pk for row in rows)
    assert _all_pages(org.admin, sort, size=2) == whole
    assert _all_pages(org.admin, sort, size=3) == whole


def test_the_orders_sort_by_what_they_say(org):
    b = named(org, "Bùi Bình")
    a = named(org, "An Khê", unit=org.ward)
    late = submitted(org)
    soon = submitted(org)
    ApprovalTask.objects.filter(pk=open_step(late).pk).update(due_at=timezone.now() + timedelta(days=20))
    ApprovalTask.objects.filter(pk=open_step(soon).pk).update(due_at=timezone.now() + timedelta(days=2))
    assert _all_pages(org.admin, "name")[:2] == [a.pk, b.pk]
    assert _all_pages(org.admin, "due")[:2] == [soon.pk, late.pk]
    assert _all_pages(org.admin, "unit")[0] == b.pk  # "Bệnh viện Việt Tiệp" before "Phường Trại Cau"
    assert _all_pages(org.admin, "unit")[-1] == a.pk
    assert set(_all_pages(org.admin, "stage")[:2]) == {a.pk, b.pk}  # discover before summarise


def test_the_next_page_link_carries_the_filters_and_an_opaque_cursor(client, org):
    rows = [named(org, f"Nguyễn Hoa {n}") for n in range(60)]
    client.force_login(org.admin)
    first = client.get(LIST, {"q": "hoa", "sort": "name"})
    assert first.status_code == 200
    cursor = first.context["next_cursor"]
    assert cursor
    assert "|" not in cursor
    second = client.get(LIST, {"q": "hoa", "sort": "name", "cursor": cursor})
    shown = [row.pk for row in first.context["page"].rows] + [row.pk for row in second.context["page"].rows]
    assert sorted(shown) == sorted(row.pk for row in rows)
    # A cursor of another order is refused, not misread.
    refused = client.get(LIST, {"q": "hoa", "sort": "updated", "cursor": cursor})
    assert refused.status_code == 400
    forged = keyset_cursor("name", 12, 1)
    assert client.get(LIST, {"sort": "name", "cursor": forged}).status_code == 400


# --- cost -------------------------------------------------------------------------------------------


def _page_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(LIST, {"q": "nguyen", "sort": "due", "overdue": "", "kind": "individual"})
    assert response.status_code == 200
    return len(queries.captured_queries)


def test_the_tracker_page_costs_the_same_queries_for_10_and_200_rows(client, org):
    client.force_login(org.hospital_secretary)
    submitted(org, nominee=NomineeFactory(unit=org.hospital, name="Nguyễn Mở"))
    for n in range(9):
        named(org, f"Nguyễn Văn {n}")
    _page_queries(client)  # warm the caches (content types, the tree)
    at_10 = _page_queries(client)
    for n in range(190):
        named(org, f"Nguyễn Thị {n}")
    at_200 = _page_queries(client)
    assert at_10 == at_200
