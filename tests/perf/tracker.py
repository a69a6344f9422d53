"""The case tracker at scale: a search and a filtered page, as ``/cases/`` reads them, with at least
200,000 nominations in the database.

Nominations are the inbox bench's when there are enough (its build leaves about 300,000); missing ones
are cloned from a real case, server-side, as ``inbox.py`` clones (``inbox._clone``). Cloned nominees
all carry their prototype's name, so every nominee is then renamed with a Vietnamese name drawn from
common family, middle and given names, and every nomination's search column written again through the
product's own normaliser (``processes.text.searchable``): one COPY and two UPDATE … FROM statements.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from tests.perf.inbox import Timing, _clone, _prototypes

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô"]
MIDDLE = ["Thị", "Văn", "Đức", "Thanh", "Minh", "Ngọc", "Hữu", "Thu", "Quốc", "Hoài"]
GIVEN = [
    "Hoa", "Khoa", "An", "Bình", "Châu", "Dũng", "Giang", "Hà", "Hải", "Hằng", "Hiếu", "Hòa", "Hùng", "Hương",
    "Khánh", "Lan", "Linh", "Long", "Mai", "Nam", "Nga", "Ngân", "Nhung", "Phong", "Phúc", "Quân", "Sơn",
    "Tâm", "Thảo", "Thắng", "Trang", "Trung", "Tú", "Tuấn", "Vân", "Việt", "Xuân", "Yến", "Đạt", "Điệp",
]  # fmt: skip
SEARCH = "nguyen thi hoa"
SEARCHED = "Nguyễn Thị Hoa"
PLANTED = 500
#: A typical filtered page: newest change first within a subtree, a form, a stage, a kind and a group.
#: Overdue cases, newest change first (``OVERDUE``), are measured on their own row.
FILTERS = {"stage": "summarise", "kind": "individual", "priority": "direct_worker", "sort": "updated"}


OVERDUE = {"overdue": "on", "sort": "updated"}


def filters(org) -> dict:
    return {**FILTERS, "unit": str(org.city.pk), "award_form": str(org.city_form.pk)}


@dataclass
class Built:
    nominations: int
    cloned: int
    seconds: float


def build(org, *, nominations: int, seed: int = 2027, say=print) -> Built:
    from processes.models import Nomination

    started = time.perf_counter()
    rng = random.Random(seed)
    missing = max(0, nominations - Nomination.objects.count())
    if missing:
        open_proto, _closed, _task_model = _prototypes(org)
        User = get_user_model()
        pool = User._default_manager.bulk_create(
            User(username=f"bench.tracker.{n}", email=f"bench.tracker.{n}@example.test", password="!")
            for n in range(50)
        )
        clones = []
        for _ in range(missing):
            holder, other = rng.sample(pool, 2)
            clones.append((rng.randint(-10 * 86400, 60 * 86400), holder.pk, other.pk))
        with transaction.atomic():
            _clone(open_proto, missing, clones)
        say(f"  {missing:,} cases cloned ({time.perf_counter() - started:.0f} s)")
    _rename_everyone(rng)
    with connection.cursor() as cursor:
        for table in ("processes_nominee", "processes_nomination"):
            cursor.execute(f"VACUUM ANALYZE {table}")
    total = Nomination.objects.count()
    say(f"  {total:,} nominations renamed and indexed ({time.perf_counter() - started:.0f} s)")
    return Built(nominations=total, cloned=missing, seconds=time.perf_counter() - started)


def _rename_everyone(rng: random.Random) -> None:
    from processes.text import searchable

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n.id, n.nominee_id, u.name, COALESCE(d.number, '') FROM processes_nomination n "
            "JOIN processes_organisationunit u ON u.id = n.unit_id "
            "LEFT JOIN processes_decision d ON d.nomination_id = n.id"
        )
        rows = cursor.fetchall()
        cursor.execute("CREATE TEMPORARY TABLE bench_names (nomination bigint, nominee bigint, name text, search text)")
        with cursor.cursor.copy("COPY bench_names (nomination, nominee, name, search) FROM STDIN") as copy:
            for index, (nomination, nominee, unit, number) in enumerate(rows):
                # One in PLANTED is the searched name (400 at 200,000), whatever the draw gives besides.
                name = (
                    SEARCHED
                    if index % PLANTED == 0
                    else f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
                )
                copy.write_row((nomination, nominee, name, searchable(name, unit, number)))
        cursor.execute("UPDATE processes_nominee p SET name = b.name FROM bench_names b WHERE p.id = b.nominee")
        cursor.execute(
            "UPDATE processes_nomination p SET search_text = b.search FROM bench_names b WHERE p.id = b.nomination"
        )
        cursor.execute("DROP TABLE bench_names")


def page(user, query: dict):
    """The tracker's page as the view reads it: the FilterSet over the user's scope, then one page."""
    from processes.filters import TrackerFilter
    from processes.permissions import user_scope
    from processes.selectors import tracker_page

    filterset = TrackerFilter(query, user=user, scope=user_scope(user))
    if not filterset.is_valid():
        raise RuntimeError(f"the bench's query is refused: {filterset.form.errors}")
    return tracker_page(filterset.qs, sort=filterset.sort, after=filterset.after)


def check(org, user) -> None:
    """The search finds only what it should, and the filtered page is not empty."""
    from processes.text import searchable

    found = page(user, {"q": SEARCH}).rows
    if not found or any(" nguyen thi hoa " not in searchable(row.nominee.name) for row in found):
        raise RuntimeError(f"the tracker's search found {len(found)} rows, not all of them named {SEARCH!r}")
    if not page(user, filters(org)).rows:
        raise RuntimeError("the filtered page is empty: the bench would measure nothing")


def measure(user, query: dict, *, calls: int) -> Timing:
    timing = Timing()
    for _ in range(max(5, calls // 10)):  # warm: the plan cache, the connection, the pages read
        page(user, query)
    with CaptureQueriesContext(connection) as queries:
        timing.rows = len(page(user, query).rows)
    timing.statements = len(queries.captured_queries)
    for _ in range(calls):
        before = time.perf_counter()
        page(user, query)
        timing.latencies.append(time.perf_counter() - before)
    return timing
