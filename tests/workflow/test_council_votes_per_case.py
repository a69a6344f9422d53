"""Council votes per case: the roster is the council's membership on the session's day, a member
conflicted on a case has no choice on it, each case is counted over the members eligible for it, and
a ballot cannot be linked to its voter from the database (sealed until a tally in its own transaction).

The tests on PostgreSQL (``@pytest.mark.postgres``) commit each transaction for real and read the
rows' ``xmin`` (the id of the transaction that wrote them).
"""

import importlib
import threading
from datetime import timedelta

import pytest
from django.apps import apps
from django.db import connection, connections
from django.utils import timezone, translation
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from processes import services
from processes.chains import NominationSubject
from processes.models import ChainAssignment, Nomination, Role, Stage
from tests.factories import (
    AwardFormFactory,
    NomineeFactory,
    UserFactory,
    approve_until,
    attach_file,
    close_voting,
    holders,
    make_nomination,
    member,
    open_step,
    submitted,
)
from workflow.audit import audit_entries_for
from workflow.ballot_seal import BallotBoxError, seal, unseal
from workflow.errors import StepClosed
from workflow.flows import CouncilFlow
from workflow.models import (
    Ballot,
    BallotReceipt,
    ProcessTemplate,
    SealedBallot,
    VoteItem,
    VoteRecusal,
    VoteSession,
)
from workflow.subject import Subject
from workflow.tasks import fire_timers
from workflow.voting import VoteError, ballot_holders, session_tally_due

PASSED, FAILED = VoteItem.Outcome.PASSED, VoteItem.Outcome.FAILED


def voting_form(**rules):
    """A city form on city_regular with a council vote; ``rules``: its council_* settings."""
    form = AwardFormFactory(code="CSTD_TP", council_vote=True, **rules)
    ChainAssignment.objects.create(
        award_form=form, procedure="", template=ProcessTemplate.objects.get(code="city_regular")
    )
    return form


def council_of_seven(org) -> list:
    """The org's council member and six more, in the order they sit."""
    extra = [UserFactory(username=f"council_member_{n}") for n in range(2, 8)]
    for user in extra:
        member(user, org.council, Role.MEMBER)
    return [org.council_member, *extra]


def case_at_council(org, form, **kwargs):
    nomination = approve_until(submitted(org, award_form=form, **kwargs), "council_review")
    return nomination, open_step(nomination)


def ward_case_at_council(org, form):
    """A case proposed by the ward (under the district), not by the hospital."""
    nomination = make_nomination(org, unit=org.ward, award_form=form)
    attach_file(nomination, org.report_type, user=org.ward_secretary)
    nomination = services.nomination_start_cultivation(nomination=nomination, by=org.ward_head)
    nomination = approve_until(
        services.nomination_submit(nomination=nomination, by=org.ward_secretary), "council_review"
    )
    return nomination, open_step(nomination)


def open_session(org, tasks, **kwargs):
    return services.council_session_open(
        by=org.board_officer, title="Phiên họp", tasks=tasks, closes_at=timezone.now() + timedelta(days=3), **kwargs
    )


def users(session) -> set:
    return set(ballot_holders(session))


# --- the roster ------------------------------------------------------------------------------------


def test_the_roster_is_the_councils_membership_on_the_sessions_day_not_the_steps_holders(org):
    form = voting_form()
    stayer, leaver, resting = (UserFactory(username=name) for name in ("stayer", "leaver", "resting"))
    leaving = member(leaver, org.council, Role.MEMBER)
    for user in (stayer, resting):
        member(user, org.council, Role.MEMBER)
    nomination, task = case_at_council(org, form)
    assert set(holders(task)) == {org.council_member, stayer, leaver, resting}  # resolved when the step opened
    # Before the session: one member leaves (his membership ends the day before), one is no longer
    # active, and a new one joins today.
    leaving.valid_to = timezone.localdate()
    leaving.save()
    resting.is_active = False
    resting.save()
    newcomer = UserFactory(username="newcomer")
    member(newcomer, org.council, Role.MEMBER, valid_from=timezone.localdate())

    session = open_session(org, [task])

    assert users(session) == {org.council_member.pk, stayer.pk, newcomer.pk}
    item = session.items.get()
    assert (session.member_count, item.eligible_count) == (3, 3)
    opened = audit_entries_for(session).get(action="workflow.vote.session_opened")
    assert (opened.data["members"], opened.data["ballots"], opened.data["recused"]) == (3, 3, {})
    with pytest.raises(VoteError, match="no ballot"):
        services.council_vote(session_id=session.pk, by=leaver, choices={item.pk: "yes"})
    for user in (org.council_member, stayer, newcomer):
        services.council_vote(session_id=session.pk, by=user, choices={item.pk: "yes"})
    item.refresh_from_db()
    assert (item.yes, item.outcome) == (3, PASSED)
    assert open_step(nomination).step.code == "chairman_decision"


