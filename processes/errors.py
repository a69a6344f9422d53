"""Domain errors: each carries a translatable message a user can act on."""

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    default_message = _("The request could not be carried out.")

    def __init__(self, message=None, *, reasons=()):
        self.message = message or self.default_message
        self.reasons = list(reasons)
        super().__init__(str(self.message))

    def __str__(self):
        if self.reasons:
            return f"{self.message} " + "; ".join(str(reason) for reason in self.reasons)
        return str(self.message)


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
