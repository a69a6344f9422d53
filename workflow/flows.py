"""The flows: one walks any process template; one runs a council session.

ApprovalFlow::

    start ─▶ route ─(a decision, or objections to clear)─▶ decide ─(moved on to a decision)─▶ decide
               │                                              ├─(moved on to a posting step)─▶ posting
               │                                              ├─(returned)─▶ wait ─▶ route
               ├─(a posting step)─▶ posting (timer) ─▶ posting_closed ─▶ route
               └─(no step left)─▶ end ◀───────────────────────┴─(rejected, or no step left)

``decide`` is one human task per visit (``workflow.nodes.Step``), seeded with its template step; once
decided it creates the next node's task itself (``next_node``), with no gateway task in between. Who
holds it is asked of the subject's adapter (``settings.WORKFLOW_SUBJECT``) on the day the task is
made, over the tree of the case's start date. ``posting`` waits, as a viewflow timer fired by
``fire_due_timers()``, for the end of a public posting window. The product's row for each task
(``ApprovalTask``) keeps the step, scope, due time and decision; decisions are taken by
``workflow.approvals.approval_decide``.

CouncilFlow::

    start ─▶ split ─▶ ballot (one per member with a ballot) ─(vote, or closing time)─▶ join
          ─▶ tally_due (timer, due at once) ─▶ tally ─▶ end

Each ballot is closed by its member's vote or by the session's closing time (a timer). Once all are
in, ``tally_due`` waits so that the tally runs in a transaction of its own, never in a voter's:
fired at once by the service that took the last vote (``workflow.voting.session_tally_due``), or by
the timer dispatcher if that process died meanwhile; the tally is ``workflow.voting.session_tally``.
Nodes never write the subject's state: they call the adapter, which calls the domain's services.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.http import HttpResponseNotFound
from django.utils import timezone
from viewflow import this
from viewflow.workflow import flow
from viewflow.workflow.activation import Activation
from viewflow.workflow.nodes.split import SplitActivation

from workflow.kinds import kind_of
from workflow.locks import ProcessRowLock
from workflow.models import ApprovalProcess, StepAction, VoteSession
from workflow.nodes import SingleLineEnd, Step, WindowTimer
from workflow.process_templates import step_at
from workflow.records import next_position, record_task, resolve_assignment, window_closed
from workflow.tally import session_tally


def _no_viewflow_screen(request, **kwargs):
    """Decisions are taken on the case's own page; viewflow's task screens are not mounted."""
    return HttpResponseNotFound()


class ApprovalFlow(flow.Flow):
    process_class = ApprovalProcess
    lock_impl = ProcessRowLock()

    start = flow.StartHandle(this.begin).Next(this.route)
    route = flow.Switch().Case(this.decide, this.at_decision).Case(this.posting, this.at_posting).Default(this.end)
    decide = (
        Step(_no_viewflow_screen)
        .Assign(this.assign_owner)
        .onCreate(this.task_created)
        .Route(this.next_node, decide=this.decide, posting=this.posting, wait=this.wait, end=this.end)
    )
    wait = flow.Handle(this.resumed).Next(this.route)
    posting = WindowTimer(this.window_end).Next(this.posting_closed)
    posting_closed = flow.Function(this.close_window).Next(this.route)
    end = SingleLineEnd()

    def begin(self, activation, **fields):
        process = activation.process
        for name, value in fields.items():
            setattr(process, name, value)
        process.position = next_position(process, None)
        return process

    def step_of(self, process):
        return step_at(process.version, process.position)

    def _node_at(self, process) -> str:
        """The node that runs the case's current step: a posting window with objections still to
        settle is decided by its holder instead of running again."""
        if process.position is None:
            return "end"
        node = kind_of(self.step_of(process)).node
        if node == "posting" and process.data.get("objections"):
            return "decide"
        return node

    def at_decision(self, activation) -> bool:
        return self._node_at(activation.process) == "decide"

    def at_posting(self, activation) -> bool:
        return self._node_at(activation.process) == "posting"

    def next_node(self, activation) -> str:
        """Where a decided step goes: on to the next step, to the wait for a resubmission, or the end."""
        last = activation.process.last_action
        if last in (StepAction.APPROVE, StepAction.SEND_BACK):
            return self._node_at(activation.process)
        if last == StepAction.RETURN:
            return "wait"
        return "end"

    def assign_owner(self, activation):
        step = self.step_of(activation.process)
        activation.task.seed = step
        activation.assignment = resolve_assignment(activation.process, step)
        users = activation.assignment.users
        return users[0] if len(users) == 1 else None

    def task_created(self, activation):
        record_task(activation.task, activation.assignment)

    def resumed(self, activation, **kwargs):
        """The case came back after a return: it resumes at the step that returned it."""

    def window_end(self, activation):
        return activation.task.approval.due_at

    def close_window(self, activation):
        window_closed(activation.process)


# --- council sessions ----------------------------------------------------------------------------


class BallotSplitActivation(SplitActivation):
    @Activation.status.super()
    def activate(self):
        """One ballot task per member holding a ballot (conflicted on every case: none)."""
        (ballot, _case, _source) = self.flow_task._branches[0]
        for member_id in self.process.data["members"]:
            self.next_tasks.append((ballot, {"member": member_id}))


class BallotSplit(flow.Split):
    activation_class = BallotSplitActivation


class CouncilFlow(flow.Flow):
    process_class = VoteSession
    lock_impl = ProcessRowLock()

    start = flow.StartHandle(this.begin).Next(this.split)
    split = BallotSplit().Next(this.ballot)
    ballot = (
        flow.View(_no_viewflow_screen)
        .Assign(lambda activation: get_user_model()._default_manager.get(pk=activation.task.data["member"]))
        .OnTimeout(this.closing_time, this.join)
        .Next(this.join)
    )
    join = flow.Join().Next(this.tally_due)
    tally_due = flow.Timer(this.counting_time).Next(this.tally)
    tally = flow.Function(this.count).Next(this.end)
    end = flow.End()

    def begin(self, activation, **fields):
        process = activation.process
        members = fields.pop("members")
        for name, value in fields.items():
            setattr(process, name, value)
        process.data = {"members": members}
        return process

    def closing_time(self, activation):
        return activation.process.closes_at

    def counting_time(self, activation):
        return timezone.now()

    def count(self, activation):
        session_tally(activation.process)
