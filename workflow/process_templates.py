"""Writes and reads over versioned process templates.

A template changes only by drafting a new version and publishing it with an effective date. A case
asks ``template_version_for`` once, on its start date, and keeps the answer (a protecting foreign
key), so a version published later never moves a running case.
"""

from __future__ import annotations

from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from workflow.audit import audit_append
from workflow.errors import WorkflowError
from workflow.models import ProcessTemplate, TemplateStep, TemplateVersion

STEP_FIELDS = (
    "position",
    "code",
    "name",
    "kind",
    "approver_rule",
    "approver_param",
    "actions",
    "deadline_working_days",
    "reminder_offsets",
    "escalation_rule",
    "escalation_param",
    "condition",
)


class TemplateError(WorkflowError):
    """A template request that cannot be carried out; the message says why, for the user."""


class NoVersionInForce(TemplateError):
    pass


def template_draft(*, template: ProcessTemplate, by) -> TemplateVersion:
    """The template's draft: the existing one, else a copy of the newest published version
    numbered one higher (an empty version 1 for a new template)."""
    with transaction.atomic():
        # Serialise drafting per template; the partial unique constraint is the backstop.
        ProcessTemplate.objects.select_for_update().filter(pk=template.pk).first()
        draft = template.versions.filter(status=TemplateVersion.Status.DRAFT).first()
        if draft is not None:
            return draft
        source = template.versions.filter(status=TemplateVersion.Status.PUBLISHED).order_by("-number").first()
        highest = template.versions.aggregate(highest=Max("number"))["highest"] or 0
        draft = TemplateVersion.objects.create(template=template, number=highest + 1)
        if source is not None:
            TemplateStep.objects.bulk_create(
                TemplateStep(version=draft, **{name: getattr(step, name) for name in STEP_FIELDS})
                for step in source.steps.order_by("position")
            )
        audit_append(
            subject=draft,
            actor=by,
            action="workflow.template.drafted",
            to_state=draft.status,
            data={
                "template": template.code,
                "number": draft.number,
                "copied_from": source.number if source else None,
            },
        )
    return draft


def template_publish(*, version: TemplateVersion, by, effective_from: date, note: str = "") -> TemplateVersion:
    """Freeze a draft and make it the version new cases use from ``effective_from``."""
    with transaction.atomic():
        current = TemplateVersion.objects.select_for_update().select_related("template").get(pk=version.pk)
        if current.status != TemplateVersion.Status.DRAFT:
            raise TemplateError(_("Only a draft can be published; this version is already published."))
        if effective_from is None:
            raise TemplateError(_("Give the date from which the version applies."))
        steps = list(current.steps.order_by("position"))
        if not steps:
            raise TemplateError(_("A version needs at least one step before it is published."))
        problems = []
        for step in steps:
            try:
                step.full_clean(exclude=["version"])
            except ValidationError as exc:
                for messages in exc.message_dict.values():
                    problems += [f"{step.position}. {step.name}: {message}" for message in messages]
        if problems:
            raise TemplateError(
                _("The steps are not ready to publish: %(problems)s") % {"problems": "; ".join(problems)}
            )
        later = current.template.versions.filter(
            status=TemplateVersion.Status.PUBLISHED, effective_from__gt=effective_from
        ).first()
        if later is not None:
            # A higher number always wins on and after its date, so an earlier date would never apply.
            raise TemplateError(
                _("Version %(number)s already applies from %(date)s; choose that date or a later one.")
                % {"number": later.number, "date": later.effective_from.isoformat()}
            )
        current.status = TemplateVersion.Status.PUBLISHED
        current.effective_from = effective_from
        current.published_at = timezone.now()
        current.published_by = by if getattr(by, "pk", None) else None
        if note:
            current.note = note
        current.save()
        audit_append(
            subject=current,
            actor=by,
            action="workflow.template.published",
            from_state=TemplateVersion.Status.DRAFT,
            to_state=current.status,
            data={
                "template": current.template.code,
                "number": current.number,
                "effective_from": effective_from.isoformat(),
                "steps": [step.code for step in steps],
            },
        )
    return current


#: The steps of published versions, which never change, read once per process: keyed by the version
#: and the moment it was published, so a version id met again in another database is read afresh.
_published_steps: dict[tuple[int, datetime], tuple[TemplateStep, ...]] = {}


def version_steps(version: TemplateVersion) -> tuple[TemplateStep, ...]:
    """The version's steps by position. Every step of a case asks for them (which comes next, which
    is open), so a published version's are kept; a draft's are read each time. Treat as read-only."""
    if version.status != TemplateVersion.Status.PUBLISHED or version.published_at is None:
        return tuple(version.steps.order_by("position"))
    key = (version.pk, version.published_at)
    steps = _published_steps.get(key)
    if steps is None:
        steps = _published_steps[key] = tuple(version.steps.order_by("position"))
    return steps


def step_at(version: TemplateVersion, position: int) -> TemplateStep:
    try:
        return next(step for step in version_steps(version) if step.position == position)
    except StopIteration:
        raise TemplateStep.DoesNotExist(f"{version} has no step at position {position}") from None


def template_version_for(*, template: ProcessTemplate, on: date) -> TemplateVersion:
    """The published version in force on ``on``: the highest number among those already effective."""
    version = (
        template.versions.filter(status=TemplateVersion.Status.PUBLISHED, effective_from__lte=on)
        .order_by("-number")
        .first()
    )
    if version is None:
        raise NoVersionInForce(
            _("The process template “%(template)s” has no published version in force on %(date)s.")
            % {"template": template, "date": on.isoformat()}
        )
    return version
