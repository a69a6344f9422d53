"""The inbox at scale: ``inbox_page`` for a typical approver (15 open tasks) and a heavy one (20,000),
with 100,000 open and 1,000,000 finished tasks in the database.

The rows are not written by hand. Two real cases are made through the product's own services: one
approved twice (two finished steps and one open), one approved three times and then rejected (four
finished steps, the run ended). Each is then cloned in bulk, server-side (``INSERT … SELECT`` over a
table of clone numbers), with every column copied from its prototype row except:

- primary keys, taken from blocks reserved on each table's sequence, and every foreign key (or
  content type + object id pair) that points at another cloned row, which points at that row's clone;
- the users of the task rows: the open step's holder becomes the clone's holder, anyone else a user
  from a pool of approvers, so tasks spread over people as they would;
- date-times, shifted per clone (open steps fall due from 10 days ago to 60 days ahead);
- unique text columns not already made unique by a new key (a nominee's identity number), numbered.

So the rows are whatever the product writes for a case, whatever its schema; what is named here is
only how a case hangs together (a nomination, its nominee, its run, the run's human tasks and the rows
that hang from them), found through the models' metadata from the objects the public helpers return.
Counted tasks are human steps (the product's task rows); viewflow's own start and gateway rows of the
prototypes are not cloned. After the build the tables are vacuumed and analysed, as autovacuum would
have them, and the product's own reader must see exactly the tasks built for the two approvers.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import connection, models, transaction
from django.test.utils import CaptureQueriesContext
from viewflow.workflow.models import Process

TYPICAL = 15
POOL = 5000


@dataclass
class Built:
    typical: object
    heavy: object
    open_tasks: int
    finished_tasks: int
    seconds: float


@dataclass
class Timing:
    latencies: list[float] = field(default_factory=list)
    statements: int = 0
    rows: int = 0


def _root(model):
    """The model whose sequence numbers ``model``'s rows (multi-table children and one-to-one keys
    share their parent's number)."""
    while model._meta.pk.is_relation:
        model = model._meta.pk.related_model
    return model._meta.concrete_model


def _chain(model) -> list:
    """The tables of a multi-table model, parents first."""
    return [*reversed(model._meta.get_parent_list()), model]


@dataclass
class Case:
    """The rows of one prototype case, in insertion order, and the holder(s) of its open step."""

    rows: list[tuple[type, int]]
    holders: list[int]
    task_models: set = field(default_factory=set)


def _process_field(task_model) -> models.ForeignKey:
    """The task row's link to its run (a viewflow process)."""
    return next(
        f
        for f in task_model._meta.concrete_fields
        if f.many_to_one and not f.primary_key and issubclass(f.related_model, Process)
    )


