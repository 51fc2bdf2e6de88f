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


def pending(task: Task) -> bool:
    """Whether a run of ``task`` is already queued or running (database backend only)."""
    try:
        from django_tasks_db.backend import DatabaseBackend
        from django_tasks_db.models import DBTaskResult
    except ImportError:  # pragma: no cover - the package is a dependency
        return False
    if not isinstance(task.get_backend(), DatabaseBackend):
        return False
    return DBTaskResult.objects.filter(
        task_path=task.module_path, status__in=["READY", "RUNNING"],
    ).exists()


def enqueue_due(last_run: dict[str, dt.datetime], now: dt.datetime) -> list[str]:
    """Enqueue the periodic tasks whose interval has passed; returns their paths."""
    enqueued = []
    for path, periodic in PERIODIC.items():
        previous = last_run.get(path)
        if previous is not None and now - previous < periodic.every:
            continue
        last_run[path] = now
        if pending(periodic.task):
            log.info("scheduler: %s is still queued or running; not enqueued again", path)
            continue
        periodic.task.enqueue()
        enqueued.append(path)
    return enqueued
