"""The Django admin over the award domain, one module per subject.

Writes that have a service go through it with ``request.user``: nominations are created, edited
and moved by ``processes.services``, memberships are added by ``membership_create``, files by
``dossier_upload`` and award decisions by ``nomination_award``. A refusal (any ``WorkflowError``) is shown
on the form or as a message per object, and nothing is half-saved. ``stage`` is never a form
field (the FSM field is protected); transitions are admin actions.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

# Imported for their registrations.
from processes.admin import (  # noqa: F401
    chains,
    exports,
    nominations,
    nominees,
    organisation,
    posting,
    reference,
    replication,
    templates,
    third_party,
    users,
)

admin.site.site_header = _("Emulation and commendation: administration")
admin.site.site_title = _("Emulation and commendation")
admin.site.index_title = _("Configuration and records")
