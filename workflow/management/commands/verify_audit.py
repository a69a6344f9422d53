import sys

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from workflow.audit import audit_verify


class Command(BaseCommand):
    help = "Verify every audit chain; report the first broken link of each and exit 1 if any."

    def handle(self, *args, **options):
        broken = 0
        for link in audit_verify():
            broken += 1
            self.stderr.write(_("BROKEN %(link)s") % {"link": link})
        if broken:
            self.stderr.write(_("%(count)d audit chain(s) broken.") % {"count": broken})
            sys.exit(1)
        self.stdout.write(_("All audit chains verify."))
