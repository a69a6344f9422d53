import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, OutputWrapper
from django.urls import reverse
from django.utils.translation import gettext as _

from processes.demo import DEMO_PASSWORD, seed_demo
from processes.models import Stage


class Progress:
    """Nominations added out of those planned: a bar redrawn in place on a terminal; elsewhere (a pipe,
    a log file) a plain line at the start and at each quarter.

    It goes to stderr: ``make run`` copies stdout, the result and the log-ins, into the file its
    banner repeats, and stderr stays the terminal, where the bar belongs.
    """

    WIDTH = 30
    REDRAW_SECONDS = 0.1

    def __init__(self, out: OutputWrapper):
        self.out = out
        self.terminal = out.isatty()
        self.drawn_at = 0.0
        self.quarters_told = -1

    def __call__(self, done: int, planned: int) -> None:
        if planned == 0:
            self.out.write(_("Every demo nomination is already there: nothing to add."))
        elif self.terminal:
            self.draw(done, planned)
        else:
            self.tell(done, planned)

    def draw(self, done: int, planned: int) -> None:
        now = time.monotonic()
        if 0 < done < planned and now - self.drawn_at < self.REDRAW_SECONDS:
            return
        self.drawn_at = now
        filled = self.WIDTH * done // planned
        bar = "█" * filled + "░" * (self.WIDTH - filled)
        # \r and erase-to-end-of-line: the next drawing replaces this one.
        label = _("Nominations")
        self.out.write(f"\r\x1b[K{label} {bar} {done}/{planned}", ending="\n" if done == planned else "")
        self.out.flush()

    def tell(self, done: int, planned: int) -> None:
        quarters = 4 * done // planned
        if quarters > self.quarters_told:
            self.quarters_told = quarters
            self.out.write(
                _("Nominations: %(done)d/%(planned)d (%(percent)d%%)")
                % {"done": done, "planned": planned, "percent": 100 * done // planned}
            )


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
        self.stderr.style_func = None  # progress, not an error: no red
        self.stderr.write(_("Loading the organisation, award forms, demo users and approval chains…"))
        result = seed_demo(password=options["password"], progress=Progress(self.stderr))
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
