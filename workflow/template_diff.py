"""What a draft changes against the version now published, step by step and field by field.

Steps are matched by their code (a draft copies its steps, codes included, from the newest published
version), so a step moved to another position is one step changed, not one removed and one added.
How a value reads is the caller's: the admin names rules, kinds and units by their labels.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.utils.text import capfirst

from workflow.models import TemplateStep
from workflow.process_templates import STEP_FIELDS


@dataclass(frozen=True)
class FieldChange:
    label: str
    before: str
    after: str


@dataclass
class StepChange:
    """``kind``: ``added``, ``removed`` or ``changed``; ``fields`` lists what differs (all of a
    removed or added step's fields, shown on one side)."""

    kind: str
    position: int
    name: str
    fields: list[FieldChange] = field(default_factory=list)


def field_label(name: str) -> str:
    return capfirst(TemplateStep._meta.get_field(name).verbose_name)


def step_changes(
    *,
    before: Iterable[TemplateStep],
    after: Iterable[TemplateStep],
    describe: Callable[[TemplateStep, str], str],
) -> list[StepChange]:
    """The changes from ``before`` (the published steps; empty for a first version) to ``after``
    (the draft's), in the draft's order with removed steps last."""
    old = {step.code: step for step in before}
    new = {step.code: step for step in after}
    changes = []
    for step in sorted(new.values(), key=lambda step: step.position):
        previous = old.get(step.code)
        if previous is None:
            fields = [FieldChange(field_label(name), "", describe(step, name)) for name in STEP_FIELDS]
            changes.append(StepChange("added", step.position, step.name, fields))
            continue
        fields = [
            FieldChange(field_label(name), describe(previous, name), describe(step, name))
            for name in STEP_FIELDS
            if getattr(previous, name) != getattr(step, name)
        ]
        if fields:
            changes.append(StepChange("changed", step.position, step.name, fields))
    for step in sorted(old.values(), key=lambda step: step.position):
        if step.code not in new:
            fields = [FieldChange(field_label(name), describe(step, name), "") for name in STEP_FIELDS]
            changes.append(StepChange("removed", step.position, step.name, fields))
    return changes
