"""The annual statistics workbook (form 0603.N): its figures equal independent counts over seeded awards,
its year filter, its scope per reader, and formula-like names kept as text."""

import itertools
from datetime import date
from io import BytesIO

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from processes.models import Decision, NomineeKind, Procedure
from tests.factories import AwardFormFactory, NomineeFactory, make_nomination

#: (kind, individual category or collective type, procedure, form key, year, proposing unit key)
CATEGORIES = ["leader", "manager", "worker", "farmer", "entrepreneur", "other", ""]
COLLECTIVES = ["state_body", "enterprise", "household"]
PROCEDURES = [p.value for p in Procedure]


def _seed_plan():
    """A deterministic mix touching every column, two forms, two years and two units."""
    plan = []
    cycle = itertools.cycle(PROCEDURES)
    for index, category in enumerate(CATEGORIES * 2):
        plan.append(("individual", category, next(cycle), "city" if index % 3 else "unit", 2026, "hospital"))
    for index, collective in enumerate(COLLECTIVES * 2):
        plan.append(("collective", collective, next(cycle), "city" if index % 2 else "unit", 2026, "ward"))
    plan += [
        ("individual", "worker", Procedure.REGULAR, "city", 2025, "hospital"),
        ("collective", "household", Procedure.AD_HOC, "city", 2025, "ward"),
        ("individual", "leader", Procedure.THEMATIC, "unit", 2027, "ward"),
    ]
    return plan


def _award(org, kind, detail, procedure, form, year, unit, *, day=10):
    unit = getattr(org, unit)
    if kind == "individual":
        nominee = NomineeFactory(unit=unit, category=detail)
    else:
        nominee = NomineeFactory(
            unit=unit,
            kind=NomineeKind.COLLECTIVE,
            collective_type=detail,
            id_number="",
            category="",
            gender="",
            birth_date=None,
            ethnicity="",
        )
    award_form = org.city_form if form == "city" else org.unit_form
    nomination = make_nomination(org, unit=unit, nominee=nominee, procedure=procedure, award_form=award_form)
    Decision.objects.create(
        nomination=nomination, number=f"{nomination.pk}/QĐ-UBND", signed_on=date(year, 6, day), signer=org.chairman
    )
    return nomination


@pytest.fixture
def seeded(org):
    plan = _seed_plan()
    for row in plan:
        _award(org, *row)
    return plan


def _expected(plan, *, year, units=None, form=None):
    """The form's figures counted here, independently of the product's queries."""
    rows = [row for row in plan if row[4] == year and (units is None or row[5] in units)]
    if form is not None:
        rows = [row for row in rows if row[3] == form]
    individual = [row for row in rows if row[0] == "individual"]
    return {
        "Total": len(rows),
        "Collectives": sum(row[0] == "collective" and row[1] != "household" for row in rows),
        "Households": sum(row[0] == "collective" and row[1] == "household" for row in rows),
        "Individuals": len(individual),
        "Leaders": sum(row[1] == "leader" for row in individual),
        "Managers": sum(row[1] == "manager" for row in individual),
        "Direct workers (workers and farmers)": sum(row[1] in ("worker", "farmer") for row in individual),
        "Entrepreneurs": sum(row[1] == "entrepreneur" for row in individual),
        "Others": sum(row[1] in ("other", "") for row in individual),
        "Regular": sum(row[2] == "regular" for row in rows),
        "Thematic": sum(row[2] == "thematic" for row in rows),
        "Ad-hoc": sum(row[2] == "ad_hoc" for row in rows),
        "Seniority": sum(row[2] == "seniority" for row in rows),
        "Lifetime contribution": sum(row[2] == "contribution" for row in rows),
        "Foreign": 0,
    }


def _download(client, user, year):
    client.force_login(user)
    response = client.get(reverse("processes:statistics-download"), {"year": year})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    return load_workbook(BytesIO(response.content)).active


def _table(sheet) -> dict[str, dict[str, int]]:
    """Row label → column label → value, read from the sheet as a person would: the heading rows name
    the columns (a sub-heading under a group, else the heading itself)."""
    heading = next(row for row in range(1, 20) if sheet.cell(row=row, column=1).value == "Award form")
    labels = {}
    for column in range(2, sheet.max_column + 1):
        below = sheet.cell(row=heading + 1, column=column).value
        labels[column] = below or sheet.cell(row=heading, column=column).value
    table = {}
    for row in range(heading + 2, sheet.max_row + 1):
        name = sheet.cell(row=row, column=1).value
        table[name] = {labels[column]: sheet.cell(row=row, column=column).value for column in labels}
    return table


