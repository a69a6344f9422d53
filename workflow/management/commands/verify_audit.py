import sys

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from workflow.approvals import subject_adapter
from workflow.audit import audit_verify
from workflow.checkpoints import checkpoint_load


class Command(BaseCommand):
    help = (
        "Verify every audit chain (its keyed hashes, against the latest audit checkpoint, and against its "
        "subject's current state); report the first broken link of each and exit 1 if any."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--every-checkpoint",
            action="store_true",
            help="Check the signature and link of every kept checkpoint, not only those since the latest full one.",
        )

    def handle(self, *args, every_checkpoint=False, **options):
        checkpoint, problems = checkpoint_load(every_file=every_checkpoint)
        for problem in problems:
            self.stderr.write(_("BROKEN %(link)s") % {"link": problem})
        if checkpoint is None and not problems:
            self.stdout.write(
                _(
                    "No audit checkpoint in %(directory)s yet: a chain deleted whole or a head rolled back "
                    "goes unseen until the first one."
                )
                % {"directory": settings.AUDIT_CHECKPOINT_DIR}
            )
        broken = by_checkpoint = 0
        for link in audit_verify(checkpoint=checkpoint, subjects=subject_adapter()):
            broken += 1
            by_checkpoint += link.by_checkpoint
            self.stderr.write(_("BROKEN %(link)s") % {"link": link})
        if checkpoint is not None:
            self.stdout.write(_("Compared with audit %(checkpoint)s.") % {"checkpoint": checkpoint})
        if problems:
            self.stderr.write(_("The audit checkpoints do not verify."))
        if broken:
            self.stderr.write(_("%(count)d audit chain(s) broken.") % {"count": broken})
        if by_checkpoint:
            self.stderr.write(
                _("If this database was replaced on purpose (a new demo), move the checkpoints in %(directory)s away.")
                % {"directory": settings.AUDIT_CHECKPOINT_DIR}
            )
        if broken or problems:
            sys.exit(1)
        self.stdout.write(_("All audit chains verify."))
