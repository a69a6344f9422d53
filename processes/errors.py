"""Domain errors: each carries a translatable message a user can act on."""

from django.utils.translation import gettext_lazy as _

from workflow.errors import WorkflowError


class DomainError(WorkflowError):
    """An error of the award domain; caught with every other user-facing error as WorkflowError."""


class PermissionDenied(DomainError):
    default_message = _("You are not allowed to do this for this nomination.")


class TransitionNotAllowed(DomainError):
    default_message = _("This step cannot be taken now.")


class StaleObject(DomainError):
    default_message = _("Someone else changed this nomination after you opened it. Reload the page and try again.")


class DuplicateNomination(DomainError):
    default_message = _("This nominee already has an open nomination for this award form in this campaign.")


class OverlappingMembership(DomainError):
    default_message = _("This unit already has a head for part of that period.")


class UploadRejected(DomainError):
    default_message = _("The file was not accepted.")


class FileTooLarge(UploadRejected):
    """A file over the upload limit (the API answers 413)."""


class NoApprover(DomainError):
    """Nobody holds the role a step needs (a unit without a head, an empty group)."""

    default_message = _("Nobody can be found to approve this step.")

    def __init__(self, message=None, *, unit=None, rule=""):
        self.unit = unit
        self.rule = rule
        if message is None and unit is not None:
            message = _("Nobody can approve this step: %(unit)s has nobody for the rule “%(rule)s” on that day.") % {
                "unit": unit,
                "rule": rule,
            }
        super().__init__(message)


class NoChain(DomainError):
    default_message = _("No approval chain is assigned to this award form.")
