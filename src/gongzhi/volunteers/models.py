"""志愿服务: teams and their members, the service menu (菜单式服务), activities with sign-up and
on-site check-in/out, and services residents order from the menu.

Teams, menu items, activities and orders are ``PlaceScoped`` (a team and its menu usually
belong to a village; an order to the household that placed it), so "under town T" is one filter
on an ancestor column. Hours never become points here: when an organiser confirms an activity's
hours, each sign-up posts through the points app's rule book and ledger (see ``points.py``).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gongzhi.core.access import RestrictQuerySet
from gongzhi.places.models import PlaceScoped


class TeamKind(models.TextChoices):
    POLICY = "policy", _("政策宣讲")
    OPINION = "opinion", _("民意收集")
    MEDIATION = "mediation", _("矛盾调解")
    DEVELOPMENT = "development", _("产业发展")
    PATROL = "patrol", _("治安巡逻")
    ELDERLY = "elderly", _("关爱老人")
    ENVIRONMENT = "environment", _("环境整治")
    CONVENIENCE = "convenience", _("便民服务")
    OTHER = "other", _("其他")


class Team(PlaceScoped):
    """一支志愿服务队 at a place (usually a village), with a leader and members."""

    name = models.CharField(_("队伍名称"), max_length=80)
    kind = models.CharField(_("类型"), max_length=16, choices=TeamKind.choices)
    description = models.TextField(_("简介"), blank=True, max_length=1000)
    is_active = models.BooleanField(_("在册"), default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    objects = RestrictQuerySet.as_manager()
    permission_area = "volunteers"

    class Meta:
        verbose_name = _("志愿服务队")
        verbose_name_plural = _("志愿服务队")
        ordering = ["place_id", "name", "id"]

    def __str__(self) -> str:
        return self.name

    def leader(self) -> TeamMember | None:
        return next((m for m in self.members.all() if m.is_leader and m.left_at is None), None)


class MemberKind(models.TextChoices):
    RESIDENT = "resident", _("群众")
    PARTY_MEMBER = "party_member", _("党员")
    UNIT_STAFF = "unit_staff", _("驻区单位职工")
    GRID_WORKER = "grid_worker", _("网格员")
    BUILDING_HEAD = "building_head", _("楼长")


class TeamMember(models.Model):
    """Membership of a team: a resident (``person``), a login (``user``), or staff of a
    stationed unit (``organisation``). ``left_at`` set means no longer a member; rejoining
    opens a new row, so the history stays."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="members")
    kind = models.CharField(_("身份"), max_length=16, choices=MemberKind.choices)
    name = models.CharField(_("姓名"), max_length=60)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                             blank=True, related_name="volunteer_memberships")
    person = models.ForeignKey("places.Person", on_delete=models.SET_NULL, null=True,
                               blank=True, related_name="volunteer_memberships")
    organisation = models.ForeignKey("places.Organisation", on_delete=models.SET_NULL,
                                     null=True, blank=True, related_name="volunteer_members",
                                     verbose_name=_("所在单位"))
    is_leader = models.BooleanField(_("队长"), default=False)
    joined_at = models.DateTimeField(default=timezone.now)
    left_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("队员")
        verbose_name_plural = _("队员")
        ordering = ["-is_leader", "joined_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="volunteer_member_user_once",
                                    condition=models.Q(left_at__isnull=True,
                                                       user__isnull=False)),
            models.UniqueConstraint(fields=["team", "person"],
                                    name="volunteer_member_person_once",
                                    condition=models.Q(left_at__isnull=True,
                                                       person__isnull=False)),
        ]

    def __str__(self) -> str:
        return self.name


