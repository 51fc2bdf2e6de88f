import datetime as dt
import signal
import threading

from django.core.management.base import BaseCommand
from django.utils import timezone

from gongzhi.core.scheduling import PERIODIC, enqueue_due


class Command(BaseCommand):
    help = (
        "Enqueue the periodic tasks (the deadline scan, evaluation expiry ...) for the task "
        "worker: 'scheduler' runs until stopped, waking every --tick seconds; 'scheduler --once' "
        "enqueues every periodic task now (for cron or a systemd timer)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true",
                            help="enqueue each periodic task once and exit")
        parser.add_argument("--tick", type=float, default=30.0,
                            help="seconds between checks (default 30)")

    def handle(self, *args, **opts):
        last_run: dict[str, dt.datetime] = {}
        if opts["once"]:
            for path in enqueue_due(last_run, timezone.now()):
                self.stdout.write(f"enqueued {path}")
            return
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        for path, periodic in PERIODIC.items():
            minutes = periodic.every.total_seconds() / 60
            self.stdout.write(f"scheduler: {path} every {minutes:g} min")
        while not stop.is_set():
            for path in enqueue_due(last_run, timezone.now()):
                self.stdout.write(f"{timezone.now():%Y-%m-%d %H:%M:%S} enqueued {path}")
            stop.wait(opts["tick"])
