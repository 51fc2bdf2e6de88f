import datetime as dt
import json

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date

from gongzhi.core.context import request_context
from gongzhi.meetings.scheduling import HORIZON_DAYS, run


class Command(BaseCommand):
    help = (
        "议事: 'meetings schedule [--until YYYY-MM-DD]' creates the meetings of every active "
        "schedule up to that date (default: 60 days ahead), with their invitations and notices, "
        "and freezes the agendas that are due. Idempotent: a second run creates nothing."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True)
        s = sub.add_parser("schedule", help="create upcoming meetings and freeze due agendas")
        s.add_argument("--until", help=f"last date to create meetings for (default: today + "
                                       f"{HORIZON_DAYS} days)")

    def handle(self, *args, **opts):
        until = None
        if opts.get("until"):
            until = parse_date(opts["until"])
            if until is None:
                raise CommandError("--until must be a date, YYYY-MM-DD")
        else:
            until = timezone.localdate() + dt.timedelta(days=HORIZON_DAYS)
        with request_context():
            counts = run(until)
        self.stdout.write(json.dumps(counts, ensure_ascii=False, sort_keys=True))
