"""Reads of a user's work: the inbox, the opinions asked of their agency, the council sessions they see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from processes.models import (
    Consultation,
    Nomination,
)
from processes.permissions import (
    STAFF_ROLES,
    user_scope,
)
from workflow.approvals import inbox
from workflow.models import VoteSession

PAGE_SIZE = 50


def parse_cursor(cursor: str | None) -> tuple[datetime, int] | None:
    """An inbox cursor ("due time|step id") from a caller that did not parse it (views parse theirs
    with ``forms.CursorField``)."""
    if not cursor or "|" not in cursor:
        return None
    stamp, _sep, pk = cursor.rpartition("|")
    try:
        moment = parse_datetime(stamp)
    except ValueError:  # well-formed but impossible, e.g. month 99
        return None
    if moment is None or not (pk.isascii() and pk.isdigit() and len(pk) < 19):
        return None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment, int(pk)


@dataclass(frozen=True)
class InboxPage:
    rows: list  # (ApprovalTask, Nomination)
    next_cursor: str | None


def inbox_page(
    *, user, cursor: str | None = None, after: tuple[datetime, int] | None = None, size: int = PAGE_SIZE
) -> InboxPage:
    """The open steps ``user`` holds, soonest due first, by keyset; each with its nomination."""
    found = [candidate.approval_task for candidate in inbox(user, after=after or parse_cursor(cursor))[: size + 1]]
    has_more = len(found) > size
    found = found[:size]
    nominations = Nomination.objects.select_related("nominee", "award_form", "unit").in_bulk(
        [task.process.subject_id for task in found]
    )
    pairs = [(task, nominations[task.process.subject_id]) for task in found if task.process.subject_id in nominations]
    last = found[-1] if has_more else None
    return InboxPage(rows=pairs, next_cursor=f"{last.due_at.isoformat()}|{last.pk}" if last else None)


def case_labels(processes) -> dict[int, str]:
    """Process id → "nominee · award form · unit", for lists of steps: one query."""
    by_subject = {process.subject_id: process.pk for process in processes}
    nominations = Nomination.objects.select_related("nominee", "award_form", "unit").in_bulk(list(by_subject))
    return {
        by_subject[pk]: f"{nomination.nominee.name} · {nomination.award_form.name} · {nomination.unit.name}"
        for pk, nomination in nominations.items()
    }


def consultations_open_for(scope) -> QuerySet[Consultation]:
    """The open consultations of the agencies where ``scope`` is head, deputy or secretary."""
    units = [unit_id for unit_id, roles in scope.roles.items() if roles & set(STAFF_ROLES)]
    return Consultation.objects.filter(agency_id__in=units, answered_at__isnull=True)


def consultations_for(user) -> list[Consultation]:
    """Open consultations this user's agencies must answer (for the inbox)."""
    return list(consultations_open_for(user_scope(user)).select_related("nomination__nominee").order_by("due_at")[:50])


def sessions_visible_to(user, *, scope=None):
    """The sessions ``may_see_session`` lets ``user`` see, as one queryset: all for an admin or the
    Board; otherwise those they hold a ballot in and those of a council they may convene."""
    scope = scope or user_scope(user)
    sessions = VoteSession.objects.all()
    if scope.user_id is None:
        return sessions.none()
    if scope.is_admin or scope.board:
        return sessions
    staff = {unit_id for unit_id, held in scope.roles.items() if held & set(STAFF_ROLES)}
    convenes = staff | {unit_id for unit_id, parent in scope.tree.parent.items() if parent in staff}
    return sessions.filter(Q(task__owner_id=scope.user_id) | Q(council_unit_id__in=convenes)).distinct()
