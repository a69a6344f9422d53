"""One viewflow Flow walks any process template.

    start ─▶ route ─(a step is left)─▶ decide ─▶ after ─(approved)──▶ route
               │                                   ├─(returned)──▶ wait ─(resubmitted)─▶ route
               └─(none left)─▶ end ◀──────────────-┴─(rejected)

``decide`` is one human task per visit, seeded with its template step; who holds it is asked of
the subject's adapter (``settings.WORKFLOW_SUBJECT``) on the day the task is made, over the tree of
the case's start date. The product's row for each task (``ApprovalTask``) keeps the step, scope,
due time and decision; the decision itself is taken by ``workflow.approvals.approval_decide``,
which moves the process on from here. Nodes never write the subject's state.
"""

from __future__ import annotations

from django.http import HttpResponseNotFound
from viewflow import this
from viewflow.workflow import flow

from workflow.locks import ProcessRowLock
from workflow.models import ApprovalProcess


def _no_viewflow_screen(request, **kwargs):
    """Decisions are taken on the case's own page; viewflow's task screens are not mounted."""
    return HttpResponseNotFound()


class ApprovalFlow(flow.Flow):
    process_class = ApprovalProcess
    lock_impl = ProcessRowLock()

    start = flow.StartHandle(this.begin).Next(this.route)
    route = flow.If(this.has_step).Then(this.decide, task_seed=this.current_step).Else(this.end)
    decide = flow.View(_no_viewflow_screen).Assign(this.assign_owner).onCreate(this.task_created).Next(this.after)
    after = (
        flow.Switch()
        .Case(this.route, lambda activation: activation.process.last_action == "approve")
        .Case(this.wait, lambda activation: activation.process.last_action == "return")
        .Default(this.end)
    )
    wait = flow.Handle(this.resumed).Next(this.route)
    end = flow.End()

    def begin(self, activation, **fields):
        process = activation.process
        for name, value in fields.items():
            setattr(process, name, value)
        from workflow.approvals import next_position

        process.position = next_position(process, None)
        return process

    def has_step(self, activation) -> bool:
        return activation.process.position is not None

    def current_step(self, activation):
        process = activation.process
        return process.version.steps.get(position=process.position)

    def assign_owner(self, activation):
        from workflow.approvals import resolve_assignment

        activation.assignment = resolve_assignment(activation.process, activation.task.seed)
        users = activation.assignment.users
        return users[0] if len(users) == 1 else None

    def task_created(self, activation):
        from workflow.approvals import record_task

        record_task(activation.task, activation.assignment)

    def resumed(self, activation, **kwargs):
        """The case came back after a return: it resumes at the step that returned it."""
