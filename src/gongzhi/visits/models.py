"""大走访: cadres' recorded visits to households, and the weekly quota of visits per cadre.

A visit belongs to the household visited (``PlaceScoped`` at household level), so "the visits
under village V" is ``filter(village=V)`` and the figures roll up the tree by ``GROUP BY``.
It keeps who visited (``visitor``) and under which role grant (``visitor_role`` and
``visitor_place``: the grant that covered the household when the visit was recorded).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gongzhi.accounts.roles import Role
from gongzhi.core.access import RestrictQuerySet
from gongzhi.places.models import PlaceScoped


class VisitKind(models.TextChoices):
    ROUTINE = "routine", _("例行走访")
    FOLLOW_UP = "follow_up", _("回访跟进")
    SPECIAL_GROUP = "special_group", _("特殊群体关爱")
    EMERGENCY = "emergency", _("应急走访")


class Visit(PlaceScoped):
    """One visit by one cadre to one household on one day."""

    visitor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                related_name="visits", verbose_name=_("走访人"))
    visitor_role = models.CharField(_("走访人角色"), max_length=32, choices=Role.choices,
                                    blank=True)
    visitor_place = models.ForeignKey("places.Place", on_delete=models.PROTECT, null=True,
                                      blank=True, related_name="+", db_index=False,
                                      verbose_name=_("走访人授权地点"))
    visited_on = models.DateField(_("走访日期"))
    kind = models.CharField(_("走访类型"), max_length=16, choices=VisitKind.choices,
                            default=VisitKind.ROUTINE)
    nobody_home = models.BooleanField(_("无人在家"), default=False)
    met = models.ManyToManyField("places.Person", blank=True, related_name="visits",
                                 verbose_name=_("见到的家庭成员"))
    notes = models.TextField(_("听到的需求和意见"), blank=True)
    matters = models.ManyToManyField("matters.Matter", through="VisitMatter", blank=True,
                                     related_name="visits", verbose_name=_("转为的事项"))
    created_at = models.DateTimeField(_("录入时间"), default=timezone.now)

    objects = RestrictQuerySet.as_manager()
    permission_area = "visits"

    class Meta:
        verbose_name = _("走访记录")
        verbose_name_plural = _("走访记录")
        ordering = ["-visited_on", "-id"]
        indexes = [
            # Coverage: the last visit of each household (a Max per household).
            models.Index(fields=["household", "visited_on"], name="visit_household_day_idx"),
            # The weekly quota: a cadre's visits in a week.
            models.Index(fields=["visitor", "visited_on"], name="visit_visitor_day_idx"),
            # Figures by place and period.
            models.Index(fields=["county", "visited_on"], name="visit_county_day_idx"),
            models.Index(fields=["town", "visited_on"], name="visit_town_day_idx"),
            models.Index(fields=["village", "visited_on"], name="visit_village_day_idx"),
            models.Index(fields=["grid", "visited_on"], name="visit_grid_day_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.visited_on} {self.get_kind_display()} #{self.pk}"

    @classmethod
    def extra_scope_q(cls, user, action: str) -> models.Q | None:
        """A cadre always sees the visits they made, wherever their grants now are."""
        if action != "view":
            return None
        return models.Q(visitor_id=user.pk)


class VisitMatter(models.Model):
    """A need heard on a visit that became a matter (走访发现 → 事项)."""

    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="visit_matters")
    matter = models.OneToOneField("matters.Matter", on_delete=models.CASCADE,
                                  related_name="visit_link")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("走访转事项")
        verbose_name_plural = _("走访转事项")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.visit_id} → {self.matter_id}"


class VisitPhoto(models.Model):
    """A photo taken on the visit; served only through the visit's access check."""

    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="photos")
    file = models.FileField(upload_to="visits/%Y/%m/")
    name = models.CharField(max_length=120)
    content_type = models.CharField(max_length=80)
    size = models.PositiveIntegerField(default=0)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, blank=True, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("走访照片")
        verbose_name_plural = _("走访照片")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class VisitQuota(models.Model):
    """How many households a cadre of ``role`` visits each ISO week (Monday to Sunday).

    ``place`` null: the whole county; otherwise the place and everything beneath it. The most
    specific row covering a cadre's grant wins; without one, the code default applies
    (:data:`gongzhi.visits.quota.DEFAULT_PER_WEEK` for the roles in ``DEFAULT_QUOTA_ROLES``).
    ``per_week`` 0 means "no quota" for that role there.
    """

    county = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("县/区"))
    role = models.CharField(_("角色"), max_length=32, choices=Role.choices)
    place = models.ForeignKey("places.Place", on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+", verbose_name=_("适用地点"),
                              help_text=_("留空表示全县（区）"))
    per_week = models.PositiveSmallIntegerField(_("每周走访户数"))
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("走访任务量")
        verbose_name_plural = _("走访任务量")
        ordering = ["county_id", "role", "place_id"]
        constraints = [
            models.UniqueConstraint(fields=["county", "role"], name="visitquota_county_unique",
                                    condition=models.Q(place__isnull=True)),
            models.UniqueConstraint(fields=["county", "role", "place"],
                                    name="visitquota_place_unique",
                                    condition=models.Q(place__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()} {self.per_week}"
