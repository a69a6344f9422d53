"""The case tracker's search column: filled for the nominations already there, and on PostgreSQL served
by a trigram index (``LIKE '% word%'`` stays an index scan at 200,000 nominations and more).

The column holds ``processes.text.searchable`` of the nominee's name, the proposing unit's name and the
decision number; the models keep it in step afterwards.
"""

from django.db import migrations, models

from processes.text import searchable

INDEX = "nomination_search_trgm"


def fill(apps, schema_editor):
    Nomination = apps.get_model("processes", "Nomination")
    rows = Nomination.objects.order_by().values_list("pk", "nominee__name", "unit__name", "decision__number")
    changed = [Nomination(pk=pk, search_text=searchable(*names)) for pk, *names in rows.iterator(chunk_size=2000)]
    Nomination.objects.bulk_update(changed, ["search_text"], batch_size=1000)


def add_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(f"CREATE INDEX {INDEX} ON processes_nomination USING gin (search_text gin_trgm_ops)")


def drop_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("processes", "0011_dossier_file_removed_or_replaced"),
    ]

    operations = [
        migrations.AddField(
            model_name="nomination",
            name="search_text",
            field=models.TextField(blank=True, default="", editable=False, verbose_name="search text"),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.RunPython(add_trigram_index, drop_trigram_index),
    ]
