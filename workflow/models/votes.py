"""Council votes: sessions, the cases on their agenda, recusals, sealed and opened ballots, receipts."""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from viewflow.workflow.models import Process

from workflow.models.approvals import ApprovalTask

# --- council votes -------------------------------------------------------------------------------


class VoteRules(models.TextChoices):
    """What the threshold is a share of."""

    MEMBERS = "members", _("All members of the council")
    CAST = "cast", _("Votes cast")


class FailedQuorum(models.TextChoices):
    BACK = "back", _("Back to the nearest earlier step held by a group")
    REJECT = "reject", _("Rejected")


class VoteSession(Process):
    """A council sitting: the cases awaiting the council, one ballot task per member who may vote on
    at least one of them, a closing time.

    ``member_count``: the council's members on the day the session opened (its roster); who holds a
    ballot is in ``data["members"]``. Secret ballot: a vote is kept sealed (``SealedBallot``) until the
    tally, which writes the choices as ``Ballot`` rows naming no voter, in random order, in its own
    transaction; ``BallotReceipt`` records only that a member voted.
    """

    title = models.CharField(_("title"), max_length=255)
    council_unit_id = models.PositiveBigIntegerField(_("voting body's unit id"))
    council_label = models.CharField(_("voting body"), max_length=255)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("opened by")
    )
    opened_at = models.DateTimeField(_("opened at"))
    closes_at = models.DateTimeField(_("voting closes at"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    member_count = models.PositiveSmallIntegerField(_("members"))

    @property
    def ballot_count(self) -> int:
        """How many members hold a ballot (those conflicted on every case hold none)."""
        return len(self.data.get("members", []))

    class Meta:
        verbose_name = _("council session")
        verbose_name_plural = _("council sessions")

    def __str__(self):
        return self.title

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None


class VoteItem(models.Model):
    """One case on a session's agenda, with the rules of its award form, how many members may vote on
    it and, once closed, its tally."""

    class Outcome(models.TextChoices):
        PASSED = "passed", _("Passed")
        FAILED = "failed", _("Not passed")
        NO_QUORUM = "no_quorum", _("No quorum")

    session = models.ForeignKey(VoteSession, on_delete=models.CASCADE, related_name="items", verbose_name=_("session"))
    approval_task = models.OneToOneField(
        ApprovalTask, on_delete=models.PROTECT, related_name="vote_item", verbose_name=_("council step")
    )
    subject_label = models.CharField(_("case"), max_length=255)
    quorum_percent = models.PositiveSmallIntegerField(_("quorum (percent of members)"))
    threshold_percent = models.PositiveSmallIntegerField(_("threshold (percent)"))
    threshold_of = models.CharField(_("threshold counts"), max_length=10, choices=VoteRules.choices)
    failed_quorum = models.CharField(_("without quorum"), max_length=10, choices=FailedQuorum.choices)
    eligible_count = models.PositiveSmallIntegerField(
        _("eligible voters"),
        help_text=_(
            "Members of the council on the session's day who may vote on this case: its quorum and "
            "threshold are counted over them."
        ),
    )
    yes = models.PositiveSmallIntegerField(_("for"), null=True, blank=True)
    no = models.PositiveSmallIntegerField(_("against"), null=True, blank=True)
    abstain = models.PositiveSmallIntegerField(_("abstentions"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices, blank=True)

    class Meta:
        verbose_name = _("case on the agenda")
        verbose_name_plural = _("cases on the agenda")
        ordering = ["session_id", "pk"]

    def __str__(self):
        return self.subject_label


class VoteRecusal(models.Model):
    """A member of the session's roster who does not vote on one case, and why (a conflict of interest)."""

    class Reason(models.TextChoices):
        SUBJECT = "subject", _("the case is about them")
        UNIT = "unit", _("member of the proposing unit")

    item = models.ForeignKey(VoteItem, on_delete=models.CASCADE, related_name="recusals", verbose_name=_("case"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("reason"), max_length=10, choices=Reason.choices)

    class Meta:
        verbose_name = _("recusal")
        verbose_name_plural = _("recusals")
        constraints = [
            models.UniqueConstraint(
                fields=["item", "user"],
                name="vote_recusal_once",
                violation_error_message=_("This member is already recused from this case."),
            )
        ]

    def __str__(self):
        return f"{self.user} · {self.item_id}"


class SealedBallot(models.Model):
    """A member's ballot between their vote and the tally: encrypted (``workflow.ballot_seal``) with a
    key kept outside the database, naming no voter, no time. Written in the voter's transaction beside
    their receipt; the tally opens every sealed ballot of the session, writes the choices as ``Ballot``
    rows in random order and deletes these."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    session = models.ForeignKey(VoteSession, on_delete=models.CASCADE, related_name="sealed_ballots")
    payload = models.BinaryField()

    class Meta:
        verbose_name = _("sealed ballot")
        verbose_name_plural = _("sealed ballots")

    def __str__(self):
        return str(self.id)


class Ballot(models.Model):
    """One member's choice on one case, written by the tally. Deliberately without voter and time: the
    key is random, and every ballot of a session is inserted at once, shuffled, by the tally's own
    transaction, so neither order nor transaction ties a choice to a receipt."""

    class Choice(models.TextChoices):
        YES = "yes", _("For")
        NO = "no", _("Against")
        ABSTAIN = "abstain", _("Abstain")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    item = models.ForeignKey(VoteItem, on_delete=models.CASCADE, related_name="ballots")
    choice = models.CharField(max_length=10, choices=Choice.choices)

    class Meta:
        verbose_name = _("ballot")
        verbose_name_plural = _("ballots")

    def __str__(self):
        return str(self.id)


class BallotReceipt(models.Model):
    """That a member voted in a session (never what)."""

    session = models.ForeignKey(VoteSession, on_delete=models.CASCADE, related_name="receipts")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    voted_at = models.DateTimeField()

    class Meta:
        verbose_name = _("ballot receipt")
        verbose_name_plural = _("ballot receipts")
        constraints = [
            models.UniqueConstraint(
                fields=["session", "user"],
                name="ballot_receipt_once",
                violation_error_message=_("This member has already voted in this session."),
            )
        ]

    def __str__(self):
        return f"{self.user} · {self.session_id}"