def test_the_adapter_declares_what_the_council_sessions_ask_of_it():
    assert isinstance(NominationSubject(), Subject)


# --- conflicts of interest and per-case counting ----------------------------------------------------


def test_a_member_who_is_the_nominee_gets_no_ballot_when_their_case_is_alone_and_it_counts_over_the_others(org):
    # Quorum 100 % and threshold 90 % of members: six for out of six eligible passes; over all seven it
    # would have neither quorum nor threshold.
    form = voting_form(council_quorum_percent=100, council_threshold_percent=90, council_threshold_of="members")
    council = council_of_seven(org)
    nominee_member = council[3]
    nomination, task = case_at_council(org, form, nominee=NomineeFactory(unit=org.hospital, user=nominee_member))

    session = open_session(org, [task])

    item = session.items.get()
    others = [user for user in council if user != nominee_member]
    assert users(session) == {user.pk for user in others}
    assert (session.member_count, session.ballot_count, item.eligible_count) == (7, 6, 6)
    recusal = item.recusals.get()
    assert (recusal.user, recusal.reason) == (nominee_member, VoteRecusal.Reason.SUBJECT)
    with pytest.raises(VoteError, match="no ballot"):
        services.council_vote(session_id=session.pk, by=nominee_member, choices={item.pk: "yes"})
    for user in others:
        services.council_vote(session_id=session.pk, by=user, choices={item.pk: "yes"})

    session.refresh_from_db()
    assert session.is_closed  # every ballot is in: the nominee holds none
    item.refresh_from_db()
    assert (item.yes, item.no, item.abstain, item.outcome) == (6, 0, 0, PASSED)
    assert Nomination.objects.get(pk=nomination.pk).stage == Stage.SUMMARISE
    assert open_step(nomination).step.code == "chairman_decision"


def test_beside_another_case_the_nominee_votes_only_on_the_other_and_each_case_counts_its_own_voters(org):
    form = voting_form(council_quorum_percent=100, council_threshold_percent=90, council_threshold_of="members")
    council = council_of_seven(org)
    nominee_member = council[3]
    own, own_task = case_at_council(org, form, nominee=NomineeFactory(unit=org.hospital, user=nominee_member))
    other, other_task = ward_case_at_council(org, form)

    session = open_session(org, [own_task, other_task])

    own_item, other_item = session.items.get(approval_task=own_task), session.items.get(approval_task=other_task)
    assert users(session) == {user.pk for user in council}
    assert (own_item.eligible_count, other_item.eligible_count) == (6, 7)
    with pytest.raises(VoteError, match="You do not vote on"):
        services.council_vote(
            session_id=session.pk, by=nominee_member, choices={own_item.pk: "yes", other_item.pk: "yes"}
        )
    with pytest.raises(VoteError, match="every case"):
        services.council_vote(session_id=session.pk, by=nominee_member, choices={})
    assert not BallotReceipt.objects.exists()
    assert not SealedBallot.objects.exists()

    services.council_vote(session_id=session.pk, by=nominee_member, choices={other_item.pk: "no"})
    for user in council:
        if user != nominee_member:
            services.council_vote(session_id=session.pk, by=user, choices={own_item.pk: "yes", other_item.pk: "yes"})

    own_item.refresh_from_db()
    other_item.refresh_from_db()
    # Own case: 6 of its 6 eligible for. Other: 6 of 7 for, under 90 %.
    assert (own_item.yes, own_item.no, own_item.outcome) == (6, 0, PASSED)
    assert (other_item.yes, other_item.no, other_item.outcome) == (6, 1, FAILED)
    assert Nomination.objects.get(pk=own.pk).stage == Stage.SUMMARISE
    assert Nomination.objects.get(pk=other.pk).stage == Stage.REJECTED


