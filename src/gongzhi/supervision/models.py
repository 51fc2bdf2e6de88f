"""督: deadline tracking, supervision items at the levels of a locality's chain, what
supervisors record (site checks, surveys, meetings, admonition talks), and bulletins (通报).

A matter's *stage visit* is the pair (stage, ``stage_entered_at``): re-entering a stage after a
reopening is a new visit with a new deadline. :class:`DeadlineWatch` is the scan's one row per
visit and deadline that came near or past (an escalation or an extension gives the same visit a
new deadline, which is watched afresh); its timestamps say what the scan has already done, so a
second run does nothing again. :class:`SupervisionItem` rows opened by the scan are unique
per (matter, stage visit, level), which keeps several scanning processes from opening one twice.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gongzhi.core.access import RestrictQuerySet, grants_with, scope_q, token_allows
from gongzhi.places.models import PlaceScoped


class DeadlineWatch(models.Model):
    """One deadline of a stage visit that came within the warning window or passed."""

    county = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="+")
    matter = models.ForeignKey("matters.Matter", on_delete=models.CASCADE,
                               related_name="deadline_watches")
    stage = models.CharField(_("环节"), max_length=40)
    stage_name = models.CharField(_("环节名称"), max_length=80)
    stage_entered_at = models.DateTimeField(_("进入环节时间"))
    deadline = models.DateTimeField(_("时限"))
    warned_at = models.DateTimeField(_("临期提醒时间"), null=True, blank=True)
    overdue_at = models.DateTimeField(_("发现超期时间"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("超期提级时间"), null=True, blank=True)
    escalation_note = models.CharField(_("提级说明"), max_length=200, blank=True)
    left_at = models.DateTimeField(_("结束时间"), null=True, blank=True,
                                   help_text=_("离开环节，或时限被新的时限取代"))
    # The unit answerable for the delay, as it was when the scan last saw the visit.
    responsible_org = models.ForeignKey("places.Organisation", on_delete=models.SET_NULL,
                                        null=True, blank=True, related_name="+")
    queue_place = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("时限跟踪")
        verbose_name_plural = _("时限跟踪")
        constraints = [
            models.UniqueConstraint(fields=["matter", "stage", "stage_entered_at", "deadline"],
                                    name="deadlinewatch_visit_unique"),
        ]
        indexes = [models.Index(fields=["county", "deadline"], name="deadlinewatch_due_idx")]

    def __str__(self) -> str:
        return f"{self.matter_id} {self.stage} {self.deadline:%Y-%m-%d %H:%M}"

    def left(self, matter=None) -> timezone.datetime | None:
        """When this deadline stopped running: the matter left the stage visit, or the visit got
        a new deadline (None while it still runs)."""
        if self.left_at:
            return self.left_at
        matter = matter or self.matter
        if matter.stage_entered_at != self.stage_entered_at or matter.stage != self.stage:
            return matter.stage_entered_at
        if matter.is_closed or matter.merged_into_id:
            return matter.closed_at or matter.updated_at
        if matter.stage_deadline != self.deadline:
            return matter.updated_at
        return None


class Reason(models.TextChoices):
    NEAR_DEADLINE = "near_deadline", _("临期督办")
    OVERDUE = "overdue", _("超期督办")
    MANUAL = "manual", _("专项督办")
    STAGE = "stage", _("督查环节")


class ItemStatus(models.TextChoices):
    OPEN = "open", _("督办中")
    CLOSED = "closed", _("已结束")


def _not_accused(user, prefix: str) -> models.Q:
    q = ~models.Q(**{f"{prefix}ledger": "complaint", f"{prefix}accused_user_id": user.pk})
    org_id = getattr(user, "organisation_id", None)
    if org_id:
        q &= ~models.Q(**{f"{prefix}ledger": "complaint",
                          f"{prefix}accused_organisation_id": org_id})
    return q


class SupervisionQuerySet(RestrictQuerySet):
    def restrict(self, user, action: str = "view") -> SupervisionQuerySet:
        """``supervise``: items under the places where the user holds ``matters.supervise``.

        ``view``: those, and the items of matters the user's unit is answerable for: a
        department's staff see the supervision of their own organisation's matters only; other
        staff see it on the matters they may handle. Nobody sees the supervision of a complaint
        made about them or their organisation.
        """
        if action != "view":
            qs = super().restrict(user, action)
        else:
            if user is None or not getattr(user, "is_authenticated", False):
                return self.none()
            if not token_allows(user, "matters.view"):
                return self.none()
            if user.is_superuser:
                return self
            q = scope_q(user, "matters.supervise", "matter__")
            org_id = getattr(user, "organisation_id", None)
            extra = (models.Q(matter__responsible_org_id=org_id) if org_id
                     else scope_q(user, "matters.handle", "matter__"))
            if q is None and extra is None:
                return self.none()
            combined = q if extra is None else (extra if q is None else q | extra)
            qs = self.filter(combined)
        if user is not None and getattr(user, "is_authenticated", False) and not user.is_superuser:
            qs = qs.filter(_not_accused(user, "matter__"))
        return qs


class SupervisionItem(models.Model):
    """督办: one matter under supervision at one level of the locality's chain."""

    county = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="+")
    matter = models.ForeignKey("matters.Matter", on_delete=models.CASCADE,
                               related_name="supervision_items")
    stage = models.CharField(_("环节"), max_length=40)
    stage_name = models.CharField(_("环节名称"), max_length=80)
    stage_entered_at = models.DateTimeField(_("进入环节时间"))
    deadline = models.DateTimeField(_("环节时限"), null=True, blank=True)
    level = models.PositiveSmallIntegerField(_("督办层级"), default=0)
    level_role = models.CharField(_("督办责任角色"), max_length=32, blank=True)
    level_name = models.CharField(_("督办层级名称"), max_length=40, blank=True,
                                  help_text=_("如 县联系办、县委常委、县委书记"))
    reason = models.CharField(_("督办原因"), max_length=16, choices=Reason.choices)
    automatic = models.BooleanField(_("系统发起"), default=False)
    status = models.CharField(_("状态"), max_length=8, choices=ItemStatus.choices,
                              default=ItemStatus.OPEN)
    note = models.TextField(_("督办要求"), blank=True)
    opened_at = models.DateTimeField(_("督办时间"), default=timezone.now)
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                  null=True, blank=True, related_name="+")
    closed_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                  null=True, blank=True, related_name="+")
    close_note = models.TextField(_("结束说明"), blank=True)

    objects = SupervisionQuerySet.as_manager()
    permission_area = "matters"
    scope_prefix = "matter__"

    class Meta:
        verbose_name = _("督办事项")
        verbose_name_plural = _("督办事项")
        ordering = ["-opened_at", "-id"]
        constraints = [
            # The scan opens each level of a stage visit once, however many processes run it.
            models.UniqueConstraint(fields=["matter", "stage", "stage_entered_at", "level"],
                                    condition=models.Q(automatic=True),
                                    name="supervision_auto_level_unique"),
            # One open item opened by hand per matter.
            models.UniqueConstraint(fields=["matter"],
                                    condition=models.Q(automatic=False, status="open"),
                                    name="supervision_manual_open_unique"),
        ]
        indexes = [
            models.Index(fields=["county", "status", "level"], name="supervision_open_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.matter_id} L{self.level} {self.get_status_display()}"

    @property
    def is_open(self) -> bool:
        return self.status == ItemStatus.OPEN

    @property
    def level_label(self) -> str:
        from django.utils.translation import gettext

        return gettext("第%(n)d级（%(name)s）") % {"n": self.level + 1,
                                                  "name": self.level_name or self.level_role}


class RecordKind(models.TextChoices):
    SITE_CHECK = "site_check", _("现场督查")
    SURVEY = "survey", _("问卷回访")
    MEETING = "meeting", _("督办会")
    TALK = "talk", _("约谈")
    OTHER = "other", _("其他")


class SupervisionRecord(models.Model):
    """What a supervisor did about an item: a site check, a survey, a meeting, a 约谈 ..."""

    county = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="+")
    item = models.ForeignKey(SupervisionItem, on_delete=models.CASCADE, related_name="records")
    matter = models.ForeignKey("matters.Matter", on_delete=models.CASCADE,
                               related_name="supervision_records")
    kind = models.CharField(_("方式"), max_length=12, choices=RecordKind.choices)
    notes = models.TextField(_("情况记录"))
    at = models.DateTimeField(_("时间"), default=timezone.now)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                           blank=True, related_name="+")
    # 约谈: the person talked to, a user of the platform or a name and position.
    talked_to_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                       null=True, blank=True, related_name="+",
                                       verbose_name=_("约谈对象"))
    talked_to_name = models.CharField(_("约谈对象姓名"), max_length=60, blank=True)
    talked_to_position = models.CharField(_("约谈对象职务"), max_length=80, blank=True)
    event = models.ForeignKey("matters.MatterEvent", on_delete=models.SET_NULL, null=True,
                              blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("督办记录")
        verbose_name_plural = _("督办记录")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.item_id} {self.get_kind_display()}"

    @property
    def talked_to(self) -> str:
        if self.talked_to_user_id:
            user = self.talked_to_user
            return str(user.display_name or user.get_username())
        return " ".join(p for p in (self.talked_to_name, self.talked_to_position) if p)


