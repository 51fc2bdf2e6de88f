"""考核: indicator systems and assessment rounds of grids, villages, towns, cadres, departments.

- An :class:`IndicatorSystem` belongs to a county and assesses one kind of unit. Its
  indicators and policy live in :class:`SystemVersion` rows: editing makes a new version, and
  every round keeps the version it was created with.
- An :class:`Indicator` has a weight (a version's weights sum to 100) and a source: *computed*
  (a named figure from :mod:`gongzhi.figures` or the points ledger, turned into 0..100 by its
  rule) or *manual* (scored 0..100 by an assessor, with evidence).
- An :class:`AssessmentRound` assesses every unit of the kind under a place for a quarter or a
  year. Computing it freezes each unit's figures at the computation time into
  :class:`UnitResult` and :class:`IndicatorScore` rows; manual scores and approved
  :class:`Adjustment` (加分/扣分) complete it; finalising locks it.

Every write is an action in ``actions.py``; the scoring itself is the pure functions of
``scoring.py``. ``docs/assessments.md`` says the same in words.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gongzhi.core.access import RestrictQuerySet, grants_with, scope_q
from gongzhi.places.models import PlaceScoped


class UnitKind(models.TextChoices):
    GRID = "grid", _("网格")
    VILLAGE = "village", _("村（社区）")
    TOWN = "town", _("镇（街道）")
    CADRE = "cadre", _("干部")
    DEPARTMENT = "department", _("部门")


PLACE_UNIT_KINDS = (UnitKind.GRID, UnitKind.VILLAGE, UnitKind.TOWN)


class Source(models.TextChoices):
    COMPUTED = "computed", _("系统计算")
    MANUAL = "manual", _("人工评分")


class PeriodKind(models.TextChoices):
    QUARTER = "quarter", _("季度")
    YEAR = "year", _("年度")


def _county_q(user, action: str) -> models.Q | None:
    """Rows of the counties where the user holds ``assessments.<action>`` somewhere."""
    counties = {g.county_id for g in grants_with(user, f"assessments.{action}")}
    return models.Q(county_id__in=counties) if counties else None


class IndicatorSystem(PlaceScoped):
    """考核指标体系 of a county (``place`` is the county) for one kind of unit."""

    unit_kind = models.CharField(_("考核对象"), max_length=12, choices=UnitKind.choices)
    name = models.CharField(_("名称"), max_length=120)
    preset = models.CharField(_("来源模板"), max_length=40, blank=True)
    description = models.TextField(_("说明"), blank=True)
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = RestrictQuerySet.as_manager()
    permission_area = "assessments"

    class Meta:
        verbose_name = _("考核指标体系")
        verbose_name_plural = _("考核指标体系")
        ordering = ["county_id", "unit_kind", "name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["county", "name"], name="assess_system_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name

    @staticmethod
    def extra_scope_q(user, action: str) -> models.Q | None:
        # Granted anywhere in the county, a role may read (or edit) the county's systems.
        return _county_q(user, action)

    def current(self) -> SystemVersion | None:
        if not hasattr(self, "_current"):
            self._current = self.versions.order_by("-number").first()
        return self._current


class SystemVersion(models.Model):
    """One version of a system: its policy and (through indicators) its indicators."""

    system = models.ForeignKey(IndicatorSystem, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField(_("版本"))
    policy = models.JSONField(_("考核政策"), default=dict)
    note = models.CharField(_("修订说明"), max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("指标体系版本")
        verbose_name_plural = _("指标体系版本")
        ordering = ["system", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["system", "number"], name="assess_version_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.system} v{self.number}"


class Indicator(models.Model):
    """一项指标: its class (指标类别), weight, and where its score comes from."""

    version = models.ForeignKey(SystemVersion, on_delete=models.PROTECT,
                                related_name="indicators")
    code = models.CharField(_("编号"), max_length=20)
    category = models.CharField(_("指标类别"), max_length=60)
    name = models.CharField(_("指标"), max_length=120)
    weight = models.DecimalField(_("权重"), max_digits=5, decimal_places=2)
    source = models.CharField(_("来源"), max_length=10, choices=Source.choices)
    figure = models.CharField(_("统计指标"), max_length=40, blank=True,
                              help_text=_("系统计算的指标取哪一项统计数"))
    rule = models.JSONField(_("计分规则"), default=dict, blank=True)
    description = models.CharField(_("评分标准"), max_length=500, blank=True)
    sort_order = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("考核指标")
        verbose_name_plural = _("考核指标")
        ordering = ["version", "sort_order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["version", "code"], name="assess_indicator_code"),
            models.CheckConstraint(condition=models.Q(weight__gt=0) & models.Q(weight__lte=100),
                                   name="assess_indicator_weight_range"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def is_manual(self) -> bool:
        return self.source == Source.MANUAL


class RoundStatus(models.TextChoices):
    DRAFT = "draft", _("待计算")
    COMPUTED = "computed", _("已计算")
    FINAL = "final", _("已定稿")


class AssessmentRound(PlaceScoped):
    """考核轮次: every unit of a kind under ``place`` (the scope), for a quarter or a year."""

    system = models.ForeignKey(IndicatorSystem, on_delete=models.PROTECT, related_name="rounds",
                               verbose_name=_("指标体系"))
    version = models.ForeignKey(SystemVersion, on_delete=models.PROTECT, related_name="rounds")
    unit_kind = models.CharField(_("考核对象"), max_length=12, choices=UnitKind.choices)
    period_kind = models.CharField(_("周期"), max_length=8, choices=PeriodKind.choices)
    year = models.PositiveIntegerField(_("年度"))
    quarter = models.PositiveSmallIntegerField(_("季度"), null=True, blank=True)
    period_start = models.DateField(_("起始日期"))
    period_end = models.DateField(_("截止日期"), help_text=_("含当日"))
    title = models.CharField(_("标题"), max_length=200)
    status = models.CharField(_("状态"), max_length=10, choices=RoundStatus.choices,
                              default=RoundStatus.DRAFT)
    points_share = models.DecimalField(
        _("积分占比"), max_digits=4, decimal_places=3, default=0,
        help_text=_("年度考核中户积分所占比例（0 为不计）"))
    computed_at = models.DateTimeField(_("计算时间"), null=True, blank=True)
    computed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, blank=True, related_name="+")
    finalised_at = models.DateTimeField(_("定稿时间"), null=True, blank=True)
    finalised_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                     null=True, blank=True, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    objects = RestrictQuerySet.as_manager()
    permission_area = "assessments"

    class Meta:
        verbose_name = _("考核轮次")
        verbose_name_plural = _("考核轮次")
        ordering = ["-period_end", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["system", "place", "period_start", "period_end"],
                                    name="assess_round_unique"),
            models.CheckConstraint(condition=models.Q(period_start__lte=models.F("period_end")),
                                   name="assess_round_period_order"),
        ]

    def __str__(self) -> str:
        return self.title

    @staticmethod
    def extra_scope_q(user, action: str) -> models.Q | None:
        """Besides rounds under their places, a user sees a round holding a result they may
        see (a village cadre: the county's round of villages, for their own village)."""
        if action != "view":
            return None
        visible = UnitResult.objects.restrict(user, "view").values("round_id")
        return models.Q(pk__in=visible)

    @property
    def is_final(self) -> bool:
        return self.status == RoundStatus.FINAL


class UnitResult(PlaceScoped):
    """One unit's result in a round. ``place`` is the unit's place: the grid, village or town
    itself; a cadre's place of office; a department's place."""

    round = models.ForeignKey(AssessmentRound, on_delete=models.CASCADE, related_name="results")
    unit_key = models.CharField(max_length=40)  # "place:12", "user:5", "org:3"
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                             blank=True, related_name="+", verbose_name=_("干部"))
    organisation = models.ForeignKey("places.Organisation", on_delete=models.PROTECT, null=True,
                                     blank=True, related_name="+", verbose_name=_("部门"))
    label = models.CharField(_("考核对象"), max_length=120)
    volume = models.PositiveIntegerField(_("业务量"), default=0)
    counts = models.JSONField(_("统计数"), default=dict)
    points_total = models.IntegerField(_("积分合计"), null=True, blank=True)
    points_households = models.PositiveIntegerField(_("户数"), null=True, blank=True)
    points_value = models.FloatField(_("户均积分"), null=True, blank=True)
    points_score = models.DecimalField(_("积分得分"), max_digits=6, decimal_places=2, null=True,
                                       blank=True)
    indicator_score = models.DecimalField(_("指标得分"), max_digits=6, decimal_places=2,
                                          null=True, blank=True)
    base_score = models.DecimalField(_("基础得分"), max_digits=6, decimal_places=2, null=True,
                                     blank=True)
    bonus = models.PositiveSmallIntegerField(_("加分"), default=0)
    deduction = models.PositiveSmallIntegerField(_("扣分"), default=0)
    final_score = models.DecimalField(_("总分"), max_digits=6, decimal_places=2, null=True,
                                      blank=True)
    grade = models.CharField(_("等次"), max_length=12, blank=True)
    complete = models.BooleanField(_("人工评分已录齐"), default=False)
    ranked = models.BooleanField(_("参与排名"), default=False)
    rank = models.PositiveIntegerField(_("名次"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RestrictQuerySet.as_manager()
    permission_area = "assessments"

    class Meta:
        verbose_name = _("考核结果")
        verbose_name_plural = _("考核结果")
        ordering = ["round", "rank", "-volume", "label", "id"]
        constraints = [
            models.UniqueConstraint(fields=["round", "unit_key"], name="assess_result_unit"),
        ]
        indexes = [models.Index(fields=["round", "rank"], name="assess_result_rank_idx")]

    def __str__(self) -> str:
        return f"{self.round} · {self.label}"

    @staticmethod
    def extra_scope_q(user, action: str) -> models.Q | None:
        """Everyone holding the permission over the round's scope sees all its results; a
        cadre sees their own sheet and a department's staff their department's."""
        q = scope_q(user, f"assessments.{action}", "round__")
        if action == "view" and getattr(user, "is_authenticated", False):
            own = models.Q(user_id=user.pk)
            if getattr(user, "organisation_id", None):
                own |= models.Q(organisation_id=user.organisation_id)
            q = own if q is None else q | own
        return q


class IndicatorScore(models.Model):
    """One indicator of one unit: the figure frozen at computation, or the assessor's score."""

    result = models.ForeignKey(UnitResult, on_delete=models.CASCADE, related_name="scores")
    indicator = models.ForeignKey(Indicator, on_delete=models.PROTECT, related_name="+")
    value = models.FloatField(_("数值"), null=True, blank=True)
    volume = models.PositiveIntegerField(_("基数"), null=True, blank=True)
    score = models.DecimalField(_("得分"), max_digits=6, decimal_places=2, null=True, blank=True)
    evidence = models.TextField(_("评分依据"), blank=True)
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")
    entered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("指标得分")
        verbose_name_plural = _("指标得分")
        ordering = ["result", "indicator__sort_order", "indicator_id"]
        constraints = [
            models.UniqueConstraint(fields=["result", "indicator"], name="assess_score_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.result_id}/{self.indicator_id} {self.score}"


class AdjustmentKind(models.TextChoices):
    BONUS = "bonus", _("加分")
    DEDUCTION = "deduction", _("扣分")


class AdjustmentStatus(models.TextChoices):
    PENDING = "pending", _("待审批")
    APPROVED = "approved", _("已批准")
    REJECTED = "rejected", _("未批准")


class Adjustment(models.Model):
    """加分 (先行先试、重大荣誉) or 扣分 (安全、环保、上级通报), 1 to 10, with a reason;
    it counts once someone other than the requester approves it (four eyes)."""

    result = models.ForeignKey(UnitResult, on_delete=models.CASCADE, related_name="adjustments")
    kind = models.CharField(_("类型"), max_length=10, choices=AdjustmentKind.choices)
    points = models.PositiveSmallIntegerField(_("分值"))
    reason = models.CharField(_("事由"), max_length=500)
    status = models.CharField(_("状态"), max_length=10, choices=AdjustmentStatus.choices,
                              default=AdjustmentStatus.PENDING)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                     null=True, blank=True, related_name="+",
                                     verbose_name=_("申请人"))
    requested_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+",
                                   verbose_name=_("审批人"))
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(_("审批意见"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("加减分")
        verbose_name_plural = _("加减分")
        ordering = ["result", "requested_at", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(points__gte=1) & models.Q(points__lte=10),
                                   name="assess_adjustment_points_range"),
        ]

    def __str__(self) -> str:
        sign = "+" if self.kind == AdjustmentKind.BONUS else "−"
        return f"{sign}{self.points} {self.reason}"

    @property
    def signed(self) -> int:
        return self.points if self.kind == AdjustmentKind.BONUS else -self.points
