"""Background task of 评: unanswered evaluations past their deadline become ``no_answer``.

It also runs as a step of the deadline scan (``gongzhi supervise scan`` and the scheduler)."""

from django.tasks import task

from gongzhi.core.context import request_context

from .actions import expire_evaluations


@task()
def expire_evaluations_task() -> dict[str, int]:
    with request_context():
        return expire_evaluations()
