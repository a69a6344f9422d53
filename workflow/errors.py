"""The base of every error a user is shown: a translatable message, and reasons where there are several."""

from django.utils.translation import gettext_lazy as _


class WorkflowError(Exception):
    default_message = _("The request could not be carried out.")

    def __init__(self, message=None, *, reasons=()):
        self.message = message or self.default_message
        self.reasons = list(reasons)
        super().__init__(str(self.message))

    def __str__(self):
        if self.reasons:
            return f"{self.message} " + "; ".join(str(reason) for reason in self.reasons)
        return str(self.message)


class StepClosed(WorkflowError):
    """The task was decided (or cancelled) before this request reached it."""

    default_message = _("This step has already been decided.")


class StepBusy(WorkflowError):
    default_message = _("Someone else is deciding this step right now. Wait a moment and reload the page.")


class ActionNotAllowed(WorkflowError):
    default_message = _("This step does not allow that action.")
