"""A cast ballot, sealed until its session's tally.

The voter's transaction stores their choices encrypted (AES-256-GCM, a random 96-bit nonce per
ballot) under a key derived from ``settings.BALLOT_SEAL_KEY``, which lives in the environment of
the application's processes (or a file under var/ in the embedded run), never in the database. The
session's id is bound as associated data, so a sealed ballot cannot be replayed into another
session. The plaintext holds one single-letter code per case, so the length of a sealed ballot
depends only on which cases are on the member's ballot (public: the agenda and its recusals), never
on the choices.
"""

from __future__ import annotations

import json
import secrets
from functools import cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from workflow.errors import WorkflowError

NONCE_BYTES = 12
CODES = {"yes": "y", "no": "n", "abstain": "a"}
CHOICES = {code: choice for choice, code in CODES.items()}


class BallotBoxError(WorkflowError):
    """A sealed ballot cannot be opened (another key, altered bytes) or the box does not match the receipts."""

    default_message = _(
        "The sealed ballots of this session cannot be counted (the key changed or the ballots were altered); "
        "the tally is refused."
    )


@cache
def _cipher(secret: str) -> AESGCM:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"thidua council ballot seal v1").derive(
        secret.encode()
    )
    return AESGCM(key)


def _session_bound(session_id: int) -> bytes:
    return f"thidua ballot of session {session_id}".encode()


def nonce_of(payload: bytes) -> bytes:
    return bytes(payload[:NONCE_BYTES])


def seal(*, session_id: int, choices: dict[int, str], key: str | None = None) -> bytes:
    """``choices`` (case id → yes, no or abstain) as ``nonce ‖ ciphertext ‖ tag``."""
    text = json.dumps(sorted([item_id, CODES[choice]] for item_id, choice in choices.items()), separators=(",", ":"))
    nonce = secrets.token_bytes(NONCE_BYTES)
    cipher = _cipher(key or settings.BALLOT_SEAL_KEY)
    return nonce + cipher.encrypt(nonce, text.encode(), _session_bound(session_id))


def unseal(*, session_id: int, payload: bytes, key: str | None = None) -> dict[int, str]:
    """The choices of a sealed ballot of ``session_id``; ``BallotBoxError`` if it cannot be opened."""
    payload = bytes(payload)
    cipher = _cipher(key or settings.BALLOT_SEAL_KEY)
    try:
        plain = cipher.decrypt(payload[:NONCE_BYTES], payload[NONCE_BYTES:], _session_bound(session_id))
        return {int(item_id): CHOICES[code] for item_id, code in json.loads(plain)}
    except (InvalidTag, ValueError, KeyError, TypeError) as exc:
        raise BallotBoxError() from exc
