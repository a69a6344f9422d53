"""Counting a council session: the ballot box opened, each case counted over its eligible members, each
outcome handed to the domain. Runs in the tally's own transaction (``CouncilFlow.tally``); see
``workflow.voting`` for the whole session."""

from __future__ import annotations

import random

from django.db.models import Count
from django.utils import timezone

from workflow.actions import VOTE_SESSION_CLOSED
from workflow.audit import audit_append
from workflow.ballot_seal import BallotBoxError, nonce_of, unseal
from workflow.models import Ballot, FailedQuorum, SealedBallot, VoteItem, VoteRules, VoteSession
from workflow.subject import subject_adapter


def _open_ballot_box(session: VoteSession) -> None:
    """Turn the session's sealed ballots into ``Ballot`` rows: every choice in one random order, with
    random keys, inserted together; the sealed ones are deleted."""
    sealed = list(SealedBallot.objects.filter(session=session).values_list("pk", "payload"))
    payloads = [bytes(payload) for _pk, payload in sealed]
    receipts = session.receipts.count()
    # One sealed ballot per receipt, none stored twice: none added, copied or taken out. (A session
    # begun before ballots were sealed already holds the first ones as Ballot rows.)
    if Ballot.objects.filter(item__session=session).exists():
        whole = len(payloads) <= receipts
    else:
        whole = len(payloads) == receipts
    if not whole or len({nonce_of(payload) for payload in payloads}) != len(payloads):
        raise BallotBoxError()
    items = set(session.items.values_list("pk", flat=True))
    ballots = []
    for payload in payloads:
        choices = unseal(session_id=session.pk, payload=payload)
        if not set(choices) <= items:
            raise BallotBoxError()
        ballots += [Ballot(item_id=item_id, choice=choice) for item_id, choice in choices.items()]
    random.SystemRandom().shuffle(ballots)
    Ballot.objects.bulk_create(ballots)
    SealedBallot.objects.filter(pk__in=[pk for pk, _payload in sealed]).delete()


def tally(item: VoteItem) -> dict:
    """Count one case over the members eligible to vote on it."""
    counts = dict(item.ballots.values_list("choice").annotate(n=Count("id")).values_list("choice", "n"))
    yes, no, abstain = (counts.get(choice, 0) for choice in Ballot.Choice.values)
    cast = yes + no + abstain
    members = item.eligible_count
    if members == 0 or cast * 100 < item.quorum_percent * members:
        outcome = VoteItem.Outcome.NO_QUORUM
    else:
        base = members if item.threshold_of == VoteRules.MEMBERS else cast
        passed = base > 0 and yes * 100 >= item.threshold_percent * base
        outcome = VoteItem.Outcome.PASSED if passed else VoteItem.Outcome.FAILED
    return {"yes": yes, "no": no, "abstain": abstain, "outcome": outcome}


def session_tally(session: VoteSession) -> None:
    """Close the session (its ballots are all in), open the ballot box and apply each case's outcome."""
    session.closed_at = timezone.now()
    session.save(update_fields=["closed_at"])
    _open_ballot_box(session)
    adapter = subject_adapter()
    results = {}
    for item in session.items.select_related("approval_task"):
        for name, value in tally(item).items():
            setattr(item, name, value)
        item.save(update_fields=["yes", "no", "abstain", "outcome"])
        results[item.pk] = item.outcome
        if item.approval_task.closed_at is None:  # a case withdrawn meanwhile is left alone
            adapter.vote_decided(item=item)
    audit_append(
        subject=session,
        actor=None,
        action=VOTE_SESSION_CLOSED,
        data={"voted": session.receipts.count(), "members": session.member_count, "outcomes": results},
    )


#: How an outcome moves the case's vote step.
OUTCOME_ACTIONS = {
    VoteItem.Outcome.PASSED: "approve",
    VoteItem.Outcome.FAILED: "reject",
}


def outcome_action(item: VoteItem) -> str:
    if item.outcome == VoteItem.Outcome.NO_QUORUM:
        return "send_back" if item.failed_quorum == FailedQuorum.BACK else "reject"
    return OUTCOME_ACTIONS[item.outcome]
