"""Step kinds: what each kind of template step is, declared once.

A step's ``kind`` names one of these classes. Each says which node of ``ApprovalFlow`` runs the step,
what a person may decide on it, what the engine may decide for it, whether reminders and escalations
apply, and whether it is a window that runs out on its own. Code that meets a step asks its kind
(``kind_of(step)``) instead of comparing the kind's code.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from workflow.models import StepAction, StepKind


class Kind:
    code: str = ""
    #: The ``ApprovalFlow`` node that runs a step of this kind.
    node: str = "decide"
    #: Whether its holders get reminders before the deadline and escalations after it.
    reminded: bool = True
    #: Whether it runs out by itself (a timer ends it), with nobody to decide it in between.
    runs_out: bool = False
    #: Whether a vote without quorum may send a case back to it (when a group holds it).
    takes_cases_back: bool = False
    #: Whether it is decided by a session's vote (its holders have a ballot, not a decision).
    in_session: bool = False
    #: Who decided it when no person did, for people reading its history.
    engine_label = _("the system")

    def decisions(self, step) -> list[str]:
        """What the step's holder may decide."""
        return list(step.actions)

    def engine_decisions(self, step) -> list[str]:
        """What the engine may decide for it (a tally, a window's end), never a person."""
        return []

    def may_consult(self, step, *, group_rules) -> bool:
        """Whether its holder may ask other agencies for their opinion meanwhile."""
        return False


class DecisionKind(Kind):
    """A decision by the step's holder (a head, or any member of a group)."""

    code = StepKind.DECISION
    takes_cases_back = True

    def may_consult(self, step, *, group_rules) -> bool:
        # A step held by a group (an appraisal by a board of officers) may ask other agencies.
        return step.approver_rule in group_rules


class VoteKind(Kind):
    """A vote of a body in a session: decided by the tally alone; nobody is reminded, nobody decides."""

    code = StepKind.VOTE
    reminded = False
    in_session = True
    engine_label = _("the vote, by secret ballot")

    def decisions(self, step) -> list[str]:
        return []

    def engine_decisions(self, step) -> list[str]:
        return [StepAction.APPROVE, StepAction.REJECT, StepAction.SEND_BACK]


class PostingKind(Kind):
    """A public posting window: runs out on its own; objections left then go to its holder (a group)
    who clears them (approve) or rejects the case."""

    code = StepKind.POSTING
    node = "posting"
    reminded = False
    runs_out = True
    engine_label = _("the end of the public posting")


KINDS: dict[str, Kind] = {kind.code: kind for kind in (DecisionKind(), VoteKind(), PostingKind())}


def kind_of(step) -> Kind:
    return KINDS[step.kind]
