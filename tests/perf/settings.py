"""The settings of the bench's own processes (the orchestrator and the decision workers): the
application's, plus this folder as an installed app (viewflow stores a flow by its app label, so the
bare flow of ``bare_flow.py`` must live in one), a cheap hasher for the users the bench makes, and
quieter kombu logs. The application under gunicorn runs with ``config.settings`` itself; what the
bench changes there (the session idle time) goes through the environment variables it already reads."""

from config.settings import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "tests.perf"]  # noqa: F405
PASSWORD_HASHERS = [
    "tests.perf.hashers.QuickPBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]

# kombu's filesystem transport warns on every connection that it has no host name: it needs none.
LOGGING = {**LOGGING, "loggers": {**LOGGING["loggers"], "kombu.connection": {"level": "ERROR"}}}  # noqa: F405
