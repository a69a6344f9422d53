"""Cases at the steps the decisions part of the API acts on, built in a ``World`` (``tests/api/conftest``)
and kept in ``world.extra`` so that every actor of a matrix row meets the same objects."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from notifications.models import Channel, Event, InAppNotification, Outbox
from processes import services
from processes.models import Nomination
from tests.factories import NomineeFactory, approve_until, hold_session, open_step, submitted
from workflow.calendar import is_working_day
from workflow.models import ProcessTemplate
from workflow.process_templates import template_draft


def last_working_day():
    day = timezone.localdate()
    while not is_working_day(day):
        day -= timedelta(days=1)
    return day


def _once(world, key, build):
    if key not in world.extra:
        world.extra[key] = build()
    return world.extra[key]


def hospital_case(world, code=None) -> Nomination:
    """A new case of the hospital (unit A), submitted and approved up to step ``code`` (or the last)."""
    org = world.org
    return approve_until(submitted(org, unit=org.hospital, nominee=NomineeFactory(unit=org.hospital)), code)


def first_step(world):
    """(task, nomination) of a hospital case at its first step, held by the hospital's head."""

    def build():
        nomination = hospital_case(world, "unit_confirm")
        return open_step(nomination), nomination

    return _once(world, "first_step", build)


def at_signing(world):
    """(task, nomination) of a hospital case at the chairman's signature."""

    def build():
        nomination = hospital_case(world)
        return open_step(nomination), nomination

    return _once(world, "at_signing", build)


def signed_decision(world):
    """A numbered decision awarding a hospital case, signed by the chairman."""

    def build():
        task, _nomination = at_signing(world)
        return services.decision_sign(by=world.org.chairman, task_ids=[task.pk], signed_on=last_working_day())

    return _once(world, "decision", build)


def voting_form(org):
    org.city_form.council_vote = True
    org.city_form.council_threshold_percent = 50
    org.city_form.save()


def awaiting_council(world):
    """The council step (task) of a hospital case awaiting the council."""

    def build():
        voting_form(world.org)
        return open_step(hospital_case(world, "council_review"))

    return _once(world, "awaiting_council", build)


def open_session(world):
    """A session opened by the Board on a case awaiting the council, nobody having voted yet."""
    return _once(world, "session", lambda: hold_session(awaiting_council(world), voters=[]))


def published_template(world) -> ProcessTemplate:
    return ProcessTemplate.objects.get(code="city_regular")


def draft_version(world):
    return _once(world, "draft", lambda: template_draft(template=published_template(world), by=world.org.admin))


def draft_steps_body(world) -> dict:
    fields = ("position", "code", "name", "kind", "approver_rule", "approver_param", "actions")
    more = ("deadline_working_days", "reminder_offsets", "escalation_rule", "escalation_param", "condition")
    return {
        "steps": [
            {name: getattr(step, name) for name in (*fields, *more)}
            for step in draft_version(world).steps.order_by("position")
        ]
    }


def notification_for(user, *, title="Một bước đang chờ bạn") -> InAppNotification:
    """An in-app notification delivered to ``user`` (its outbox row sent)."""
    outbox = Outbox.objects.create(
        recipient=user,
        event=Event.TASK_ASSIGNED,
        channel=Channel.IN_APP,
        object_type=ContentType.objects.get_for_model(user),
        object_id=user.pk,
        slot=f"{title}-{Outbox.objects.count()}",
        subject=title,
        body="…",
        next_attempt_at=timezone.now(),
        status=Outbox.Status.SENT,
    )
    return InAppNotification.objects.create(outbox=outbox, recipient=user, title=title, body="…")


def head_a_notification(world) -> InAppNotification:
    return _once(world, "notification", lambda: notification_for(world.org.hospital_head))


def published_version(world):
    return published_template(world).versions.filter(status="published").order_by("-number").first()
