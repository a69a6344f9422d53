"""Password change and reset: Django's views, with the product's templates and the site's own address in links."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import views as auth_views


class PasswordResetView(auth_views.PasswordResetView):
    # Django's names for these templates are taken by the admin's (an app listed before ours), whose
    # look would be shown: ours have names of their own.
    template_name = "registration/password_reset.html"
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_email_subject.txt"

    @property
    def extra_email_context(self):
        # The link starts with the configured address of the site, as every other email's does, not
        # with whatever Host the request carried.
        return {"site_url": settings.NOTIFICATION_SITE_URL.rstrip("/")}
