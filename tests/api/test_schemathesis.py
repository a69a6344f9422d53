"""The API fuzzed against its own schema: schemathesis reads ``/api/schema/`` from the live test server and
sends every operation it lists — valid and invalid input — as each actor of the permission matrix, with a
token of that actor's seeded user, and runs every check it has (``--checks all``) on every answer.

No answer may be a server error or break the schema: an undocumented status, a body or content type not
as described, invalid input accepted, a declared authentication not enforced, a method the route does not
have answered with anything but 405. Operations are taken from the schema, so a new endpoint is fuzzed as
soon as it is routed.

Bounded for CI (two cores): ``SCHEMATHESIS_EXAMPLES`` cases per operation and actor (default 10), a fixed
seed, no shrinking. Run more locally: ``SCHEMATHESIS_EXAMPLES=200 .venv/bin/pytest tests/api/test_schemathesis.py``.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from knox.models import AuthToken
from rest_framework.throttling import SimpleRateThrottle
from schemathesis import GenerationMode
from schemathesis.core.result import Ok

from tests.api.conftest import build_world
from tests.api.matrix import ACTORS

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "10"))
SEED = 13

CONFIG = {
    "seed": SEED,
    "checks": {
        "enabled": True,  # all of them
        # "Valid" here means valid for the schema, which cannot say that a campaign id must exist, that a
        # password must be the right one or that a rule of the services refuses: those are 400s with the
        # reason (errors.py), as documented. Any other refusal of schema-valid input (405, 415, 422…) still
        # fails.
        "positive_data_acceptance": {"expected-statuses": ["2xx", "400", "401", "403", "404", "409", "413", "429"]},
    },
}

HYPOTHESIS = settings(
    max_examples=EXAMPLES,
    derandomize=True,  # the same cases on every run
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: the report names the failing request as sent
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture
def unthrottled(monkeypatch):
    """Rates high enough that the fuzzer meets the API, not the throttle (tested in test_core.py)."""
    for scope in ("user", "anon", "token"):
        monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, scope, "100000/min")


def failures_of(operation, headers: dict) -> str | None:
    strategy = operation.as_strategy(GenerationMode.POSITIVE) | operation.as_strategy(GenerationMode.NEGATIVE)

    @HYPOTHESIS
    @given(case=strategy)
    def fuzz(case):
        case.call_and_validate(headers=headers)

    try:
        fuzz()
    except (Exception, BaseExceptionGroup) as failure:  # schemathesis's FailureGroup is a BaseExceptionGroup
        return f"{operation.label}:\n{failure}"
    return None


@pytest.mark.parametrize("actor", ACTORS)
def test_no_operation_answers_a_server_error_or_breaks_the_schema(actor, live_server, transactional_db, unthrottled):
    world = build_world()  # committed (transactional_db), so the live server's thread sees it
    schema = schemathesis.openapi.from_url(
        live_server.url + "/api/schema/", config=schemathesis.Config.from_dict(CONFIG)
    )
    schema.config.update(base_url=live_server.url)
    headers = {}
    if (user := world.user(actor)) is not None:
        _token, secret = AuthToken.objects.create(user)
        headers["Authorization"] = f"Token {secret}"

    operations, problems = [], []
    for result in schema.get_all_operations():
        if isinstance(result, Ok):
            operations.append(result.ok())
        else:  # an operation schemathesis cannot read is a broken schema
            problems.append(str(result.err()))
    assert len(operations) >= 9  # the core's own; every part adds its operations to the schema
    problems += [problem for operation in operations if (problem := failures_of(operation, headers))]
    assert not problems, "\n\n".join(problems)
