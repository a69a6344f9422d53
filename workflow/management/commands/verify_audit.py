import sys

from django.core.management.base import BaseCommand

from workflow.audit import audit_verify


class Command(BaseCommand):
    help = "Verify every audit chain; report the first broken link of each and exit 1 if any."

    def handle(self, *args, **options):
        broken = 0
        for link in audit_verify():
            broken += 1
            self.stderr.write(f"BROKEN {link}")
        if broken:
            self.stderr.write(f"{broken} audit chain(s) broken.")
            sys.exit(1)
        self.stdout.write("All audit chains verify.")
