"""The scheduler enqueues a periodic task once per interval, never on top of a queued or running
run, and not forever held back by a run whose worker was killed."""

import datetime as dt

import pytest
from django.tasks import task
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from gongzhi.core import scheduling

DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@task()
def tick() -> int:
    return 1


@pytest.fixture
def periodic(settings):
    settings.TASKS = DB_TASKS
    saved = dict(scheduling.PERIODIC)
    scheduling.PERIODIC.clear()
    scheduling.register_periodic(tick, minutes=5)
    yield tick
    scheduling.PERIODIC.clear()
    scheduling.PERIODIC.update(saved)


def runs():
    return DBTaskResult.objects.filter(task_path=tick.module_path)


@pytest.mark.django_db
def test_enqueues_once_per_interval_and_not_on_top_of_a_queued_run(periodic):
    now = timezone.now()
    last: dict = {}
    assert scheduling.enqueue_due(last, now) == [tick.module_path]
    assert runs().count() == 1
    assert scheduling.enqueue_due(last, now + dt.timedelta(minutes=1)) == []  # not due yet
    assert scheduling.enqueue_due(last, now + dt.timedelta(minutes=6)) == []  # still queued
    assert runs().count() == 1
    runs().update(status="SUCCESSFUL", finished_at=now)
    assert scheduling.enqueue_due(last, now + dt.timedelta(minutes=12)) == [tick.module_path]
    assert runs().count() == 2


@pytest.mark.django_db
def test_a_run_left_running_by_a_killed_worker_stops_holding_the_next_back(periodic):
    now = timezone.now()
    scheduling.enqueue_due({}, now)
    runs().update(status="RUNNING", started_at=now - dt.timedelta(minutes=10))
    assert scheduling.pending(tick, now=now)  # running recently: wait for it
    assert scheduling.enqueue_due({}, now) == []
    later = now + dt.timedelta(hours=1)
    assert not scheduling.pending(tick, now=later)  # started 70 minutes ago, never finished
    assert scheduling.enqueue_due({}, later) == [tick.module_path]
    assert runs().filter(status="READY").count() == 1
