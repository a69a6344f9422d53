import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse
from django.utils.translation import gettext as _

from processes.demo import DEMO_PASSWORD, seed_demo
from processes.models import Stage


class Command(BaseCommand):
    help = (
        "Load the demo data: the Hai Phong 2021 organisation, award forms, two campaigns, demo users and "
        "some 250 nominations in every stage. Safe to run again: it adds only what is missing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--base-url", default="http://127.0.0.1:8000", help="Where the server runs, for the printed links."
        )
        parser.add_argument(
            "--password", default=DEMO_PASSWORD, help="Password given to demo accounts this run creates."
        )

    def handle(self, *args, **options):
        if not settings.THIDUA_DEMO_DATA:
            # Demo accounts share a published password: never on an installation that said no.
            raise CommandError(_("Demo data is switched off here (THIDUA_DEMO_DATA=false); nothing was loaded."))
        started = time.monotonic()
        result = seed_demo(password=options["password"])
        elapsed = time.monotonic() - started
        stages = ", ".join(f"{Stage(stage).label}: {result.stages[stage]}" for stage in Stage.values)
        self.stdout.write(
            _("Demo data ready in %(seconds).1f s: %(created)d nominations added, %(total)d in all (%(stages)s).")
            % {
                "seconds": elapsed,
                "created": result.created_nominations,
                "total": sum(result.stages.values()),
                "stages": stages,
            }
        )
        base = options["base_url"].rstrip("/")
        self.stdout.write(
            _("Log in at %(login)s (the Django admin is at %(admin)s).")
            % {"login": base + reverse("login"), "admin": base + reverse("admin:index")}
        )
        self.stdout.write(_("Demo log-ins, all with the password: %(password)s") % {"password": result.password})
        width = max(len(user.username) for user in result.logins)
        for user in result.logins:
            self.stdout.write(f"  {user.username:<{width}}  {user.label}")
        self.stdout.write(
            _(
                "Every base unit with nominations also has head.<code> and secretary.<code>, and each department "
                "or district above them head.<code> (for example head.ptt, secretary.ptt, head.lc), with the same "
                "password."
            )
        )
