"""Request rates, counted in the database cache the public pages use (``CACHES["ratelimit"]``): every
web process shares it, and it is not Redis, so a Redis outage throttles nothing and loses nothing."""

from django.core.cache import caches
from rest_framework.throttling import AnonRateThrottle, ScopedRateThrottle, UserRateThrottle

CACHE = "ratelimit"


class SharedCache:
    @property
    def cache(self):
        return caches[CACHE]


class UserRate(SharedCache, UserRateThrottle):
    """Per signed-in user (``API_RATE_USER``)."""


class AnonymousRate(SharedCache, AnonRateThrottle):
    """Per client address for requests without a user (``API_RATE_ANONYMOUS``)."""


class ScopedRate(SharedCache, ScopedRateThrottle):
    """A view's own rate (``throttle_scope``), e.g. trading a password for a token."""
