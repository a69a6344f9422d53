"""On PostgreSQL, let the database itself refuse overlapping periods.

Model ``clean()`` and the services check the same rules on every backend; these constraints close
the race between two concurrent writers, which SQLite closes by serialising all writers.
"""

from django.db import migrations

CONSTRAINTS = [
    (
        "processes_membership",
        "membership_one_head_at_a_time",
        "EXCLUDE USING gist (unit_id WITH =, daterange(valid_from, valid_to, '[)') WITH &&) WHERE (role = 'head')",
    ),
    (
        "processes_unitlink",
        "unit_link_one_parent_at_a_time",
        "EXCLUDE USING gist (unit_id WITH =, daterange(valid_from, valid_to, '[)') WITH &&)",
    ),
]


def add_constraints(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    for table, name, definition in CONSTRAINTS:
        schema_editor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")


def drop_constraints(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, name, _definition in CONSTRAINTS:
        schema_editor.execute(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("processes", "0001_initial")]

    operations = [migrations.RunPython(add_constraints, drop_constraints)]
