from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from processes.backups import BackupError, backup_restore


class Command(BaseCommand):
    help = (
        "Restore an archive written by `backup` into the (empty) database, put the dossier files and the audit "
        "checkpoints back, then run verify_audit. Needs the same THIDUA_AUDIT_KEY as the backed-up site."
    )

    def add_arguments(self, parser):
        parser.add_argument("archive", type=Path)
        parser.add_argument(
            "--force",
            action="store_true",
            help="Restore into a database that is not empty (its objects are dropped first) and replace files.",
        )

    def handle(self, *args, archive, force=False, **options):
        try:
            manifest = backup_restore(archive_path=archive, force=force)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            _("Restored the backup of %(created)s into %(database)s (%(parts)d parts).")
            % {
                "created": manifest["created"],
                "database": settings.DATABASES["default"]["NAME"],
                "parts": len(manifest["parts"]),
            }
        )
        call_command("verify_audit", stdout=self.stdout, stderr=self.stderr)
