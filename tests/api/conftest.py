"""Fixtures of the API tests: the seeded organisation, a client per actor authenticated with a real
token (knox), and ``World``: objects inside unit A (the hospital) and outside it (unit B, the ward)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from knox.models import AuthToken
from rest_framework.test import APIClient

from tests.api.matrix import ACTORS
from tests.factories import NomineeFactory, build_org, make_nomination

#: Actor → the build_org user who plays it.
ACTOR_USERS = {
    "head_a": "hospital_head",
    "head_b": "ward_head",
    "secretary": "hospital_secretary",
    "board": "board_officer",
    "council": "council_member",
    "chairman": "chairman",
    "admin": "admin",
}


def token_client(user) -> APIClient:
    """An API client sending ``Authorization: Token …`` of a token made for ``user`` (none: anonymous)."""
    client = APIClient()
    if user is not None:
        _token, secret = AuthToken.objects.create(user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    return client


@dataclass
class World:
    """A seeded organisation and a case in each branch: ``inside`` (proposed by the hospital, unit A) and
    ``outside`` (proposed by the ward, unit B). Parts add what their rows need with ``extra``."""

    org: object
    inside: object
    outside: object
    extra: dict

    def user(self, actor: str):
        return None if actor == "anonymous" else self.org.users[ACTOR_USERS[actor]]

    def client(self, actor: str) -> APIClient:
        return token_client(self.user(actor))


def build_world() -> World:
    org = build_org()
    inside = make_nomination(org, unit=org.hospital, nominee=NomineeFactory(unit=org.hospital))
    outside = make_nomination(org, unit=org.ward, nominee=NomineeFactory(unit=org.ward))
    return World(org=org, inside=inside, outside=outside, extra={})


@pytest.fixture
def world(db) -> World:
    return build_world()


@pytest.fixture
def actor_clients(world) -> dict[str, APIClient]:
    return {actor: world.client(actor) for actor in ACTORS}