def _case_rows(nomination, process_pk: int, task_model, holders: list[int]) -> Case:
    nominee_field = nomination._meta.get_field("nominee")
    rows: list[tuple[type, int]] = [
        (nominee_field.related_model, nomination.nominee_id),
        (type(nomination), nomination.pk),
    ]
    process_field = _process_field(task_model)
    rows += [(model, process_pk) for model in _chain(process_field.related_model)]
    task_pks = list(
        task_model._default_manager.filter(**{process_field.name: process_pk})
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    # The engine's task rows first (the product's task row shares their key), then the product's.
    engine = task_model._meta.pk.related_model if task_model._meta.pk.is_relation else None
    task_models = {task_model}
    if engine is not None:
        task_models |= set(_chain(engine))
        rows += [(model, pk) for pk in task_pks for model in _chain(engine)]
    rows += [(task_model, pk) for pk in task_pks]
    for relation in task_model._meta.related_objects:
        if relation.many_to_many or relation.related_model in task_models:
            continue
        dependant = relation.related_model
        found = dependant._default_manager.filter(**{f"{relation.field.name}__in": task_pks}).values_list(
            "pk", flat=True
        )
        rows += [(dependant, pk) for pk in found.order_by("pk")]
        if found:
            task_models.add(dependant)
    return Case(rows=rows, holders=holders, task_models=task_models)


def _content_pairs(model) -> list[tuple[models.Field, models.Field]]:
    """(content type, object id) field pairs: generic relations and the ``x_type`` + ``x_id`` habit."""
    pairs = []
    fields = {f.name: f for f in model._meta.local_concrete_fields}
    for private in model._meta.private_fields:
        ct_field, fk_field = getattr(private, "ct_field", None), getattr(private, "fk_field", None)
        if ct_field in fields and fk_field in fields:
            pairs.append((fields[ct_field], fields[fk_field]))
    for f in fields.values():
        if f.is_relation and f.related_model is ContentType:
            prefix = f.name.removesuffix("content_type").removesuffix("_type").rstrip("_")
            for partner in (f"{prefix}_id", f"{prefix}_object_id", "object_id"):
                other = fields.get(partner)
                if other is not None and isinstance(other, models.IntegerField) and not other.is_relation:
                    pairs.append((f, other))
                    break
    return list(dict.fromkeys(pairs))


def _unique_sets(model) -> list[list[models.Field]]:
    meta = model._meta
    local = {f.name for f in meta.local_concrete_fields}
    sets = [[f] for f in meta.local_concrete_fields if f.unique and not f.primary_key]
    sets += [
        [meta.get_field(name) for name in constraint.fields]
        for constraint in meta.constraints
        if isinstance(constraint, models.UniqueConstraint) and constraint.fields
    ]
    sets += [[meta.get_field(name) for name in names] for names in meta.unique_together]
    return [fields for fields in sets if all(f.name in local for f in fields)]


def _clone(case: Case, count: int, clones: list[tuple]) -> None:
    """Insert ``count`` clones of ``case``; ``clones``: (shift seconds, holder id, other id) per clone."""
    qn = connection.ops.quote_name
    user_model = get_user_model()
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE bench_clone (g integer, shift interval, holder bigint, other bigint)")
        with cursor.cursor.copy("COPY bench_clone (g, shift, holder, other) FROM STDIN") as copy:
            for number, (shift, holder, other) in enumerate(clones):
                copy.write_row((number, timedelta(seconds=shift), holder, other))
        # A block of keys per prototype row of each sequence-owning table.
        bases: dict[tuple[type, int], int] = {}
        by_root: dict[type, list[int]] = {}
        for model, pk in case.rows:
            if not model._meta.pk.is_relation:
                by_root.setdefault(model, []).append(pk)
        for model, pks in by_root.items():
            table, column = model._meta.db_table, model._meta.pk.column
            cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [qn(table), column])
            (sequence,) = cursor.fetchone()
            cursor.execute(
                f"SELECT GREATEST(nextval(%s), (SELECT COALESCE(MAX({qn(column)}), 0) + 1 FROM {qn(table)}))",
                [sequence],
            )
            (first,) = cursor.fetchone()
            cursor.execute("SELECT setval(%s, %s)", [sequence, first + len(pks) * count])
            for index, pk in enumerate(pks):
                bases[(model, pk)] = first + index * count
        for model, pk in case.rows:
            _insert_clones(cursor, model, pk, case, bases, user_model)
        cursor.execute("DROP TABLE bench_clone")


def _insert_clones(cursor, model, pk, case, bases, user_model) -> None:
    qn = connection.ops.quote_name
    meta = model._meta
    fields = meta.local_concrete_fields
    values = model._base_manager.filter(pk=pk).values(*[f.attname for f in fields]).get()

    def mapped(target, value) -> str | None:
        if value is None:
            return None
        base = bases.get((_root(target), value))
        return None if base is None else f"{base} + c.g"

    expressions: dict[str, str] = {}
    for f in fields:
        value = values[f.attname]
        if f.primary_key and not f.is_relation:
            expressions[f.column] = mapped(model, pk)
        elif f.is_relation and f.related_model is user_model._meta.concrete_model and model in case.task_models:
            if value is None:
                continue
            expressions[f.column] = "c.holder" if value in case.holders[:1] else "c.other"
        elif f.is_relation:
            target = mapped(f.related_model, value)
            if target is not None:
                expressions[f.column] = target
        elif isinstance(f, models.DateTimeField):
            expressions[f.column] = f"p.{qn(f.column)} + c.shift"
    for ct_field, id_field in _content_pairs(model):
        ct_id, object_id = values[ct_field.attname], values[id_field.attname]
        content = ContentType.objects.get_for_id(ct_id).model_class() if ct_id is not None else None
        if content is not None and object_id is not None:
            target = mapped(content, object_id)
            if target is not None:
                expressions[id_field.column] = target
    new_key = expressions.get(meta.pk.column)
    if new_key is None:
        raise RuntimeError(f"{meta.label}: no new key for the clone of row {pk}")
    for unique in _unique_sets(model):
        if any("c.g" in expressions.get(f.column, "") for f in unique):
            continue
        texts = [f for f in unique if isinstance(f, models.CharField | models.TextField)]
        if not texts:
            raise RuntimeError(f"{meta.label}: cannot make {[f.name for f in unique]} unique in clones")
        for f in texts:
            width = min(f.max_length or 12, 12)
            keep = (f.max_length or 10_000) - width
            expressions[f.column] = f"left(p.{qn(f.column)}, {keep}) || lpad(({new_key})::text, {width}, '0')"
    columns = ", ".join(qn(f.column) for f in fields)
    selected = ", ".join(expressions.get(f.column, f"p.{qn(f.column)}") for f in fields)
    cursor.execute(
        f"INSERT INTO {qn(meta.db_table)} ({columns}) SELECT {selected} "
        f"FROM {qn(meta.db_table)} AS p CROSS JOIN bench_clone AS c WHERE p.{qn(meta.pk.column)} = %s",
        [pk],
    )


