from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from processes.backups import BackupError, backup_create


class Command(BaseCommand):
    help = (
        "Write one archive (pg_dump of the database, the dossier files, the audit checkpoints, and a manifest "
        "of their sha256) to BACKUP_DIR. PostgreSQL only."
    )

    def add_arguments(self, parser):
        parser.add_argument("--output-dir", type=Path, help="Where to write the archive (default: BACKUP_DIR).")

    def handle(self, *args, output_dir=None, **options):
        try:
            archive = backup_create(directory=output_dir)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(_("Wrote %(path)s.") % {"path": archive})