class ServiceItem(PlaceScoped):
    """An item of a place's service menu (菜单式服务): what a team offers and how long it
    usually takes."""

    name = models.CharField(_("服务名称"), max_length=80)
    description = models.TextField(_("服务内容"), blank=True, max_length=1000)
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="menu_items",
                             verbose_name=_("提供队伍"))
    typical_minutes = models.PositiveIntegerField(_("通常时长（分钟）"), default=60)
    is_active = models.BooleanField(_("在菜单上"), default=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = RestrictQuerySet.as_manager()
    permission_area = "volunteers"

    class Meta:
        verbose_name = _("服务菜单项")
        verbose_name_plural = _("服务菜单项")
        ordering = ["place_id", "name", "id"]

    def __str__(self) -> str:
        return self.name


class ActivityStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PUBLISHED = "published", _("报名中")
    ONGOING = "ongoing", _("进行中")
    FINISHED = "finished", _("已结束")
    CANCELLED = "cancelled", _("已取消")


class Activity(PlaceScoped):
    """A volunteer activity: where and when, how many may sign up, and the on-site code."""

    title = models.CharField(_("活动名称"), max_length=120)
    description = models.TextField(_("活动内容"), blank=True, max_length=2000)
    team = models.ForeignKey(Team, on_delete=models.PROTECT, null=True, blank=True,
                             related_name="activities", verbose_name=_("组织队伍"))
    service_item = models.ForeignKey(ServiceItem, on_delete=models.PROTECT, null=True,
                                     blank=True, related_name="activities",
                                     verbose_name=_("所属服务"))
    address = models.CharField(_("集合地点"), max_length=200)
    starts_at = models.DateTimeField(_("开始时间"))
    ends_at = models.DateTimeField(_("结束时间"))
    slots = models.PositiveIntegerField(_("名额"))
    status = models.CharField(_("状态"), max_length=10, choices=ActivityStatus.choices,
                              default=ActivityStatus.DRAFT)
    code = models.CharField(_("签到码"), max_length=8, blank=True)
    window_before = models.PositiveIntegerField(_("提前签到（分钟）"), default=30)
    window_after = models.PositiveIntegerField(_("结束后可签退（分钟）"), default=60)
    organiser = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                  related_name="organised_activities",
                                  verbose_name=_("组织者"))
    cancel_reason = models.CharField(_("取消原因"), max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    published_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    hours_confirmed_at = models.DateTimeField(null=True, blank=True)
    hours_confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                           null=True, blank=True, related_name="+")

    objects = RestrictQuerySet.as_manager()
    permission_area = "volunteers"

    class Meta:
        verbose_name = _("志愿活动")
        verbose_name_plural = _("志愿活动")
        ordering = ["-starts_at", "-id"]
        indexes = [
            models.Index(fields=["county", "status", "starts_at"], name="vol_activity_status"),
            models.Index(fields=["village", "starts_at"], name="vol_activity_village"),
            models.Index(fields=["town", "starts_at"], name="vol_activity_town"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(ends_at__gt=models.F("starts_at")),
                                   name="vol_activity_ends_after_start"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def duration_minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)

    def check_in_window(self) -> tuple[dt.datetime, dt.datetime]:
        """When a participant may check in: from ``window_before`` minutes before the start
        until the end."""
        return self.starts_at - dt.timedelta(minutes=self.window_before), self.ends_at

    def check_out_window(self) -> tuple[dt.datetime, dt.datetime]:
        """When a participant may check out: from the start until ``window_after`` minutes
        after the end."""
        return self.starts_at, self.ends_at + dt.timedelta(minutes=self.window_after)

    @property
    def is_open_for_signup(self) -> bool:
        return self.status in (ActivityStatus.PUBLISHED, ActivityStatus.ONGOING)


class SignupStatus(models.TextChoices):
    SIGNED_UP = "signed_up", _("已报名")
    CANCELLED = "cancelled", _("已取消")


class Signup(models.Model):
    """One person's place on an activity, their check-in and check-out, and the hours and
    points that came of it. One row per activity and user: cancelling and signing up again
    reuses it."""

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="signups")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                             related_name="volunteer_signups")
    household = models.ForeignKey("places.Place", on_delete=models.PROTECT, null=True,
                                  blank=True, related_name="+", verbose_name=_("户"),
                                  help_text=_("积分记入这一户的账户"))
    name = models.CharField(_("姓名"), max_length=60)
    status = models.CharField(_("状态"), max_length=10, choices=SignupStatus.choices,
                              default=SignupStatus.SIGNED_UP)
    signed_at = models.DateTimeField(default=timezone.now)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    checked_in_at = models.DateTimeField(_("签到时间"), null=True, blank=True)
    checked_out_at = models.DateTimeField(_("签退时间"), null=True, blank=True)
    minutes = models.PositiveIntegerField(_("服务时长（分钟）"), null=True, blank=True)
    minutes_corrected = models.BooleanField(default=False)
    correction_reason = models.CharField(_("更正原因"), max_length=300, blank=True)
    points = models.IntegerField(_("记入积分"), null=True, blank=True)
    points_note = models.CharField(max_length=200, blank=True)
    claim = models.OneToOneField("points.Claim", on_delete=models.PROTECT, null=True,
                                 blank=True, related_name="volunteer_signup")

    class Meta:
        verbose_name = _("活动报名")
        verbose_name_plural = _("活动报名")
        ordering = ["signed_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["activity", "user"], name="vol_signup_once"),
        ]

    def __str__(self) -> str:
        return f"{self.activity_id}:{self.name}"

    @property
    def is_active(self) -> bool:
        return self.status == SignupStatus.SIGNED_UP

    @property
    def hours(self) -> float | None:
        return None if self.minutes is None else round(self.minutes / 60, 1)


