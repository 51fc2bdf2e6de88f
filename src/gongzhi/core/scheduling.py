"""Periodic tasks and the little scheduler that enqueues them.

The database task worker (``gongzhi db_worker``) runs what is queued but has no clock of its
own. ``gongzhi scheduler`` is that clock: every ``--every`` minutes it enqueues each periodic
task registered here, unless a run of it is still waiting or running, so several schedulers
(or a scheduler and a cron job) never pile runs up; the tasks themselves are idempotent, so a
run too many is harmless anyway. Apps register from their ``AppConfig.ready``.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.tasks import Task

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Periodic:
    task: Task
    every: dt.timedelta


PERIODIC: dict[str, Periodic] = {}


def register_periodic(task: Task, *, minutes: float) -> None:
    PERIODIC[task.module_path] = Periodic(task, dt.timedelta(minutes=minutes))


# A run still marked RUNNING this long after it started is taken for one whose worker was
# killed (the row is never finished): it no longer holds the next run back.
STALE_RUN = dt.timedelta(minutes=30)


def pending(task: Task, *, stale_after: dt.timedelta = STALE_RUN,
            now: dt.datetime | None = None) -> bool:
    """Whether a run of ``task`` is already queued or running (database backend only). A run
    that started more than ``stale_after`` ago and never finished does not count."""
    try:
        from django_tasks_db.backend import DatabaseBackend
        from django_tasks_db.models import DBTaskResult
    except ImportError:  # pragma: no cover - the package is a dependency
        return False
    if not isinstance(task.get_backend(), DatabaseBackend):
        return False
    from django.db.models import Q
    from django.utils import timezone

    since = (now or timezone.now()) - stale_after
    return DBTaskResult.objects.filter(
        Q(status="READY") | Q(status="RUNNING", started_at__gte=since),
        task_path=task.module_path,
    ).exists()


def enqueue_due(last_run: dict[str, dt.datetime], now: dt.datetime) -> list[str]:
    """Enqueue the periodic tasks whose interval has passed; returns their paths."""
    enqueued = []
    for path, periodic in PERIODIC.items():
        previous = last_run.get(path)
        if previous is not None and now - previous < periodic.every:
            continue
        last_run[path] = now
        if pending(periodic.task, stale_after=max(STALE_RUN, 3 * periodic.every), now=now):
            log.info("scheduler: %s is still queued or running; not enqueued again", path)
            continue
        periodic.task.enqueue()
        enqueued.append(path)
    return enqueued
