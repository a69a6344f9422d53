from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from workflow.checkpoints import CheckpointError, audit_checkpoint_write, checkpoint_load


class Command(BaseCommand):
    help = (
        "Write a signed checkpoint of every audit chain's head to AUDIT_CHECKPOINT_DIR if a head moved "
        "(beat does so every 5 minutes). Refuses when the checkpoints already there do not verify."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--full", action="store_true", help="Write a full checkpoint (every chain) even if nothing moved."
        )

    def handle(self, *args, full=False, **options):
        try:
            written = audit_checkpoint_write(full=full)
        except CheckpointError as exc:
            raise CommandError(_("No audit checkpoint written: %(reason)s") % {"reason": exc}) from exc
        if written is None:
            latest, _problems = checkpoint_load()
            self.stdout.write(
                _("No audit chain moved since checkpoint #%(number)d: nothing written.")
                % {"number": latest.number if latest else 0}
            )
            return
        file, chains = written
        self.stdout.write(
            _("Wrote audit checkpoint #%(number)d (%(kind)s, %(chains)d chains) to %(path)s.")
            % {"number": file.number, "kind": file.kind, "chains": chains, "path": file.path}
        )
