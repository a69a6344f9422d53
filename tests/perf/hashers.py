"""The bench's own users get a cheap PBKDF2 hash: what it measures is not hashing, and the factories
make a dozen users per run. The algorithm is Django's own ``pbkdf2_sha256`` with fewer rounds, so
the application under gunicorn (production settings) verifies these hashes at log-in as it would any
older one (and strengthens them there, outside the timed decisions)."""

from django.contrib.auth.hashers import PBKDF2PasswordHasher


class QuickPBKDF2PasswordHasher(PBKDF2PasswordHasher):
    iterations = 1000
