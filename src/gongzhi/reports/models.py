"""Export jobs (导出任务): one row per ledger or report asked for, built in the background.

The file a job builds is kept outside the public media URL (:mod:`.storage`) and handed out
only by the download view and API, to the user who asked for it while they still hold the
permission at the place. Files expire (``expires_at``) and a periodic job removes them.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gongzhi.core.access import RestrictQuerySet
from gongzhi.places.models import PlaceScoped


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("生成中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")
    EXPIRED = "expired", _("已过期")


ACTIVE = (JobStatus.QUEUED, JobStatus.RUNNING)


class ExportJob(PlaceScoped):
    """A ledger or report for one place and period, asked for by one user."""

    kind = models.CharField(_("报表"), max_length=32)
    title = models.CharField(_("标题"), max_length=200)
    params = models.JSONField(_("参数"), default=dict)
    status = models.CharField(_("状态"), max_length=8, choices=JobStatus.choices,
                              default=JobStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(_("进度"), default=0)
    message = models.CharField(_("进度说明"), max_length=200, blank=True)
    file_name = models.CharField(_("文件"), max_length=200, blank=True,
                                 help_text=_("导出目录中的相对路径"))
    download_name = models.CharField(_("下载文件名"), max_length=200, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    size = models.PositiveIntegerField(default=0)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                     related_name="export_jobs", verbose_name=_("申请人"))
    created_at = models.DateTimeField(_("申请时间"), default=timezone.now)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    expires_at = models.DateTimeField(_("文件保留至"), null=True, blank=True)
    error = models.TextField(_("失败原因"), blank=True)

    objects = RestrictQuerySet.as_manager()
    permission_area = "reports"

    class Meta:
        verbose_name = _("导出任务")
        verbose_name_plural = _("导出任务")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["requested_by", "created_at"], name="exportjob_user_idx"),
            models.Index(fields=["status", "expires_at"], name="exportjob_expiry_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE

    @property
    def is_ready(self) -> bool:
        return self.status == JobStatus.DONE and bool(self.file_name)
