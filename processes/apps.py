from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# The domain's audit actions are declared as the app loads, so every label is known (no model is read).
from processes import actions  # noqa: F401


class ProcessesConfig(AppConfig):
    name = "processes"
    verbose_name = _("Emulation and commendation")
