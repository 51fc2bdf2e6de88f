import json
import sys

from django.core.management.base import BaseCommand, CommandError

from gongzhi.core.context import request_context
from gongzhi.places.models import Place


class Command(BaseCommand):
    help = (
        "积分: 'points reconcile [--county ID]' proves the ledger's invariants (every entry "
        "balanced, no negative balance at any time, copies consistent, closed months untouched, "
        "stock never below zero, redemptions consistent) and exits 1 listing any breach; "
        "'points presets' lists the rule presets; 'points adopt PLACE_ID PRESET' gives a "
        "county, town or village a preset's rules; 'points finalise' makes rankings final "
        "whose notice period is over."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True)
        rec = sub.add_parser("reconcile", help="check the ledger; exit 1 on any breach")
        rec.add_argument("--county", type=int, help="only this county (place id)")
        rec.add_argument("--json", action="store_true", help="print the result as JSON")
        sub.add_parser("presets", help="list the rule presets")
        adopt = sub.add_parser("adopt", help="give a place a preset's rules")
        adopt.add_argument("place", type=int)
        adopt.add_argument("preset")
        sub.add_parser("finalise", help="finalise rankings whose notice period is over")

    def handle(self, *args, **opts):
        with request_context():
            return getattr(self, f"_{opts['subcommand']}")(opts)

    def _reconcile(self, opts):
        from gongzhi.points.ledger import reconcile
        from gongzhi.points.models import Posting, Transaction

        county = None
        if opts.get("county"):
            county = Place.objects.filter(pk=opts["county"], kind="county").first()
            if county is None:
                raise CommandError(f"no county with id {opts['county']}")
        breaches = reconcile(county)
        scope = {"county": county} if county else {}
        counts = {"transactions": Transaction.objects.filter(**scope).count(),
                  "postings": Posting.objects.filter(**scope).count(),
                  "breaches": len(breaches)}
        if opts.get("json"):
            self.stdout.write(json.dumps({
                **counts, "details": [{"code": b.code, "message": b.message, "ids": b.ids}
                                      for b in breaches]}, ensure_ascii=False))
        else:
            for b in breaches:
                self.stdout.write(f"BREACH {b}")
            self.stdout.write(f"checked {counts['transactions']} transactions, "
                              f"{counts['postings']} postings: "
                              + ("no breach" if not breaches else f"{len(breaches)} breach(es)"))
        if breaches:
            sys.exit(1)

    def _presets(self, opts):
        from gongzhi.points.rules import PRESETS, load_preset

        for key in PRESETS:
            data = load_preset(key)
            self.stdout.write(f"{key}\t{data['name']}\t{len(data['items'])} items")

    def _adopt(self, opts):
        from gongzhi.points.actions import do_adopt_rules

        place = Place.objects.filter(pk=opts["place"]).first()
        if place is None:
            raise CommandError(f"no place with id {opts['place']}")
        book = do_adopt_rules(place, opts["preset"], acting_user=None)
        self.stdout.write(f"{place.name}: {book.name} v{book.current().number}")

    def _finalise(self, opts):
        from gongzhi.points.actions import finalise_due_rankings

        self.stdout.write(json.dumps(finalise_due_rankings(), ensure_ascii=False))
