"""The API's permission matrix: every route by method by actor, with what each must get.

Each part of the API declares its rows in ``tests/api/matrix_<part>.py`` as ``ROWS = [Row(...), ...]``;
``test_matrix.py`` runs every row for every actor and fails when a route of ``/api/v1/`` (and method it
answers) has no row. A row builds its path (and body) from the world ``World`` seeded in the test, so
"inside" and "outside" objects are real objects of the tree.

The actors: ``anonymous``; ``head_a`` (head of the hospital, unit A) and ``head_b`` (head of the ward, unit
B, in another branch of the tree); ``secretary`` (the hospital's secretary); ``board`` (a Board officer);
``council`` (a council member); ``chairman`` (the city's); ``admin`` (a superuser).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

ACTORS = ("anonymous", "head_a", "head_b", "secretary", "board", "council", "chairman", "admin")

#: What an actor gets: ``ALLOW`` (any 2xx), ``DENY`` (403 or 404: refused without saying whether the object
#: exists), ``UNAUTHENTICATED`` (401), or an exact status code (int) where the contract is that code.
ALLOW = "allow"
DENY = "deny"
UNAUTHENTICATED = "401"


@dataclass
class Row:
    """One request. ``path(world)`` gives the URL; ``body(world)`` the JSON (or multipart, ``multipart=True``)
    payload; ``expect`` maps actor → outcome, ``default`` covers the actors not named (anonymous is
    ``UNAUTHENTICATED`` unless named). ``fresh``: the request changes state, so the test seeds a new world
    for each actor (otherwise one world serves every actor of the row)."""

    route: str  # the route without "api/v1/", as the resolver has it: "nominations/<pk>/", "auth/tokens/"
    method: str  # "get", "post", "patch", "put", "delete"
    path: Callable[[Any], str]
    expect: dict[str, str | int] = field(default_factory=dict)
    default: str | int = DENY
    body: Callable[[Any], dict] | None = None
    multipart: bool = False
    fresh: bool = False
    note: str = ""

    def outcome(self, actor: str) -> str | int:
        if actor in self.expect:
            return self.expect[actor]
        return UNAUTHENTICATED if actor == "anonymous" else self.default
