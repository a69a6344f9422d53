"""Where a request came from: the one answer that log-in throttling and the dossier download log share."""

from __future__ import annotations

import ipaddress

from django.conf import settings


def _address(text: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address((text or "").strip()))
    except ValueError:
        return None


def client_address(request) -> str | None:
    """The client's IP address, or None when there is no valid one.

    With ``settings.TRUSTED_PROXIES = 0`` (the default) it is the peer of the connection, REMOTE_ADDR:
    an ``X-Forwarded-For`` header is then the client's own claim and is ignored. With N trusted
    proxies in front of the application, each appending the address it received the request from to
    ``X-Forwarded-For``, the client is the N-th entry from the right: entries further left were sent
    by the client and could say anything. A request whose header has fewer entries than that did not
    come through every proxy, and its peer address is used.
    """
    peer = _address(request.META.get("REMOTE_ADDR"))
    proxies = settings.TRUSTED_PROXIES
    if proxies <= 0:
        return peer
    forwarded = [entry.strip() for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [entry for entry in forwarded if entry]
    if len(forwarded) < proxies:
        return peer
    return _address(forwarded[-proxies]) or peer
