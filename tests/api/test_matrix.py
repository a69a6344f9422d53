"""Every API route by method by actor answers as its matrix row says (``tests/api/matrix.py``), and no
route of ``/api/v1/`` is without a row."""

from __future__ import annotations

import importlib
import pkgutil
import re

import pytest
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver

import tests.api
from tests.api.conftest import build_world
from tests.api.matrix import ACTORS, ALLOW, DENY, UNAUTHENTICATED, Row

pytestmark = pytest.mark.django_db(transaction=False)


def all_rows() -> list[Row]:
    rows = []
    for module in pkgutil.iter_modules(tests.api.__path__):
        if module.name.startswith("matrix_"):
            rows += importlib.import_module(f"tests.api.{module.name}").ROWS
    return rows


def _routes(resolver=None, prefix=""):
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            yield from _routes(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry


def normalise(route: str) -> str:
    """A resolver route as the rows name it, without ``api/v1/``: the router's regex
    ``^units/(?P<pk>[^/.]+)/$`` → ``units/<pk>/``; ``auth/tokens/<str:token_key>/`` as it is."""
    route = route.removeprefix("api/v1/").replace("^", "").replace("$", "")
    route = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"<\1>", route)
    route = re.sub(r"\\\.\(\?P<format>.*", "", route)
    return route


def api_routes() -> dict[str, URLPattern]:
    found = {}
    for route, pattern in _routes():
        if not route.startswith("api/v1/") or "<format>" in route or "(?P<format>" in route:
            continue
        found[normalise(route)] = pattern
    return found


def methods_of(pattern: URLPattern) -> set[str]:
    callback = pattern.callback
    actions = getattr(callback, "actions", None)
    if actions:
        # DRF adds "head" to a viewset's actions at its first GET (viewsets.py mutates the dict): HEAD is GET.
        return set(actions) - {"head"}
    view_class = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    return {m for m in ("get", "post", "put", "patch", "delete") if hasattr(view_class, m)}


def test_every_api_route_and_method_has_a_row():
    covered = {(normalise(row.route), row.method) for row in all_rows()}
    missing = sorted(
        f"{method.upper()} {route}"
        for route, pattern in api_routes().items()
        for method in methods_of(pattern)
        if (route, method) not in covered and not (method == "put" and (route, "patch") in covered)
    )
    assert missing == [], "routes without a row in tests/api/matrix_*.py"


def _check(row: Row, actor: str, response) -> str | None:
    wanted = row.outcome(actor)
    status = response.status_code
    ok = (
        (wanted == ALLOW and 200 <= status < 300)
        or (wanted == DENY and status in (403, 404))
        or (wanted == UNAUTHENTICATED and status == 401)
        or (isinstance(wanted, int) and status == wanted)
    )
    if ok:
        return None
    return f"{row.method.upper()} {row.route} as {actor}: wanted {wanted}, got {status} {response.content[:200]!r}"


def _send(client, row: Row, world):
    path = row.path(world)
    kwargs = {}
    if row.body is not None:
        kwargs = {"data": row.body(world), "format": "multipart" if row.multipart else "json"}
    return getattr(client, row.method)(path, **kwargs)


class _Undo(Exception):
    """Raised to roll back one actor's world of a ``fresh`` row, carrying what the check found."""


@pytest.mark.parametrize("row", all_rows(), ids=lambda row: f"{row.method}-{row.route}")
def test_matrix_row(row: Row):
    problems = []
    shared = None if row.fresh else build_world()
    for actor in ACTORS:
        if not row.fresh:
            problems.append(_check(row, actor, _send(shared.client(actor), row, shared)))
            continue
        # A request that changes state gets a world of its own, rolled back after it.
        try:
            with transaction.atomic():
                world = build_world()
                raise _Undo(_check(row, actor, _send(world.client(actor), row, world)))
        except _Undo as undo:
            problems.append(undo.args[0])
    assert [problem for problem in problems if problem] == []
