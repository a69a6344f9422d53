"""On PostgreSQL, the database itself refuses to change the audit log (nothing on SQLite).

Entries can be inserted, never updated or deleted; a chain head can be inserted and moved forward
(``audit_append`` raises ``last_seq``), never deleted, moved back, re-pointed at another subject or
given another hash for the same sequence. Only a table owner or a superuser can get past this, by
disabling the triggers (``ALTER TABLE … DISABLE TRIGGER``, ``session_replication_role``), which the
checkpoints and the keyed hashes are there to catch. No TRUNCATE trigger: Django's test flush uses
TRUNCATE.
"""

from django.db import migrations

FORWARD = """
CREATE FUNCTION workflow_auditentry_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit entries are append-only: % refused', TG_OP USING ERRCODE = 'restrict_violation';
END
$$;
CREATE TRIGGER workflow_auditentry_append_only BEFORE UPDATE OR DELETE ON workflow_auditentry
    FOR EACH ROW EXECUTE FUNCTION workflow_auditentry_append_only();

CREATE FUNCTION workflow_auditchain_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'audit chain heads cannot be deleted' USING ERRCODE = 'restrict_violation';
    END IF;
    IF NEW.content_type_id <> OLD.content_type_id OR NEW.object_id <> OLD.object_id
       OR NEW.last_seq < OLD.last_seq
       OR (NEW.last_seq = OLD.last_seq AND NEW.last_hash <> OLD.last_hash) THEN
        RAISE EXCEPTION 'audit chain heads only move forward (#% to #%)', OLD.last_seq, NEW.last_seq
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER workflow_auditchain_forward_only BEFORE UPDATE OR DELETE ON workflow_auditchain
    FOR EACH ROW EXECUTE FUNCTION workflow_auditchain_forward_only();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS workflow_auditchain_forward_only ON workflow_auditchain;
DROP FUNCTION IF EXISTS workflow_auditchain_forward_only();
DROP TRIGGER IF EXISTS workflow_auditentry_append_only ON workflow_auditentry;
DROP FUNCTION IF EXISTS workflow_auditentry_append_only();
"""


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)  # no parameters: its % are PL/pgSQL's

    return run


class Migration(migrations.Migration):
    dependencies = [("workflow", "0009_audit_keyed_hash")]

    operations = [migrations.RunPython(_on_postgresql(FORWARD), _on_postgresql(BACKWARD))]
