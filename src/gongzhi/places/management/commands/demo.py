import time

from django.core.management.base import BaseCommand, CommandError

from gongzhi.core.context import request_context
from gongzhi.core.errors import ActionError
from gongzhi.matters.models import Matter
from gongzhi.places.demo import (
    BATCH_SIZE,
    DEFAULT_SCALE,
    DEFAULT_SEED,
    DEMO_PASSWORD,
    generate_demo,
)
from gongzhi.places.demo_activity import build_activity


class Command(BaseCommand):
    help = (
        "Build the demo county (示范县): towns, villages and communities, grids, buildings, "
        "households and residents, departments and a login for every role. Does nothing when "
        "the demo county exists. Prints the demo logins."
    )

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED,
                            help=f"random seed; the same seed and scale give the same county "
                                 f"(default {DEFAULT_SEED})")
        parser.add_argument("--scale", type=int, default=DEFAULT_SCALE,
                            help=f"number of households (default {DEFAULT_SCALE})")
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE,
                            help=f"households written per batch (default {BATCH_SIZE})")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")
        parser.add_argument("--no-activity", action="store_true",
                            help="no matters, meetings, points, visits or volunteers: only the "
                                 "registry and the logins")

    def handle(self, *args, **opts):
        started = time.monotonic()
        progress = not opts["no_progress"] and opts["verbosity"] > 0
        try:
            with request_context():
                result = generate_demo(seed=opts["seed"], scale=opts["scale"],
                                       progress=progress, batch_size=opts["batch_size"])
        except ActionError as exc:
            raise CommandError(str(exc)) from exc
        county = result.county
        if result.created:
            c = result.counts
            self.stdout.write(self.style.SUCCESS(
                f"Built the demo county {county.name} ({county.code}) in "
                f"{time.monotonic() - started:.1f}s: {c['towns']} towns, {c['villages']} "
                f"villages, {c['communities']} communities, {c['grids']} grids, "
                f"{c['buildings']} buildings, {c['households']} households, {c['people']} "
                f"residents, {c['organisations']} organisations, {c['users']} cadre accounts."
            ))
        elif result.cadres_created:
            self.stdout.write(f"The demo county {county.name} ({county.code}) exists already; "
                              f"created the {result.cadres_created} cadre accounts it lacked.")
        else:
            self.stdout.write(f"The demo county {county.name} ({county.code}) exists already; "
                              f"nothing was changed.")
        if not opts["no_activity"] and not Matter.objects.filter(county=county).exists():
            started = time.monotonic()
            with request_context():
                counts = build_activity(county, seed=opts["seed"])
            self.stdout.write(f"Added six months of activity in {time.monotonic() - started:.1f}s: "
                              + ", ".join(f"{v} {k}" for k, v in sorted(counts.items())) + ".")
        self.stdout.write(f"Demo logins (password: {DEMO_PASSWORD}):")
        for username, role, place in result.logins:
            self.stdout.write(f"  {username:<18} {role} @ {place}")
