"""Django's staticfiles app, with one more folder left out of ``collectstatic``."""

from django.contrib.staticfiles.apps import StaticFilesConfig


class StaticFiles(StaticFilesConfig):
    # viewflow's wheel ships a font stylesheet under node_modules/ without the fonts it names, and the
    # manifest storage refuses a stylesheet whose files are missing. No page of ours uses viewflow's
    # own screens or that stylesheet.
    ignore_patterns = [*StaticFilesConfig.ignore_patterns, "node_modules"]