@pytest.mark.parametrize("recuse", [False, True], ids=["form-silent-member-votes", "form-says-member-recused"])
def test_a_member_of_the_proposing_unit_does_not_vote_on_its_case_where_the_form_says_so(org, recuse):
    form = voting_form(council_recuse_own_unit=recuse)
    council = council_of_seven(org)
    doctor = council[2]
    member(doctor, org.hospital, Role.MEMBER)  # also works at the proposing hospital
    _hospital_case, hospital_task = case_at_council(org, form)
    _ward_case, ward_task = ward_case_at_council(org, form)

    session = open_session(org, [hospital_task, ward_task])

    hospital_item = session.items.get(approval_task=hospital_task)
    ward_item = session.items.get(approval_task=ward_task)
    assert ward_item.eligible_count == 7
    assert doctor.pk in users(session)
    if recuse:
        assert hospital_item.eligible_count == 6
        assert list(hospital_item.recusals.values_list("user", "reason")) == [(doctor.pk, VoteRecusal.Reason.UNIT)]
        opened = audit_entries_for(session).get(action="workflow.vote.session_opened")
        assert opened.data["recused"] == {str(hospital_task.pk): {doctor.username: "unit"}}
        with pytest.raises(VoteError, match="member of the proposing unit"):
            services.council_vote(
                session_id=session.pk, by=doctor, choices={hospital_item.pk: "yes", ward_item.pk: "yes"}
            )
        services.council_vote(session_id=session.pk, by=doctor, choices={ward_item.pk: "yes"})
    else:
        assert (hospital_item.eligible_count, hospital_item.recusals.count()) == (7, 0)
        services.council_vote(session_id=session.pk, by=doctor, choices={hospital_item.pk: "yes", ward_item.pk: "yes"})
    assert BallotReceipt.objects.filter(session=session, user=doctor).exists()


def test_a_case_no_member_may_vote_on_is_refused_an_agenda_with_its_name(org):
    form = voting_form()
    nomination, task = case_at_council(org, form, nominee=NomineeFactory(unit=org.hospital, user=org.council_member))
    assert holders(task) == []  # the council's only member is the nominee

    with pytest.raises(VoteError, match="No member of the council may vote on") as refused:
        open_session(org, [task])

    assert nomination.nominee.name in str(refused.value)
    assert not VoteSession.objects.exists()


# --- secrecy: sealed until a tally of its own -------------------------------------------------------


def test_a_sealed_ballot_hides_its_choices_and_opens_only_with_the_key_for_its_session(settings):
    ballots = {choice: seal(session_id=7, choices={101: choice, 102: choice}) for choice in Ballot.Choice.values}

    assert len({len(payload) for payload in ballots.values()}) == 1  # the length says nothing either
    for choice, payload in ballots.items():
        assert f'"{choice}"'.encode() not in payload
        assert b"101" not in payload
        assert unseal(session_id=7, payload=payload) == {101: choice, 102: choice}
        with pytest.raises(BallotBoxError):
            unseal(session_id=8, payload=payload)  # not movable into another session
        with pytest.raises(BallotBoxError):
            unseal(session_id=7, payload=payload, key="another key")
        with pytest.raises(BallotBoxError):
            unseal(session_id=7, payload=payload[:-1] + bytes([payload[-1] ^ 1]))
    assert ballots["yes"] != seal(session_id=7, choices={101: "yes", 102: "yes"})  # a fresh nonce each time
    settings.BALLOT_SEAL_KEY = "rotated between sessions"
    with pytest.raises(BallotBoxError):
        unseal(session_id=7, payload=ballots["yes"])


def test_until_the_tally_a_vote_is_stored_only_sealed_and_its_receipt_names_no_choice(org):
    form = voting_form()
    council = council_of_seven(org)
    _nomination, task = case_at_council(org, form)
    session = open_session(org, [task])
    item = session.items.get()

    services.council_vote(session_id=session.pk, by=council[0], choices={item.pk: "abstain"})

    (sealed,) = SealedBallot.objects.filter(session=session)
    assert sorted(field.name for field in SealedBallot._meta.get_fields()) == ["id", "payload", "session"]
    assert b"abstain" not in bytes(sealed.payload)
    assert unseal(session_id=session.pk, payload=sealed.payload) == {item.pk: "abstain"}
    assert not Ballot.objects.exists()
    receipt = BallotReceipt.objects.get()
    assert (receipt.user, receipt.session) == (council[0], session)


