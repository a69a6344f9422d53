"""Audit actions, each declared once: its code, the words people read for it, what the timeline
shows of its data, and the notifications it calls for.

Every action written to the audit log is declared here (the engine's own) or by the domain (its
``actions`` module, loaded with its app), so the timeline, the admin and the notifications read one
registry and never show a raw code. Adding an event is one declaration: ``notify`` names the
notifications it calls for, which the notifications app implements by those names (a system check
refuses a name it does not know). ``tests/test_actions.py`` checks that every action the code can
write is declared and translated.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class AuditAction:
    code: str
    label: Promise | str
    #: What the timeline adds from an entry's data (a file's name, a decision's number), or None.
    detail: Callable[[dict], str] | None = None
    #: The notifications this action calls for, by the names the notifications app implements.
    notify: tuple[str, ...] = ()


_DECLARED: dict[str, AuditAction] = {}


def declare(code: str, label, *, detail: Callable[[dict], str] | None = None, notify: tuple[str, ...] = ()) -> str:
    """Declare ``code``; returns the code, so modules can keep it as a constant."""
    action = AuditAction(code=code, label=label, detail=detail, notify=tuple(notify))
    known = _DECLARED.get(code)
    if known is not None and known != action:
        raise ValueError(f"audit action {code} is declared twice, differently")
    _DECLARED[code] = action
    return code


def declared() -> dict[str, AuditAction]:
    return dict(_DECLARED)


def action_of(code: str) -> AuditAction | None:
    return _DECLARED.get(code)


def label_of(code: str) -> str:
    """The label of ``code``; an undeclared code (an old entry) is shown as it is."""
    action = _DECLARED.get(code)
    return str(action.label) if action else code


def detail_of(code: str, data: dict) -> str:
    """What the timeline shows of an entry's data, by its action's declaration ("" if nothing)."""
    action = _DECLARED.get(code)
    return action.detail(data) if action and action.detail else ""


VOTE_SESSION_OPENED = declare("workflow.vote.session_opened", _("Council session opened"), notify=("ballots_open",))
VOTE_CAST = declare("workflow.vote.cast", _("Ballot cast"))
VOTE_SESSION_CLOSED = declare("workflow.vote.session_closed", _("Council session closed and tallied"))
TEMPLATE_DRAFTED = declare("workflow.template.drafted", _("Template draft made"))
TEMPLATE_PUBLISHED = declare("workflow.template.published", _("Template version published"))
