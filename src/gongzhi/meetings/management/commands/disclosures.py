import datetime as dt
import json

from django.core.management.base import BaseCommand, CommandError

from gongzhi.core.context import request_context
from gongzhi.meetings.disclosure import remind_disclosures


class Command(BaseCommand):
    help = (
        "三务公开: 'disclosures remind' tells each village's secretaries when the last ended "
        "period of 党务, 村务 or 财务 is due or overdue. Safe to run from cron and more than "
        "once: a notice already given is not given again."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True)
        remind = sub.add_parser("remind", help="send the due and overdue reminders now")
        remind.add_argument("--date", help="check as of this day (YYYY-MM-DD); today otherwise")

    def handle(self, *args, **opts):
        day = None
        if opts.get("date"):
            try:
                day = dt.date.fromisoformat(opts["date"])
            except ValueError as exc:
                raise CommandError("--date must be YYYY-MM-DD") from exc
        with request_context():
            counts = remind_disclosures(day)
        self.stdout.write(json.dumps(counts, ensure_ascii=False, sort_keys=True))