def test_the_workbook_totals_equal_independent_counts(client, org, seeded):
    sheet = _download(client, org.board_officer, 2026)
    table = _table(sheet)
    assert table["Total"] == _expected(seeded, year=2026)
    assert table[org.city_form.name] == _expected(seeded, year=2026, form="city")
    assert table[org.unit_form.name] == _expected(seeded, year=2026, form="unit")
    # The totals are what the database holds, and the parts add up to them.
    assert table["Total"]["Total"] == Decision.objects.filter(signed_on__year=2026).count()
    total = table["Total"]
    assert total["Collectives"] + total["Households"] + total["Individuals"] == total["Total"]
    parts = ["Leaders", "Managers", "Direct workers (workers and farmers)", "Entrepreneurs", "Others"]
    assert sum(total[part] for part in parts) == total["Individuals"]
    types = ["Regular", "Thematic", "Ad-hoc", "Seniority", "Lifetime contribution", "Foreign"]
    assert sum(total[kind] for kind in types) == total["Total"]


def test_the_workbook_carries_the_forms_heading(client, org, seeded):
    sheet = _download(client, org.admin, 2026)
    texts = {cell.value for row in sheet.iter_rows(max_row=5) for cell in row if cell.value}
    assert "UBND thành phố" in texts
    assert "Form no. 0603.N" in texts
    assert "Unit of measure: awards" in texts
    assert any("2026" in text and "01/01/2026" in text for text in texts)


def test_the_year_filter_excludes_other_years(client, org, seeded):
    table = _table(_download(client, org.board_officer, 2025))
    assert table["Total"] == _expected(seeded, year=2025)
    assert table["Total"]["Total"] == 2
    assert _table(_download(client, org.board_officer, 2024))["Total"]["Total"] == 0


def test_a_leader_counts_the_awards_of_what_they_lead(client, org, seeded):
    # The district's chairman: the ward below; the department's director: the hospital below.
    assert _table(_download(client, org.district_chairman, 2026))["Total"] == _expected(
        seeded, year=2026, units={"ward"}
    )
    assert _table(_download(client, org.director, 2026))["Total"] == _expected(seeded, year=2026, units={"hospital"})
    # The city's chairman and the Board: the whole city.
    assert _table(_download(client, org.chairman, 2026))["Total"] == _expected(seeded, year=2026)


@pytest.mark.parametrize("role", ["hospital_member", "hospital_secretary", "council_member", "outsider"])
def test_others_see_no_statistics(client, org, role):
    client.force_login(getattr(org, role))
    assert client.get(reverse("processes:statistics")).status_code == 403
    assert client.get(reverse("processes:statistics-download"), {"year": 2026}).status_code == 403


def test_the_page_shows_the_figures_and_refuses_a_bad_year(client, org, seeded):
    client.force_login(org.board_officer)
    page = client.get(reverse("processes:statistics"), {"year": 2025})
    assert page.status_code == 200
    assert page.context["figures"].totals.counts["total"] == 2
    assert f"{reverse('processes:statistics-download')}?year=2025" in page.text
    refused = client.get(reverse("processes:statistics-download"), {"year": "²⁰²⁶"})
    assert refused.status_code == 400
    assert "Year" in refused.text


def test_formula_like_names_are_neutralised(client, org):
    org.city_form.name = '=HYPERLINK("x")'
    org.city_form.save()
    org.city.name = "+1"
    org.city.save()
    _award(org, "individual", "worker", Procedure.REGULAR, "city", 2026, "hospital")
    sheet = _download(client, org.board_officer, 2026)
    values = [cell.value for row in sheet.iter_rows() for cell in row if isinstance(cell.value, str)]
    assert '\'=HYPERLINK("x")' in values
    assert "'+1" in values
    assert not [value for value in values if value.startswith(("=", "+", "-", "@"))]
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


def test_the_figures_take_a_constant_number_of_queries(client, org):
    client.force_login(org.board_officer)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("processes:statistics"), {"year": 2026}).status_code == 200
        return len(captured)

    other_form = AwardFormFactory(code="CSTD")
    _award(org, "individual", "worker", Procedure.REGULAR, "city", 2026, "hospital")
    few = queries()
    for index in range(12):
        _award(org, "individual", "leader", Procedure.THEMATIC, "unit", 2026, "ward", day=index + 1)
    _award(org, "individual", "farmer", Procedure.REGULAR, "city", 2026, "hospital")
    nominee = NomineeFactory(unit=org.hospital)
    nomination = make_nomination(org, nominee=nominee, award_form=other_form)
    Decision.objects.create(nomination=nomination, number="1/QĐ", signed_on=date(2026, 2, 2), signer=org.chairman)
    assert queries() == few
