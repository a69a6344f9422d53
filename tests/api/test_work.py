"""The user's work through the API: the rows of the My work page, in its order, paged by a cursor, with a
constant number of queries whatever its length."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from processes.selectors.my_work import my_work
from tests.factories import make_nomination, submitted

pytestmark = pytest.mark.django_db


def walk(client, url) -> list[dict]:
    rows = []
    while url:
        page = client.get(url)
        assert page.status_code == 200, page.content
        rows += page.json()["results"]
        url = page.json()["next"]
    return rows


def test_the_rows_are_the_my_work_pages_in_its_order(world):
    submitted(world.org)
    make_nomination(world.org)
    user = world.org.hospital_head

    rows = walk(world.client("head_a"), "/api/v1/my-work/")

    page = my_work(user).rows
    assert [(row["kind"], row["key"]) for row in rows] == [(str(row.kind), row.key) for row in page]
    assert len(rows) >= 3


def test_pages_of_one_row_give_the_same_list(world):
    submitted(world.org)
    make_nomination(world.org)
    client = world.client("head_a")

    assert walk(client, "/api/v1/my-work/?page_size=1") == walk(client, "/api/v1/my-work/")


def test_a_forged_cursor_is_400(world):
    response = world.client("head_a").get("/api/v1/my-work/", {"cursor": "bm90IGEgY3Vyc29y"})

    assert response.status_code == 400
    assert "cursor" in response.json()["errors"]


def _queries(client) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/v1/my-work/?page_size=200")
    assert response.status_code == 200
    return len(queries), len(response.json()["results"])


def test_the_work_list_keeps_its_queries_at_10_and_200_rows(world):
    client = world.client("head_a")
    # Each case of the hospital in discover waits for its head to start cultivation: one row each.
    for _ in range(9):
        make_nomination(world.org)
    small = _queries(client)
    for _ in range(190):
        make_nomination(world.org)
    large = _queries(client)

    assert (small[1], large[1]) == (10, 200)
    assert small[0] == large[0]