def _prototypes(org):
    """Two real cases, made and decided through the product's services."""
    from processes.services import nomination_decide
    from tests.factories import holders, open_step, submitted

    def approve(nomination, times: int):
        for _ in range(times):
            task = open_step(nomination)
            nomination_decide(task_id=task.pk, by=holders(task)[0], action="approve")

    open_case = submitted(org)
    approve(open_case, 2)
    open_task = open_step(open_case)
    task_model = type(open_task)
    process_field = _process_field(task_model)
    open_proto = _case_rows(
        open_case, getattr(open_task, process_field.attname), task_model, [u.pk for u in holders(open_task)]
    )
    closed_case = submitted(org)
    approve(closed_case, 3)
    last = open_step(closed_case)
    nomination_decide(task_id=last.pk, by=holders(last)[0], action="reject", comment="Bench: a finished case.")
    if open_step(closed_case) is not None:
        raise RuntimeError("the rejected prototype still has an open step")
    closed_proto = _case_rows(closed_case, getattr(last, process_field.attname), task_model, [])
    return open_proto, closed_proto, task_model


def build(org, *, open_tasks: int, finished_tasks: int, heavy: int, seed: int = 2026, say=print) -> Built:
    started = time.perf_counter()
    rng = random.Random(seed)
    User = get_user_model()
    open_proto, closed_proto, task_model = _prototypes(org)
    per_open = sum(1 for model, _pk in open_proto.rows if model is task_model)
    per_closed = sum(1 for model, _pk in closed_proto.rows if model is task_model)
    finished_in_open = open_tasks * (per_open - 1)
    closed_cases = max(0, -(-(finished_tasks - finished_in_open) // per_closed))
    pool_size = max(10, min(POOL, (open_tasks - heavy - TYPICAL) // TYPICAL))
    users = User._default_manager.bulk_create(
        User(username=f"bench.inbox.{n}", email=f"bench.inbox.{n}@example.test", password="!")
        for n in range(pool_size + 2)
    )
    typical, heavy_user, pool = users[0], users[1], [user.pk for user in users[2:]]
    holders = [typical.pk] * TYPICAL + [heavy_user.pk] * heavy
    holders += [pool[n % len(pool)] for n in range(open_tasks - len(holders))]
    rng.shuffle(holders)

    def other_than(holder):
        while (pick := rng.choice(pool)) == holder:
            pass
        return pick

    open_clones = [(rng.randint(-10 * 86400, 60 * 86400), h, other_than(h)) for h in holders]
    closed_clones = [(rng.randint(-400 * 86400, -86400), p, other_than(p)) for p in rng.choices(pool, k=closed_cases)]
    with transaction.atomic():
        _clone(open_proto, open_tasks, open_clones)
        say(f"  {open_tasks:,} open cases cloned ({time.perf_counter() - started:.0f} s)")
        _clone(closed_proto, closed_cases, closed_clones)
        say(f"  {closed_cases:,} finished cases cloned ({time.perf_counter() - started:.0f} s)")
    tables = {model._meta.db_table for case in (open_proto, closed_proto) for model, _pk in case.rows}
    tables.add(User._meta.db_table)
    with connection.cursor() as cursor:
        for table in sorted(tables):
            cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(table)}")
    finished = finished_in_open + closed_cases * per_closed
    say(f"  vacuumed and analysed ({time.perf_counter() - started:.0f} s)")
    return Built(typical, heavy_user, open_tasks, finished, time.perf_counter() - started)


def check(built: Built, *, heavy: int, size: int) -> None:
    """The product's reader sees the built tasks: all 15 of the typical approver, a full first page
    (and more) of the heavy one."""
    from processes.selectors import inbox_page

    page = inbox_page(user=built.typical, size=size)
    if len(page.rows) != TYPICAL or page.next_cursor is not None:
        raise RuntimeError(f"typical approver: inbox shows {len(page.rows)} tasks, {TYPICAL} were built")
    page = inbox_page(user=built.heavy, size=size)
    if len(page.rows) != min(size, heavy) or (heavy > size) != (page.next_cursor is not None):
        raise RuntimeError(f"heavy approver: first page has {len(page.rows)} tasks of {heavy} built")


def measure(user, *, calls: int, size: int) -> Timing:
    from processes.selectors import inbox_page

    timing = Timing()
    for _ in range(max(5, calls // 10)):  # warm: the plan cache, the connection, the pages read
        inbox_page(user=user, size=size)
    with CaptureQueriesContext(connection) as queries:
        timing.rows = len(inbox_page(user=user, size=size).rows)
    timing.statements = len(queries.captured_queries)
    for _ in range(calls):
        before = time.perf_counter()
        inbox_page(user=user, size=size)
        timing.latencies.append(time.perf_counter() - before)
    return timing
