"""Signing one numbered decision for several approved cases: the chairman (or a vice-chairman on his
behalf) awards every case at its signing step, and the product issues the decision's number.

Numbers run from 1 each year per issuing unit, with no gap. The issuer's ``DecisionCounter`` row is
locked first and raised last, in the one transaction that awards every case: a case that cannot be
awarded undoes the whole signing and its number with it, and two signers of one issuer at once get
consecutive numbers, the second waiting for the first to commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from contextlib import contextmanager
from datetime import date

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from processes import errors
from processes.models import AwardDecision, DecisionCounter, Nomination, OrganisationUnit
from processes.services.decisions import nomination_decide, signer_on_behalf
from workflow.calendar import is_working_day
from workflow.errors import WorkflowError
from workflow.models import ApprovalTask, StepAction

#: The symbol after the number when the issuer has none of its own (a People's Committee's).
DEFAULT_SYMBOL = "QĐ-UBND"


class NonWorkingDay(errors.DomainError):
    """The signing date is a weekend day or a public holiday: signed only when the signer confirms."""


def decision_sign(
    *,
    by,
    task_ids: Iterable[int],
    signed_on: date | None = None,
    confirm_non_working_day: bool = False,
    expected_versions: Mapping[int, int] | None = None,
    comment: str = "",
) -> AwardDecision:
    """Sign one decision awarding the cases whose signing steps ``task_ids`` ``by`` holds.

    Every step must be open, the last of its case, held by ``by`` and of one deciding unit (the
    issuer). ``expected_versions``: task id → the case version the signer saw. All or nothing: a
    case refused (stale, decided meanwhile, not held) is named in the error and nothing is signed,
    no number used. A date that is not a working day needs ``confirm_non_working_day``; a date in
    the future is refused. ``comment`` goes on every case's award."""
    task_ids = sorted(set(task_ids))  # one lock order for every signer
    if not task_ids:
        raise errors.DomainError(_("Choose at least one case to sign."))
    today = timezone.localdate()
    signed_on = signed_on or today
    if signed_on > today:
        raise errors.DomainError(_("A decision cannot be signed with a date in the future."))
    if not confirm_non_working_day and not is_working_day(signed_on):
        raise NonWorkingDay(
            _("%(day)s is not a working day (a weekend or a public holiday). Confirm to sign on that day.")
            % {"day": formats.date_format(signed_on, "d/m/Y")}
        )
    expected_versions = expected_versions or {}
    with transaction.atomic():
        tasks = ApprovalTask.objects.select_related("process").in_bulk(task_ids)
        names = _case_names(tasks.values())
        missing = [task_id for task_id in task_ids if task_id not in tasks]
        if missing:
            raise errors.DomainError(_("This approval step does not exist."))
        # The issuer is the deciding unit of the signing steps; a case of another unit is refused
        # by name with the others (``nomination_decide`` checks each step against the document).
        issuer_id = tasks[task_ids[0]].unit_id
        if issuer_id is None:
            raise errors.DomainError(_("This step has no deciding unit to issue the decision."))
        issuer = OrganisationUnit.objects.get(pk=issuer_id)
        counter = _locked_counter(issuer, signed_on.year)
        document = AwardDecision.objects.create(
            issuer=issuer,
            year=signed_on.year,
            sequence=counter.last_number + 1,
            symbol=issuer.decision_symbol or getattr(settings, "DECISION_SYMBOL_DEFAULT", DEFAULT_SYMBOL),
            signed_on=signed_on,
            signer=by,
            on_behalf=signer_on_behalf(by, unit_id=issuer.pk, day=signed_on),
        )
        for task_id in task_ids:
            try:
                nomination_decide(
                    task_id=task_id,
                    by=by,
                    action=StepAction.APPROVE,
                    comment=comment,
                    expected_version=expected_versions.get(task_id),
                    document=document,
                )
            except WorkflowError as error:
                raise errors.DomainError(
                    _("%(case)s: %(why)s Nothing was signed.") % {"case": names.get(task_id, task_id), "why": error}
                ) from error
        counter.last_number = document.sequence
        counter.save(update_fields=["last_number"])
    return document


def _case_names(tasks) -> dict[int, str]:
    nominees = dict(
        Nomination.objects.filter(pk__in={task.process.subject_id for task in tasks}).values_list("pk", "nominee__name")
    )
    return {task.pk: nominees.get(task.process.subject_id, str(task.pk)) for task in tasks}


def _locked_counter(issuer: OrganisationUnit, year: int) -> DecisionCounter:
    """The issuer's counter for ``year``, created if need be and locked until the transaction ends.

    Signers of one issuer queue here on purpose, so the wait may be longer than the connection's
    usual ``lock_timeout`` (meant for two people deciding one case): ``DECISION_NUMBER_LOCK_TIMEOUT_MS``
    for this one statement."""
    try:
        with _patient_lock():
            # A first signing of the year creates the row; a second one at once waits on the
            # unique key, then finds it.
            DecisionCounter.objects.get_or_create(issuer=issuer, year=year)
            return DecisionCounter.objects.select_for_update().get(issuer=issuer, year=year)
    except DatabaseError as exc:
        raise errors.DomainError(
            _("Another decision of %(issuer)s is being signed; try again in a moment.") % {"issuer": issuer}
        ) from exc


@contextmanager
def _patient_lock():
    """On PostgreSQL, the statements inside wait up to ``DECISION_NUMBER_LOCK_TIMEOUT_MS`` for a lock;
    the connection's own timeout is back for the rest of the transaction."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('lock_timeout')")
        previous = cursor.fetchone()[0]
        wait = int(getattr(settings, "DECISION_NUMBER_LOCK_TIMEOUT_MS", 60000))
        cursor.execute("SELECT set_config('lock_timeout', %s, true)", [f"{wait}ms"])
    yield
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('lock_timeout', %s, true)", [previous])
