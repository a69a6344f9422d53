"""Re-sign the audit log with the key: from plain SHA-256 to HMAC-SHA256 (``settings.AUDIT_KEY``).

Each chain is first verified under the old scheme; if any is already broken, nothing is changed and
the migration stops with the list, since re-signing would bless the tampering. Whatever verifies is
re-signed entry by entry (each entry's hash covers the hash before it, so every ``prev_hash`` changes
too), and its head follows. Backwards, the same from the key to plain SHA-256.

The canonical encoding is copied here as it stood when the old entries were written, so this file
keeps its meaning whatever ``workflow.audit`` becomes.
"""

import hashlib
import hmac
import json
import math
from datetime import UTC
from decimal import Decimal

from django.conf import settings
from django.db import migrations

GENESIS_HASH = "0" * 64
CHAINS_PER_BATCH = 500
SHOWN = 20


class AuditLogBroken(Exception):
    pass


def _json_normalised(value):
    if isinstance(value, dict):
        return {key: _json_normalised(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_normalised(item) for item in value]
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(Decimal(repr(value)))
    return value


def _canonical(row, *, subject, prev_hash):
    _pk, seq, actor_id, action, from_state, to_state, comment, data, created_at, _prev, _hash = row
    payload = {
        "subject": subject,
        "seq": seq,
        "actor": actor_id,
        "action": action,
        "from": from_state,
        "to": to_state,
        "comment": comment,
        "data": _json_normalised(data),
        "at": created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "prev": prev_hash,
    }
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def _plain(message):
    return hashlib.sha256(message).hexdigest()


def _keyed(message):
    key = getattr(settings, "AUDIT_KEY", "") or ""
    if len(key) < 32:
        raise AuditLogBroken("settings.AUDIT_KEY (THIDUA_AUDIT_KEY) must be at least 32 characters long.")
    return hmac.digest(key.encode(), message, "sha256").hex()


def _first_break(rows, head, *, subject, digest):
    prev = GENESIS_HASH
    for expected, row in enumerate(rows, start=1):
        seq, prev_hash, hash_ = row[1], row[9], row[10]
        if seq != expected:
            return f"entry #{expected} is missing or out of order"
        if prev_hash != prev:
            return f"entry #{seq} does not link to the one before it"
        if digest(_canonical(row, subject=subject, prev_hash=prev_hash)) != hash_:
            return f"entry #{seq} does not match its hash"
        prev = hash_
    if (len(rows), prev if rows else "") != head:
        return f"the head records {head[0]} entries, {len(rows)} verify"
    return None


def _resign(apps, schema_editor, *, old, new, scheme):
    ContentType = apps.get_model("contenttypes", "ContentType")
    AuditChain = apps.get_model("workflow", "AuditChain")
    AuditEntry = apps.get_model("workflow", "AuditEntry")
    connection = schema_editor.connection
    labels = {pk: f"{app}.{model}" for pk, app, model in ContentType.objects.values_list("pk", "app_label", "model")}
    quote = schema_editor.quote_name
    update_entry = (
        f"UPDATE {quote(AuditEntry._meta.db_table)} SET {quote('prev_hash')} = %s, {quote('hash')} = %s "
        f"WHERE {quote('id')} = %s"
    )
    update_head = f"UPDATE {quote(AuditChain._meta.db_table)} SET {quote('last_hash')} = %s WHERE {quote('id')} = %s"
    fields = (
        "pk", "seq", "actor_id", "action", "from_state", "to_state", "comment", "data", "created_at", "prev_hash",
        "hash",
    )
    broken, after = [], 0
    while True:
        # Chains by batches, each batch's entries read whole before any write: no cursor stays open
        # over the rows being rewritten.
        chains = list(
            AuditChain.objects.filter(pk__gt=after, last_seq__gt=0)
            .order_by("pk")
            .values_list("pk", "content_type_id", "object_id", "last_seq", "last_hash")[:CHAINS_PER_BATCH]
        )
        if not chains:
            break
        after = chains[-1][0]
        entries = {}
        for chain_id, *row in AuditEntry.objects.filter(chain_id__in=[chain[0] for chain in chains]).order_by(
            "chain_id", "seq"
        ).values_list("chain_id", *fields):
            entries.setdefault(chain_id, []).append(row)
        entry_updates, head_updates = [], []
        for chain_id, content_type_id, object_id, last_seq, last_hash in chains:
            subject = f"{labels[content_type_id]}:{object_id}"
            rows = entries.get(chain_id, [])
            reason = _first_break(rows, (last_seq, last_hash), subject=subject, digest=old)
            if reason:
                broken.append(f"{subject}: {reason}")
                continue
            prev = GENESIS_HASH
            for row in rows:
                hash_ = new(_canonical(row, subject=subject, prev_hash=prev))
                entry_updates.append((prev, hash_, row[0]))
                prev = hash_
            head_updates.append((prev, chain_id))
        if not broken:  # once one is broken nothing will be written: only look for the others
            with connection.cursor() as cursor:
                cursor.executemany(update_entry, entry_updates)
                cursor.executemany(update_head, head_updates)
    if broken:
        listed = "\n  ".join(broken[:SHOWN])
        more = f"\n  … and {len(broken) - SHOWN} more" if len(broken) > SHOWN else ""
        raise AuditLogBroken(
            f"{len(broken)} audit chain(s) do not verify under the {scheme} scheme, so the log was not re-signed "
            f"(re-signing would make the tampering verify):\n  {listed}{more}\n"
            "Nothing was changed. Restore these chains from a backup taken before they broke (or find out "
            "who changed them with `manage.py verify_audit` of the previous release), then migrate again."
        )


def to_keyed(apps, schema_editor):
    _resign(apps, schema_editor, old=_plain, new=_keyed, scheme="old plain SHA-256")


def to_plain(apps, schema_editor):
    _resign(apps, schema_editor, old=_keyed, new=_plain, scheme="keyed HMAC-SHA256")


class Migration(migrations.Migration):
    dependencies = [
        ("workflow", "0008_approval_task_intervention"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(to_keyed, to_plain)]
