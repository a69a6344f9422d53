from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProcessesConfig(AppConfig):
    name = "processes"
    verbose_name = _("Emulation and commendation")

    def ready(self):
        # The domain's audit actions are declared when the app loads, so every label is known.
        from processes import actions  # noqa: F401