class OrderStatus(models.TextChoices):
    REQUESTED = "requested", _("待受理")
    ACCEPTED = "accepted", _("已受理")
    DECLINED = "declined", _("未受理")
    DELIVERED = "delivered", _("已服务")
    RATED = "rated", _("已评价")


class ServiceOrder(PlaceScoped):
    """A resident's order of a menu item (点单): the team accepts or declines it (派单),
    delivers (接单), and the resident rates it (评单). Place = the household that ordered."""

    item = models.ForeignKey(ServiceItem, on_delete=models.PROTECT, related_name="orders",
                             verbose_name=_("服务"))
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="orders",
                             verbose_name=_("服务队伍"))
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     related_name="volunteer_orders")
    wanted_on = models.DateField(_("希望服务日期"))
    note = models.TextField(_("需求说明"), blank=True, max_length=1000)
    status = models.CharField(_("状态"), max_length=10, choices=OrderStatus.choices,
                              default=OrderStatus.REQUESTED)
    created_at = models.DateTimeField(default=timezone.now)
    handled_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")
    handled_at = models.DateTimeField(null=True, blank=True)
    decline_reason = models.CharField(_("未受理原因"), max_length=300, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    delivery_note = models.TextField(_("服务情况"), blank=True, max_length=1000)
    minutes = models.PositiveIntegerField(_("服务时长（分钟）"), null=True, blank=True)
    rating = models.PositiveSmallIntegerField(_("评分"), null=True, blank=True)
    comment = models.CharField(_("评价"), max_length=500, blank=True)
    rated_at = models.DateTimeField(null=True, blank=True)

    objects = RestrictQuerySet.as_manager()
    permission_area = "volunteers"

    class Meta:
        verbose_name = _("服务订单")
        verbose_name_plural = _("服务订单")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["village", "status", "wanted_on"], name="vol_order_queue"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rating__isnull=True) | models.Q(rating__gte=1, rating__lte=5),
                name="vol_order_rating_1_5"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.item_id}"

    @classmethod
    def extra_scope_q(cls, user, action: str) -> models.Q | None:
        """A resident always sees the orders they placed."""
        if action != "view":
            return None
        return models.Q(requested_by_id=user.pk)

    def is_late(self, today: dt.date | None = None) -> bool:
        """Still not delivered after the day the resident wanted it."""
        today = today or timezone.localdate()
        return (self.status in (OrderStatus.REQUESTED, OrderStatus.ACCEPTED)
                and self.wanted_on < today)
