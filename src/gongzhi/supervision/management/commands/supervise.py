import json

from django.core.management.base import BaseCommand

from gongzhi.core.context import request_context
from gongzhi.supervision.scan import run_scan


class Command(BaseCommand):
    help = (
        "督: 'supervise scan' runs the deadline scan now (warnings, overdue notices, supervision "
        "items, escalations) and the registered periodic steps (evaluation expiry). Safe to run "
        "from cron and from several machines at once: a second run changes nothing."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True)
        sub.add_parser("scan", help="run the deadline scan once and print what it did")

    def handle(self, *args, **opts):
        with request_context():
            counts = run_scan()
        self.stdout.write(json.dumps(counts, ensure_ascii=False, sort_keys=True))
