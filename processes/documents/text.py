"""The fixed wording of the papers, kept as data (``processes/data/documents.toml``) that a deployment
may override key by key with ``settings.DOCUMENT_TEXT``: the legal grounds change with the law."""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

from django.conf import settings

TEXT_FILE = Path(__file__).resolve().parent.parent / "data" / "documents.toml"


@cache
def _defaults() -> dict:
    with TEXT_FILE.open("rb") as source:
        return tomllib.load(source)


def document_text(key: str):
    """One entry of the papers' wording: the setting's when it has the key, else the data file's."""
    overrides = getattr(settings, "DOCUMENT_TEXT", None) or {}
    return overrides[key] if key in overrides else _defaults()[key]