class PeriodKind(models.TextChoices):
    WEEK = "week", _("周")
    MONTH = "month", _("月")
    QUARTER = "quarter", _("季度")


class BulletinQuerySet(RestrictQuerySet):
    def restrict(self, user, action: str = "view") -> BulletinQuerySet:
        """``supervise``: bulletins of places where the user holds ``matters.supervise``;
        ``view``: those, and the published bulletins of every county where the user may see
        matters (a published 通报 is circulated county-wide)."""
        if action != "view":
            return super().restrict(user, action)
        supervised = super().restrict(user, "supervise")
        if user is not None and getattr(user, "is_superuser", False):
            return supervised
        counties = {g.county_id for g in grants_with(user, "matters.view")}
        return supervised | self.filter(published=True, county_id__in=counties)


class Bulletin(PlaceScoped):
    """通报: overdue matters by unit over one period, for a county or a town."""

    period_kind = models.CharField(_("周期"), max_length=8, choices=PeriodKind.choices)
    period_start = models.DateField(_("起始日期"))
    period_end = models.DateField(_("截止日期"), help_text=_("含当日"))
    title = models.CharField(_("标题"), max_length=120)
    generated_at = models.DateTimeField(_("生成时间"), default=timezone.now)
    generated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                     null=True, blank=True, related_name="+")
    data = models.JSONField(_("通报数据"), default=dict)
    published = models.BooleanField(_("已发布"), default=False)
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                     null=True, blank=True, related_name="+")

    objects = BulletinQuerySet.as_manager()
    permission_area = "matters"

    class Meta:
        verbose_name = _("督办通报")
        verbose_name_plural = _("督办通报")
        ordering = ["-period_start", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["place", "period_kind", "period_start"],
                                    name="bulletin_period_unique"),
        ]

    def __str__(self) -> str:
        return self.title
