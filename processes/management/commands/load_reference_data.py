from django.core.management.base import BaseCommand
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from processes.reference_data import load_reference_data


class Command(BaseCommand):
    help = (
        "Load the award forms, document types, eligibility rules and default approval chains an installation "
        "starts from; it needs no units or users. Safe to run again: it adds only what is missing and never "
        "changes a row that is there, so administrators' edits stay."
    )

    def handle(self, *args, **options):
        added = load_reference_data()
        if not added:
            self.stdout.write(_("The reference data is all there: nothing was added."))
            return
        self.stdout.write(_("Reference data added:"))
        for model, rows in added.rows.items():
            self.stdout.write(f"  {capfirst(model._meta.verbose_name_plural)} ({len(rows)}):")
            for row in rows:
                self.stdout.write(f"    {_label(row)}")


def _label(row) -> str:
    """A form, a document type or a template by its code and name; other rows name their parents."""
    code = getattr(row, "code", None)
    return f"{code}: {row}" if code else str(row)
