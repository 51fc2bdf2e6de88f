"""Running an export job: claim it, build the file with progress, store it privately."""

from __future__ import annotations

import logging
import secrets

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from . import storage
from .actions import claim, do_fail_export, do_finish_export, set_progress
from .context import Context
from .kinds import KINDS, may_request
from .models import ExportJob
from .periods import period_of

log = logging.getLogger(__name__)


def run_export(job_id: int) -> str:
    """Build the file of job ``job_id``; returns the job's status. Safe to run twice: only
    the run that claims the queued job builds it."""
    if not claim(job_id):
        return "skipped"
    job = ExportJob.objects.select_related("requested_by", "place").get(pk=job_id)
    with translation.override(settings.LANGUAGE_CODE):
        kind = KINDS.get(job.kind)
        if kind is None or not may_request(job.requested_by, kind, job.place):
            do_fail_export(job, _("您已无权导出这份台账或报表。"))
            return job.status
        ctx = Context(user=job.requested_by, place=job.place, period=period_of(job.params),
                      params=job.params, now=timezone.now(),
                      progress=lambda pct, msg: set_progress(job_id, pct, msg))
        try:
            built = kind.build(ctx)
            set_progress(job_id, 95, _("正在保存文件。"))
            name = storage.save(
                f"{job.county_id}/{job.pk}-{secrets.token_hex(8)}.{built.extension}", built.data)
        except Exception:  # a task boundary: record the failure on the job, keep the trace
            log.exception("reports: export job %s failed", job_id)
            do_fail_export(job, _("生成失败，请稍后重试；如仍失败，请联系管理员。"))
            return job.status
        do_finish_export(job, built, name)
    return job.status
