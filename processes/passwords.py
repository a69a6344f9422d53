"""Password rules as users read them."""

from django.contrib.auth import password_validation
from django.utils.translation import gettext as _


class MinimumLengthValidator(password_validation.MinimumLengthValidator):
    """Django's rule, with its refusal in our catalogue: Django 5.2's Vietnamese one still has this
    message's older wording, so it would be shown in English."""

    def get_error_message(self):
        return _("This password is too short: it must contain at least %(min_length)d characters.") % {
            "min_length": self.min_length
        }