def test_a_crash_between_the_last_vote_and_the_tally_loses_nothing_the_timer_dispatcher_tallies(org, monkeypatch):
    form = voting_form()
    council = council_of_seven(org)
    nomination, task = case_at_council(org, form)
    session = open_session(org, [task])
    item = session.items.get()
    # The process dies right after each vote's transaction committed: the tally never runs from there.
    monkeypatch.setattr(services.council, "session_tally_due", lambda **kwargs: None)
    for user, choice in zip(council, ["yes"] * 5 + ["no", "abstain"], strict=True):
        services.council_vote(session_id=session.pk, by=user, choices={item.pk: choice})

    session.refresh_from_db()
    assert not session.is_closed
    assert (SealedBallot.objects.filter(session=session).count(), Ballot.objects.count()) == (7, 0)
    due = Task.objects.get(process=session, flow_task=CouncilFlow.tally_due)
    assert due.status == STATUS.SCHEDULED
    with pytest.raises(StepClosed, match="already voted"):
        services.council_vote(session_id=session.pk, by=council[0], choices={item.pk: "no"})

    assert fire_timers() == 1  # beat, a minute later

    item.refresh_from_db()
    assert (item.yes, item.no, item.abstain, item.outcome) == (5, 1, 1, PASSED)
    assert (SealedBallot.objects.count(), Ballot.objects.filter(item=item).count()) == (0, 7)
    assert open_step(nomination).step.code == "chairman_decision"
    assert audit_entries_for(session).filter(action="workflow.vote.session_closed").count() == 1
    assert not session_tally_due(session_id=session.pk)  # nothing left to tally


def copy_one(session):
    SealedBallot.objects.create(session=session, payload=bytes(SealedBallot.objects.first().payload))


def take_one_out(session):
    SealedBallot.objects.filter(pk=SealedBallot.objects.first().pk).delete()


def add_a_forged_one(session):
    SealedBallot.objects.create(session=session, payload=b"\0" * 12 + b"forged ballot, no tag")


def replace_one_by_another_sessions(session):
    ballot_of_another_session = seal(session_id=session.pk + 1, choices={session.items.get().pk: "yes"})
    SealedBallot.objects.filter(pk=SealedBallot.objects.first().pk).update(payload=ballot_of_another_session)


@pytest.mark.parametrize("tamper", [copy_one, take_one_out, add_a_forged_one, replace_one_by_another_sessions])
def test_a_ballot_box_altered_in_the_database_is_not_counted(org, tamper):
    form = voting_form()
    council = council_of_seven(org)
    nomination, task = case_at_council(org, form)
    session = open_session(org, [task])
    item = session.items.get()
    for user in council[:5]:
        services.council_vote(session_id=session.pk, by=user, choices={item.pk: "no"})
    tamper(session)  # someone with write access to the database
    sealed = SealedBallot.objects.count()

    close_voting(session)

    session.refresh_from_db()
    assert not session.is_closed
    assert (SealedBallot.objects.count(), Ballot.objects.count()) == (sealed, 0)
    assert Task.objects.get(process=session, flow_task=CouncilFlow.tally).status == STATUS.ERROR
    assert open_step(nomination).pk == task.pk


def stored_order() -> list[str]:
    """The choices in the order their rows lie in the table (rowid on SQLite, ctid on PostgreSQL)."""
    column = "rowid" if connection.vendor == "sqlite" else "ctid"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT choice FROM workflow_ballot ORDER BY {column}")  # noqa: S608
        return [row[0] for row in cursor.fetchall()]


def test_the_tally_stores_the_choices_in_an_order_unrelated_to_the_voters(org):
    form = voting_form()
    council = [org.council_member]
    for n in range(2, 31):
        council.append(UserFactory(username=f"council_member_{n}"))
        member(council[-1], org.council, Role.MEMBER)
    _nomination, task = case_at_council(org, form)
    session = open_session(org, [task])
    item = session.items.get()
    in_voting_order = ["yes"] * 15 + ["no"] * 15

    for user, choice in zip(council, in_voting_order, strict=True):
        services.council_vote(session_id=session.pk, by=user, choices={item.pk: choice})

    item.refresh_from_db()
    assert (item.yes, item.no) == (15, 15)
    stored = stored_order()
    assert sorted(stored) == sorted(in_voting_order)
    assert stored != in_voting_order  # one chance in 155 million that a shuffle gives it back


