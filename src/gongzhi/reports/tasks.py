"""Background tasks of 台账与报表 (django.tasks): building an export, removing expired files."""

from django.tasks import task

from gongzhi.core.context import request_context


@task()
def build_export_task(job_id: int) -> str:
    from .jobs import run_export

    with request_context():
        return run_export(job_id)


@task()
def expire_exports_task() -> dict[str, int]:
    from .actions import do_expire_exports

    with request_context():
        return do_expire_exports()
