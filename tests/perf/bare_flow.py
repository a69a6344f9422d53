"""A bare viewflow flow as long as the product's city chain: six View tasks in a row, each held by
one user, completed through viewflow's activation API under the flow's row lock, as the product's
engine completes its own. No domain logic: the engine's cost alone, for ``make bench`` to compare
the product with."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.http import HttpResponseNotFound
from viewflow import this
from viewflow.workflow import flow
from viewflow.workflow.lock import SelectForUpdateLock
from viewflow.workflow.models import Process, Task

STEPS = 6
#: step number → the user who holds it, set once by ``BareFlow.hold`` before any process starts.
_holders: dict[int, object] = {}


def _no_screen(request, **kwargs):
    return HttpResponseNotFound()


def _step(number: int):
    nxt = this.end if number == STEPS else getattr(this, f"step{number + 1}")
    return flow.View(_no_screen).Assign(lambda activation: _holders[number]).Next(nxt)


class BareFlow(flow.Flow):
    process_class = Process
    task_class = Task
    lock_impl = SelectForUpdateLock(nowait=False)

    start = flow.StartHandle().Next(this.step1)
    step1 = _step(1)
    step2 = _step(2)
    step3 = _step(3)
    step4 = _step(4)
    step5 = _step(5)
    step6 = _step(6)
    end = flow.End()

    @staticmethod
    def hold(usernames: list[str]) -> None:
        """Who holds each step: one user per step, read once per OS process."""
        users = get_user_model()._default_manager.in_bulk(usernames, field_name="username")
        _holders.update({number: users[name] for number, name in enumerate(usernames, start=1)})


def bare_decide(*, process_id: int, task_id: int) -> None:
    """Complete one open View task, as viewflow's own task views do (their URLs carry both ids):
    lock the process, re-read the task, start, execute; the next task is created (or the process
    ends) in the same transaction."""
    with BareFlow.lock(process_id):
        task = Task._default_manager.get(pk=task_id)
        activation = task.flow_task.activation_class(task)
        activation.start(None)
        activation.execute()
