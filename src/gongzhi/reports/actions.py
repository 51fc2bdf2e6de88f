"""Every write of 台账与报表: asking for an export, the job finishing or failing, and the
periodic removal of expired files. Atomic and audited; the build is enqueued after commit."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.audit.log import record
from gongzhi.core.errors import ActionError, ActionForbidden
from gongzhi.places.models import Place

from . import storage
from .context import Built
from .kinds import KINDS, PLACE_KINDS, may_request
from .models import ACTIVE, ExportJob, JobStatus
from .periods import Period

MAX_ACTIVE_PER_USER = 5
KEEP_DAYS = 7
STUCK_AFTER = dt.timedelta(hours=6)


def keep_for() -> dt.timedelta:
    return dt.timedelta(days=getattr(settings, "REPORTS_KEEP_DAYS", KEEP_DAYS))


@transaction.atomic
def do_request_export(kind_key: str, place: Place, period: Period, *, acting_user,
                      params: dict[str, Any] | None = None) -> ExportJob:
    """Ask for a ledger or report of ``place`` over ``period``; it is built in the background
    (enqueued once the request is committed)."""
    kind = KINDS.get(kind_key)
    if kind is None:
        raise ActionError(_("请选择要导出的台账或报表。"))
    if place.kind not in PLACE_KINDS:
        raise ActionError(_("请选择县（区）、镇（街道）、村（社区）或网格。"))
    if period.kind not in kind.periods:
        raise ActionError(_("%(kind)s不能按所选周期生成。") % {"kind": kind.label})
    if not may_request(acting_user, kind, place):
        raise ActionForbidden(_("您无权导出%(place)s的%(kind)s。") % {
            "place": place.name, "kind": kind.label})
    if period.start > timezone.localdate():
        raise ActionError(_("统计周期尚未开始。"))
    active = ExportJob.objects.filter(requested_by=acting_user, status__in=ACTIVE).count()
    if active >= MAX_ACTIVE_PER_USER:
        raise ActionError(_("您已有 %(n)d 个导出任务正在生成，请等它们完成后再申请。") % {
            "n": active})
    clean = {k: v for k, v in (params or {}).items() if k in ("min_volume",)}
    job = ExportJob(kind=kind.key, requested_by=acting_user,
                    params={**period.as_params(), **clean},
                    title=_("%(place)s %(period)s %(kind)s") % {
                        "place": place.name, "period": period.label, "kind": kind.label},
                    message=_("已排队，等待生成。"))
    job.set_place(place)
    job.save()

    def enqueue() -> None:
        from .tasks import build_export_task

        build_export_task.enqueue(job.pk)

    transaction.on_commit(enqueue)
    record("reports.export.request", actor=acting_user, obj=job,
           after={"kind": kind.key, "place": place.pk, "params": job.params})
    return job


def set_progress(job_id: int, progress: int, message: str) -> None:
    """Progress of a running job (0–100), written at once so the page polling it sees it."""
    ExportJob.objects.filter(pk=job_id, status=JobStatus.RUNNING).update(
        progress=max(0, min(99, int(progress))), message=message[:200])


def claim(job_id: int) -> bool:
    """Mark a queued job running; False if another worker took it or it is not queued."""
    return bool(ExportJob.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING, started_at=timezone.now(), progress=1,
        message=_("正在生成。")))


@transaction.atomic
def do_finish_export(job: ExportJob, built: Built, file_name: str) -> ExportJob:
    now = timezone.now()
    job.status, job.progress, job.message = JobStatus.DONE, 100, _("已完成，可以下载。")
    job.file_name, job.size, job.content_type = file_name, len(built.data), built.content_type
    job.download_name = f"{job.title}.{built.extension}".replace("/", "-").replace(" ", "_")
    job.finished_at, job.expires_at = now, now + keep_for()
    job.save(update_fields=["status", "progress", "message", "file_name", "size",
                            "content_type", "download_name", "finished_at", "expires_at"])
    record("reports.export.done", actor=job.requested_by, obj=job,
           after={"rows": built.rows, "size": job.size, **built.facts})
    return job


@transaction.atomic
def do_fail_export(job: ExportJob, message: str) -> ExportJob:
    job.status, job.error = JobStatus.FAILED, message[:2000]
    job.message, job.finished_at = _("生成失败。"), timezone.now()
    job.save(update_fields=["status", "error", "message", "finished_at"])
    record("reports.export.fail", actor=job.requested_by, obj=job, after={"error": job.error})
    return job


def do_expire_exports(now: dt.datetime | None = None) -> dict[str, int]:
    """Remove the files of finished jobs past ``expires_at``, and fail jobs stuck queued or
    running for hours. Idempotent: a second run finds nothing to do."""
    now = now or timezone.now()
    expired = 0
    for job_id in list(ExportJob.objects.filter(status=JobStatus.DONE, expires_at__lte=now)
                       .values_list("pk", flat=True)):
        with transaction.atomic():
            job = (ExportJob.objects.select_for_update()
                   .filter(pk=job_id, status=JobStatus.DONE).first())
            if job is None:
                continue
            name = job.file_name
            job.status, job.file_name, job.message = JobStatus.EXPIRED, "", _("文件已过期删除。")
            job.save(update_fields=["status", "file_name", "message"])
            record("reports.export.expire", obj=job, after={"file": name})
            transaction.on_commit(lambda name=name: storage.delete(name))
            expired += 1
    stuck = 0
    for job in ExportJob.objects.filter(status__in=ACTIVE, created_at__lt=now - STUCK_AFTER):
        do_fail_export(job, _("生成超时，请重新申请。"))
        stuck += 1
    return {"expired": expired, "stuck": stuck}
