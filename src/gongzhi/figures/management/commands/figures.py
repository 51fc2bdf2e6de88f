import json

from django.core.management.base import BaseCommand, CommandError

from gongzhi.figures import rollups
from gongzhi.places.models import Place


class Command(BaseCommand):
    help = (
        "Figures: 'figures rebuild-rollups --county ID' recomputes the figure rollups of a "
        "county (or of every county) from its matters, ratings and return visits. Idempotent: "
        "run it after loading matters in bulk or changing the official calendar."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True)
        rebuild = sub.add_parser("rebuild-rollups", help="recompute the figure rollups")
        rebuild.add_argument("--county", type=int, help="the county's id; every county if left out")

    def handle(self, *args, **opts):
        counties = Place.objects.filter(kind="county").order_by("pk")
        if opts.get("county") is not None:
            counties = counties.filter(pk=opts["county"])
            if not counties.exists():
                raise CommandError(f"no county with id {opts['county']}")
        out = {}
        for county in counties:
            out[county.pk] = rollups.rebuild(county.pk)
        self.stdout.write(json.dumps(out, ensure_ascii=False, sort_keys=True))
