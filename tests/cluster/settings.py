"""The demo's own process (the orchestrator and load driver): the application's settings with the bench's
cheap hasher for the users it makes (what the demo exercises is not hashing). The web nodes, workers and
beat run with ``config.settings`` itself and verify these hashes as they would any older one."""

from config.settings import *  # noqa: F403

PASSWORD_HASHERS = [
    "tests.perf.hashers.QuickPBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
