"""Background tasks of 督 (django.tasks): the periodic deadline scan.

``gongzhi scheduler`` enqueues :func:`scan_deadlines_task` every few minutes for the task
worker (``gongzhi db_worker``); ``gongzhi supervise scan`` runs the same scan at once.
"""

from django.tasks import task

from gongzhi.core.context import request_context

from .scan import run_scan


@task()
def scan_deadlines_task() -> dict[str, int]:
    """The deadline scan and every registered periodic step (evaluation expiry ...)."""
    with request_context():
        return run_scan()
