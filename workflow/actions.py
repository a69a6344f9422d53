"""Audit actions, each declared once with the words people read for it.

Every action written to the audit log is declared here (the engine's own) or by the domain (its
``actions`` module, loaded when its app is ready), so the timeline, the admin and the notifications
show a label, never a raw code. ``tests/test_actions.py`` checks that every action the code can
write is declared and translated.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class AuditAction:
    code: str
    label: Promise | str


_DECLARED: dict[str, AuditAction] = {}


def declare(code: str, label) -> str:
    """Declare ``code`` with its label; returns the code, so modules can keep it as a constant."""
    known = _DECLARED.get(code)
    if known is not None and known.label != label:
        raise ValueError(f"audit action {code} is declared twice with different labels")
    _DECLARED[code] = AuditAction(code=code, label=label)
    return code


def declared() -> dict[str, AuditAction]:
    return dict(_DECLARED)


def label_of(code: str) -> str:
    """The label of ``code``; an undeclared code (an old entry) is shown as it is."""
    action = _DECLARED.get(code)
    return str(action.label) if action else code


VOTE_SESSION_OPENED = declare("workflow.vote.session_opened", _("Council session opened"))
VOTE_CAST = declare("workflow.vote.cast", _("Ballot cast"))
VOTE_SESSION_CLOSED = declare("workflow.vote.session_closed", _("Council session closed and tallied"))
TEMPLATE_DRAFTED = declare("workflow.template.drafted", _("Template draft made"))
TEMPLATE_PUBLISHED = declare("workflow.template.published", _("Template version published"))
