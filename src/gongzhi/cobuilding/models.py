"""三共 (共建、共治、共享): a community's needs list (需求清单), the resources list of each
stationed unit (资源清单), and co-building projects (项目清单) that match a need with resources.

Needs and projects belong to a place under a village (``PlaceScoped``); a resource belongs to
its unit (``places.Organisation``) and carries the unit's place. A project's progress is the
last of its updates; contributions (hours and funds a unit put in, on a day) are what the
figures count per unit and period (``figures.py``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gongzhi.core.access import RestrictQuerySet
from gongzhi.places.models import PlaceScoped


class NeedCategory(models.TextChoices):
    FACILITIES = "facilities", _("基础设施")
    ENVIRONMENT = "environment", _("环境卫生")
    ELDERLY = "elderly", _("养老助老")
    CHILDREN = "children", _("教育与儿童关爱")
    CULTURE = "culture", _("文化体育")
    EMPLOYMENT = "employment", _("就业创业")
    ASSISTANCE = "assistance", _("帮困救助")
    SAFETY = "safety", _("平安建设")
    HEALTH = "health", _("医疗健康")
    OTHER = "other", _("其他")


class NeedStatus(models.TextChoices):
    OPEN = "open", _("待认领")
    MATCHED = "matched", _("已对接")
    DONE = "done", _("已完成")
    CLOSED = "closed", _("已关闭")


class Need(PlaceScoped):
    title = models.CharField(_("需求"), max_length=120)
    description = models.TextField(_("说明"), blank=True)
    category = models.CharField(_("类别"), max_length=12, choices=NeedCategory.choices)
    location = models.CharField(_("地点"), max_length=120, blank=True)
    raised_by_name = models.CharField(_("提出人"), max_length=60, blank=True)
    matter = models.ForeignKey("matters.Matter", on_delete=models.SET_NULL, null=True,
                               blank=True, related_name="+")
    visit = models.ForeignKey("visits.Visit", on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="+")
    status = models.CharField(_("状态"), max_length=8, choices=NeedStatus.choices,
                              default=NeedStatus.OPEN)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    objects = RestrictQuerySet.as_manager()
    permission_area = "cobuilding"

    class Meta:
        verbose_name = _("需求")
        verbose_name_plural = _("需求清单")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["village", "status"], name="need_village_status_idx")]

    def __str__(self) -> str:
        return self.title


class ResourceKind(models.TextChoices):
    VENUE = "venue", _("场地")
    FUNDS = "funds", _("资金")
    STAFF = "staff", _("人员")
    EXPERTISE = "expertise", _("专业技术")
    EQUIPMENT = "equipment", _("设备物资")


class Resource(PlaceScoped):
    """One resource a unit offers (its place is the unit's)."""

    organisation = models.ForeignKey("places.Organisation", on_delete=models.PROTECT,
                                     related_name="cobuilding_resources")
    kind = models.CharField(_("类别"), max_length=10, choices=ResourceKind.choices)
    title = models.CharField(_("资源"), max_length=120)
    description = models.TextField(_("说明"), blank=True)
    quantity = models.DecimalField(_("数量"), max_digits=12, decimal_places=2, null=True,
                                   blank=True)
    unit = models.CharField(_("单位"), max_length=12, blank=True,
                            help_text=_("如 元、人、平方米、台"))
    availability = models.CharField(_("可用时间"), max_length=120, blank=True,
                                    help_text=_("如 每周六上午、全年"))
    is_active = models.BooleanField(_("可提供"), default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    objects = RestrictQuerySet.as_manager()
    permission_area = "cobuilding"

    class Meta:
        verbose_name = _("资源")
        verbose_name_plural = _("资源清单")
        ordering = ["organisation_id", "kind", "id"]

    def __str__(self) -> str:
        return self.title


class ProjectStatus(models.TextChoices):
    ACTIVE = "active", _("实施中")
    COMPLETED = "completed", _("已完成")
    CANCELLED = "cancelled", _("已终止")


class Project(PlaceScoped):
    """A co-building project: a need met with one or more units' resources."""

    need = models.ForeignKey(Need, on_delete=models.PROTECT, related_name="projects")
    title = models.CharField(_("项目名称"), max_length=120)
    description = models.TextField(_("实施内容"), blank=True)
    owner_name = models.CharField(_("负责人"), max_length=60)
    owner_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")
    start_on = models.DateField(_("开始日期"))
    due_on = models.DateField(_("计划完成日期"))
    status = models.CharField(_("状态"), max_length=10, choices=ProjectStatus.choices,
                              default=ProjectStatus.ACTIVE)
    progress = models.PositiveSmallIntegerField(_("进度（%）"), default=0)
    completed_on = models.DateField(_("完成日期"), null=True, blank=True)
    is_public = models.BooleanField(_("在公示栏公开"), default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    objects = RestrictQuerySet.as_manager()
    permission_area = "cobuilding"

    class Meta:
        verbose_name = _("共建项目")
        verbose_name_plural = _("项目清单")
        ordering = ["-start_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(progress__lte=100),
                                   name="project_progress_max"),
            models.CheckConstraint(condition=models.Q(start_on__lte=models.F("due_on")),
                                   name="project_dates_order"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_overdue(self) -> bool:
        return (self.status == ProjectStatus.ACTIVE
                and self.due_on < timezone.localdate())


class ProjectUnit(models.Model):
    """A unit taking part in a project with one of its resources."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="units")
    resource = models.ForeignKey(Resource, on_delete=models.PROTECT, related_name="uses")
    organisation = models.ForeignKey("places.Organisation", on_delete=models.PROTECT,
                                     related_name="+")
    commitment = models.CharField(_("承诺投入"), max_length=120, blank=True)

    class Meta:
        verbose_name = _("参与单位")
        verbose_name_plural = _("参与单位")
        constraints = [models.UniqueConstraint(fields=["project", "resource"],
                                               name="projectunit_once")]

    def __str__(self) -> str:
        return f"{self.project_id} {self.organisation_id}"


class ProjectUpdate(models.Model):
    """A progress report: the percentage reached, a note, optionally a photo."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="updates")
    percent = models.PositiveSmallIntegerField(_("进度（%）"))
    note = models.TextField(_("进展说明"))
    photo = models.FileField(upload_to="cobuilding/%Y/%m/", blank=True)
    photo_type = models.CharField(max_length=40, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                           blank=True, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("项目进展")
        verbose_name_plural = _("项目进展")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.project_id} {self.percent}%"


class Contribution(PlaceScoped):
    """What one unit put into one project on a day: hours of work and funds (yuan)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="contributions")
    organisation = models.ForeignKey("places.Organisation", on_delete=models.PROTECT,
                                     related_name="cobuilding_contributions")
    on = models.DateField(_("日期"))
    hours = models.DecimalField(_("投入工时"), max_digits=9, decimal_places=1, default=0)
    funds = models.DecimalField(_("投入资金（元）"), max_digits=12, decimal_places=2, default=0)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, blank=True, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    objects = RestrictQuerySet.as_manager()
    permission_area = "cobuilding"

    class Meta:
        verbose_name = _("单位投入")
        verbose_name_plural = _("单位投入")
        ordering = ["-on", "-id"]
        indexes = [models.Index(fields=["organisation", "on"], name="contribution_org_day_idx"),
                   models.Index(fields=["county", "on"], name="contribution_county_day_idx")]
        constraints = [
            models.CheckConstraint(condition=models.Q(hours__gte=0) & models.Q(funds__gte=0),
                                   name="contribution_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.organisation_id} {self.on}"