def test_ballots_stored_before_the_upgrade_are_rewritten_in_random_order_with_new_keys(org):
    form = voting_form()
    council = council_of_seven(org)
    _nomination, task = case_at_council(org, form)
    session = open_session(org, [task])
    item = session.items.get()
    for user in council:
        services.council_vote(session_id=session.pk, by=user, choices={item.pk: "yes"})
    Ballot.objects.all().delete()
    old = Ballot.objects.bulk_create(Ballot(item=item, choice=choice) for choice in ["yes"] * 30 + ["no"] * 30)
    migration = importlib.import_module("workflow.migrations.0007_council_votes_per_case_sealed_ballots")

    migration.reshuffle_ballots(apps, None)

    rows = list(Ballot.objects.filter(item=item).order_by("pk").values_list("pk", "choice"))
    assert sorted(choice for _pk, choice in rows) == ["no"] * 30 + ["yes"] * 30
    assert not {pk for pk, _choice in rows} & {ballot.pk for ballot in old}
    assert stored_order() != ["yes"] * 30 + ["no"] * 30  # one chance in 10^17 of drawing the old order


class CommitLog:
    """Which tables each committed transaction of this connection inserted into. (On PostgreSQL a row
    written under a savepoint has the savepoint's xid as its xmin, so xmin alone cannot show that two
    rows were committed by different transactions: this log can.)"""

    def __init__(self, connection):
        self.connection = connection
        self.transactions = [set()]

    def __call__(self, execute, sql, params, many, context):
        if sql.lstrip().upper().startswith("INSERT INTO"):
            self.transactions[-1].add(sql.split()[2].strip('"'))
        return execute(sql, params, many, context)

    def commit(self, original):
        def commit():
            original()
            self.transactions.append(set())

        return commit


@pytest.mark.postgres
def test_every_ballot_row_is_written_by_the_tallys_own_transaction_never_by_a_voters(org, monkeypatch):
    form = voting_form()
    council = council_of_seven(org)
    _own, own_task = case_at_council(org, form)
    _other, other_task = ward_case_at_council(org, form)
    session = open_session(org, [own_task, other_task])
    items = list(session.items.order_by("pk"))
    log = CommitLog(connection)
    monkeypatch.setattr(connections["default"], "commit", log.commit(connections["default"].commit))

    def xmins(table, **where) -> list[str]:
        condition = " AND ".join(f"{column} = %s" for column in where) or "TRUE"
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT xmin::text FROM {table} WHERE {condition}", list(where.values()))  # noqa: S608
            return [row[0] for row in cursor.fetchall()]

    for number, user in enumerate(council, start=1):
        with connection.execute_wrapper(log):
            services.council_vote(
                session_id=session.pk, by=user, choices={items[0].pk: "yes", items[1].pk: ["no", "yes"][number % 2]}
            )
        if number < len(council):
            assert not Ballot.objects.exists()  # nothing in the clear before the tally

    # Seven transactions each wrote a receipt (and a sealed ballot), another one every ballot.
    with_receipt = [tables for tables in log.transactions if "workflow_ballotreceipt" in tables]
    with_ballots = [tables for tables in log.transactions if "workflow_ballot" in tables]
    assert len(with_receipt) == 7
    assert all("workflow_sealedballot" in tables for tables in with_receipt)
    assert len(with_ballots) == 1
    assert "workflow_ballotreceipt" not in with_ballots[0]

    session.refresh_from_db()
    assert session.is_closed
    assert SealedBallot.objects.count() == 0
    ballots = xmins("workflow_ballot")
    receipts = xmins("workflow_ballotreceipt", session_id=session.pk)
    tally = xmins("workflow_voteitem", session_id=session.pk)
    assert len(ballots) == 14
    assert len(set(receipts)) == 7  # each voter's own transaction
    assert len(set(tally)) == 1
    assert set(ballots) == set(tally)  # every ballot: the tally's transaction
    assert not set(ballots) & set(receipts)
    assert [(item.yes, item.no) for item in VoteItem.objects.filter(session=session).order_by("pk")] == [(7, 0), (4, 3)]


@pytest.mark.postgres
def test_a_member_submitting_twice_at_once_is_counted_once(org):
    form = voting_form()
    council = council_of_seven(org)
    _nomination, task = case_at_council(org, form)
    session = open_session(org, [task])
    item = session.items.get()
    barrier = threading.Barrier(2)
    results = []

    def cast():
        barrier.wait(10)
        try:
            with translation.override("en"):
                try:
                    services.council_vote(session_id=session.pk, by=council[0], choices={item.pk: "yes"})
                    results.append("ok")
                except StepClosed as error:
                    results.append(str(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=cast) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert sorted(results) == ["You have already voted in this session.", "ok"]
    assert BallotReceipt.objects.filter(session=session).count() == 1
    assert SealedBallot.objects.filter(session=session).count() == 1
