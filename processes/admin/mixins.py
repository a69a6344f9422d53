"""What the admin pages of several subjects share: a service's refusal shown on the form, the saved
row adopted, a period's last day."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from workflow.errors import WorkflowError


class ServiceFormMixin:
    """Show a service's refusal on the form it came from, with the user's input kept.

    The admin saves inside one transaction; a ``WorkflowError`` raised by a service during the save
    leaves that transaction and rolls everything back. The same POST is then shown again with the
    service's message as a form error, so the user sees why and nothing is half-saved.
    """

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except WorkflowError as exc:
            if request.method != "POST" or hasattr(request, "_service_refusal"):
                raise
            request._service_refusal = exc
            return super().changeform_view(request, object_id, form_url, extra_context)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        refusal = getattr(request, "_service_refusal", None)
        if refusal is None:
            return form

        class RefusedForm(form):
            def clean(self):
                super().clean()
                raise ValidationError(str(refusal))

        return RefusedForm


def adopt(obj, saved) -> None:
    """Make the admin's unsaved ``obj`` stand for the row a service saved, for the redirect and log."""
    obj.pk = saved.pk
    obj._state.adding = False
    obj._state.db = saved._state.db


class LastDayColumn:
    """Lists and read-only pages show a period's last day in force, as forms take it; the stored
    ``valid_to`` is the day after (``processes.periods``)."""

    @admin.display(description=_("until the end of"), ordering="valid_to")
    def until_the_end_of(self, row):
        return row.last_day
