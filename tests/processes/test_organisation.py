"""The dated organisation tree: one head at a time, and reorganisations that keep history."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from processes import errors, services
from processes.models import Membership, Role, UnitKind, UnitLink
from processes.organisation import OrgTree, unit_head_on
from tests.factories import UnitFactory, UserFactory, link, member


@pytest.fixture
def ward(db):
    return UnitFactory(code="HP.LC.PTT", kind=UnitKind.UNIT)


def test_overlapping_head_memberships_are_refused_by_the_service(ward):
    services.membership_create(
        user=UserFactory(), unit=ward, role=Role.HEAD, valid_from=date(2021, 1, 1), valid_to=date(2024, 1, 1)
    )
    with pytest.raises(errors.OverlappingMembership):
        services.membership_create(user=UserFactory(), unit=ward, role=Role.HEAD, valid_from=date(2023, 6, 1))
    assert Membership.objects.filter(unit=ward, role=Role.HEAD).count() == 1


def test_an_open_ended_head_blocks_any_later_head(ward):
    services.membership_create(user=UserFactory(), unit=ward, role=Role.HEAD, valid_from=date(2021, 1, 1))
    with pytest.raises(errors.OverlappingMembership):
        services.membership_create(
            user=UserFactory(), unit=ward, role=Role.HEAD, valid_from=date(2030, 1, 1), valid_to=date(2031, 1, 1)
        )


def test_consecutive_heads_and_concurrent_deputies_are_fine(ward):
    services.membership_create(
        user=UserFactory(), unit=ward, role=Role.HEAD, valid_from=date(2021, 1, 1), valid_to=date(2025, 7, 1)
    )
    services.membership_create(user=UserFactory(), unit=ward, role=Role.HEAD, valid_from=date(2025, 7, 1))
    services.membership_create(user=UserFactory(), unit=ward, role=Role.DEPUTY, valid_from=date(2021, 1, 1))
    services.membership_create(user=UserFactory(), unit=ward, role=Role.DEPUTY, valid_from=date(2022, 1, 1))
    assert Membership.objects.filter(unit=ward).count() == 4


def test_model_validation_refuses_an_overlapping_head(ward):
    member(UserFactory(), ward, Role.HEAD, valid_from=date(2021, 1, 1))
    second = Membership(user=UserFactory(), unit=ward, role=Role.HEAD, valid_from=date(2022, 1, 1))
    with pytest.raises(ValidationError):
        second.full_clean()


@pytest.mark.postgres
def test_postgres_refuses_an_overlapping_head_even_past_the_application(ward):
    member(UserFactory(), ward, Role.HEAD, valid_from=date(2021, 1, 1), valid_to=date(2024, 1, 1))
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(user=UserFactory(), unit=ward, role=Role.HEAD, valid_from=date(2023, 1, 1))
    # Adjacent periods share no day: allowed.
    Membership.objects.create(user=UserFactory(), unit=ward, role=Role.HEAD, valid_from=date(2024, 1, 1))


@pytest.mark.postgres
def test_postgres_refuses_two_parents_at_once(ward):
    city = UnitFactory(code="HP", kind=UnitKind.CITY)
    district = UnitFactory(code="HP.LC", kind=UnitKind.DISTRICT)
    link(ward, district, valid_from=date(2021, 1, 1))
    with pytest.raises(IntegrityError), transaction.atomic():
        UnitLink.objects.create(unit=ward, parent=city, valid_from=date(2025, 7, 1))


def test_who_headed_a_unit_on_a_date_has_one_answer(ward):
    before, after = UserFactory(username="truoc"), UserFactory(username="sau")
    member(before, ward, Role.HEAD, valid_from=date(2021, 1, 1), valid_to=date(2025, 7, 1))
    member(after, ward, Role.HEAD, valid_from=date(2025, 7, 1))
    assert unit_head_on(ward, date(2025, 6, 30)) == before
    assert unit_head_on(ward, date(2025, 7, 1)) == after
    assert unit_head_on(ward, date(2020, 12, 31)) is None


def test_the_2025_reform_changes_the_tree_without_rewriting_history(ward):
    city = UnitFactory(code="HP", kind=UnitKind.CITY)
    district = UnitFactory(code="HP.LC", kind=UnitKind.DISTRICT)
    link(district, city, valid_from=date(2021, 1, 1), valid_to=date(2025, 7, 1))
    link(ward, district, valid_from=date(2021, 1, 1), valid_to=date(2025, 7, 1))
    link(ward, city, valid_from=date(2025, 7, 1))
    old, new = OrgTree.on(date(2025, 6, 30)), OrgTree.on(date(2025, 7, 1))
    assert old.ancestors(ward.pk) == [district.pk, city.pk]
    assert new.ancestors(ward.pk) == [city.pk]
    assert old.nearest_of_kind(ward.pk, (UnitKind.DISTRICT,)) == district.pk
    assert new.nearest_of_kind(ward.pk, (UnitKind.DISTRICT,)) is None
    assert ward.pk in old.descendants(district.pk)
    assert ward.pk not in new.descendants(district.pk)
