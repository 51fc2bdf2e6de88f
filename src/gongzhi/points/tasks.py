"""Background task of 积分: published rankings whose notice period is over (and whose
objections are all answered) become final. ``gongzhi scheduler`` enqueues it hourly
(registered in ``apps.py``); ``gongzhi points finalise`` runs it by hand."""

from django.tasks import task

from gongzhi.core.context import request_context

from .actions import finalise_due_rankings


@task()
def finalise_rankings_task() -> dict[str, int]:
    with request_context():
        return finalise_due_rankings()
