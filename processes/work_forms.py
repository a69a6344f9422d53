"""The bulk approval form of My work: the steps chosen, each with the case version the user saw.

A choice is ``<task id>:<version>``. Only steps of this user are accepted: steps they hold or held
(a step decided meanwhile is then reported as already decided, by name) and steps of cases they may
see (one they no longer hold is reported as held by someone else). An id of any other step (forged,
of a case they may not see) refuses the whole form: nothing is decided and nothing is named.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django import forms
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from processes.models import Nomination
from processes.permissions import nominations_visible_to, user_scope
from processes.text import plain
from workflow.models import ApprovalTask

#: How many steps one confirmation decides at most.
MAX_STEPS = 100
_CHOICE = re.compile(r"\A([0-9]{1,18}):([0-9]{1,9})\Z")


@dataclass(frozen=True)
class Chosen:
    task: ApprovalTask
    nomination: Nomination
    version: int


class StepVersionField(forms.MultipleChoiceField):
    """Choices ``<task id>:<version>``; cleaned to a list of (task id, version), without repeats."""

    default_error_messages = {
        "invalid_choice": _("A chosen step is not one of yours; nothing was decided. Reload My work."),
        "too_many": _("Choose at most %(limit)s steps at a time."),
    }

    def __init__(self, *, allowed, **kwargs):
        self.allowed = allowed  # callable: task ids → those of them this user may choose
        super().__init__(**kwargs)

    def validate(self, value):
        if self.required and not value:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        if len(value) > MAX_STEPS:
            raise forms.ValidationError(self.error_messages["too_many"], code="too_many", params={"limit": MAX_STEPS})
        pairs = [_CHOICE.match(item) for item in value]
        if not all(pairs):
            raise forms.ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        if not {int(pair[1]) for pair in pairs} <= self.allowed({int(pair[1]) for pair in pairs}):
            raise forms.ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")

    def clean(self, value):
        value = super().clean(value)
        chosen = {}
        for item in value:
            task_id, version = _CHOICE.match(item).groups()
            chosen.setdefault(int(task_id), int(version))
        return list(chosen.items())


class BulkApproveForm(forms.Form):
    tasks = StepVersionField(
        label=_("Steps"),
        allowed=None,
        widget=forms.MultipleHiddenInput,
        error_messages={"required": _("Choose at least one step to approve.")},
    )
    comment = forms.CharField(
        label=_("Comment for every case (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["tasks"].allowed = self._allowed
        self.chosen: list[Chosen] = []

    def _allowed(self, task_ids: set[int]) -> set[int]:
        nomination_type = ContentType.objects.get_for_model(Nomination)
        visible = nominations_visible_to(self.user, scope=user_scope(self.user)).values("pk")
        return set(
            ApprovalTask.objects.filter(pk__in=task_ids, process__subject_type=nomination_type)
            .filter(Q(candidates__user=self.user) | Q(process__subject_id__in=visible))
            .values_list("pk", flat=True)
            .distinct()
        )

    def clean_comment(self):
        return plain(self.cleaned_data["comment"])

    def clean(self):
        cleaned = super().clean()
        self.chosen = chosen_steps(cleaned.get("tasks") or [])
        return cleaned


def chosen_steps(pairs) -> list[Chosen]:
    """The (task id, version) pairs of a cleaned ``StepVersionField``, read with their nominations."""
    if not pairs:
        return []
    tasks = ApprovalTask.objects.select_related("step", "process").in_bulk([task_id for task_id, _v in pairs])
    nominations = Nomination.objects.select_related("nominee", "unit").in_bulk(
        {task.process.subject_id for task in tasks.values()}
    )
    return [
        Chosen(task=tasks[task_id], nomination=nominations[tasks[task_id].process.subject_id], version=version)
        for task_id, version in pairs
        if task_id in tasks and tasks[task_id].process.subject_id in nominations
    ]
