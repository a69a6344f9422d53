"""The nodes ``ApprovalFlow`` adds to viewflow's.

``Step`` is a human task per visit of a template step that routes on by itself: once decided it
creates the next node's task directly (the next step, a posting window, the wait for a resubmission,
or the end), with no gateway task between them. A viewflow ``Switch`` there would be a task row of
its own (inserted, linked, completed, under a savepoint) on every decision of every case.

``StepActivation.decide`` completes the task in one write: viewflow's own path (assign, start,
execute) saves the task row once per step of its state machine.

``WindowTimer`` is a timer whose task also gets the product's row (step, due time), like a human task.
"""

from __future__ import annotations

from django.utils import timezone
from viewflow import this
from viewflow.workflow import flow
from viewflow.workflow.activation import Activation
from viewflow.workflow.base import Edge
from viewflow.workflow.nodes.end import EndActivation
from viewflow.workflow.nodes.timer import TimerActivation
from viewflow.workflow.nodes.view import ViewActivation
from viewflow.workflow.status import PROCESS, STATUS

from workflow.records import record_window


class StepActivation(ViewActivation):
    def decide(self, by) -> None:
        """Complete the task as decided by ``by`` (None: by the engine) in one write, then create the
        task of the node the case goes to next. Runs under the flow's lock."""
        now = timezone.now()
        task = self.task
        if by is not None:
            task.owner = by
        task.status = STATUS.DONE
        task.started = task.started or now
        task.finished = now
        task.save(update_fields=["owner", "status", "started", "finished"])
        self.activate_next()

    @Activation.status.transition(source=STATUS.DONE)
    def create_next(self):
        node = self.flow_task.route(self)
        if isinstance(node, flow.End):
            # The last step of a line of work: the process ends here, without an end task of its own
            # (three more writes on every case's last decision, for a row nobody reads).
            finish(self.process)
        elif node is not None:
            yield node._create(self, self.task.token)


class Step(flow.View):
    """A template step's human task, routed by ``route`` (a flow method returning the next node's name)."""

    activation_class = StepActivation

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._routes: dict = {}
        self._router = None

    def Route(self, router, **targets):
        """``router(activation)`` names one of ``targets`` (node references) to go to next."""
        self._router = router
        self._routes = targets
        return self

    def _resolve(self, instance):
        super()._resolve(instance)
        self._router = this.resolve(instance, self._router)
        self._routes = {name: this.resolve(instance, node) for name, node in self._routes.items()}

    def _outgoing(self):
        for node in self._routes.values():
            yield Edge(src=self, dst=node, edge_class="next")

    def route(self, activation):
        return self._routes[self._router(activation)]


class WindowTimerActivation(TimerActivation):
    @classmethod
    def create(cls, flow_task, prev_activation, token, data=None, seed=None):
        activation = super().create(flow_task, prev_activation, token, data=data, seed=seed)
        record_window(activation.task)
        return activation


class WindowTimer(flow.Timer):
    """A timer whose task also gets the product's row (step, due time), like a human task."""

    activation_class = WindowTimerActivation


def finish(process) -> None:
    """Mark a process done. An approval runs one line of work (one open task at a time), so the task
    that led here was its last: viewflow's count of the other active tasks, and its savepoint, are not
    needed."""
    process.status = PROCESS.DONE
    process.finished = timezone.now()
    process.save(update_fields=["status", "finished"])


class SingleLineEndActivation(EndActivation):
    @Activation.status.super()
    def activate(self):
        self.task.started = timezone.now()
        finish(self.process)


class SingleLineEnd(flow.End):
    """The end of a flow that never runs two tasks at once (``ApprovalFlow``)."""

    activation_class = SingleLineEndActivation
