"""What one decision costs the database: at most 20 statements, BEGIN and COMMIT included, for every
step of a chain, the signed award too. A change that reads something again, or adds a savepoint, a
gateway task or a second audit entry, fails here before ``make bench`` shows it."""

import pytest
from django.db import connection

from processes import services
from tests.factories import holders, open_step, submitted

#: The target of issue 10 (DESIGN: a decision at the engine's own cost).
MAX_STATEMENTS = 20


def _statements_of(call) -> list[str]:
    """The statements ``call`` sends, plus the BEGIN and COMMIT of its own transaction (psycopg sends
    those itself, past Django's wrappers)."""
    sent = []

    def count(execute, sql, params, many, context):
        sent.append(sql)
        return execute(sql, params, many, context)

    assert not connection.in_atomic_block  # the decision opens (and pays for) its own transaction
    with connection.execute_wrapper(count):
        call()
    return ["BEGIN", *sent, "COMMIT"]


@pytest.mark.django_db(transaction=True)
def test_every_decision_of_a_chain_costs_at_most_twenty_statements(org):
    nomination = submitted(org)
    # A first decision warms the process's caches (the organisation tree, the calendar, the template).
    costs = {}
    while (task := open_step(nomination)) is not None:
        holder = holders(task)[0]
        statements = _statements_of(
            lambda task=task, holder=holder: services.nomination_decide(
                task_id=task.pk, by=holder, action="approve", decision_number="7/QĐ-UBND"
            )
        )
        costs[task.step.code] = len(statements)
        savepoints = [sql for sql in statements if sql.startswith("SAVEPOINT")]
        assert savepoints == [], task.step.code
    assert set(costs) == {"unit_confirm", "proposer_submit", "board_intake", "board_appraisal", "chairman_decision"}
    assert max(costs.values()) <= MAX_STATEMENTS, costs
    nomination.refresh_from_db()
    assert nomination.stage == "replicate"
