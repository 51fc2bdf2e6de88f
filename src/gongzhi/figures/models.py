"""The one fact the figures need that the matter itself does not keep: which deadlines it met.

A matter keeps only its *current* stage deadline. Whether it was ever late in an earlier stage
visit — the first stage (响应率) or a handling stage (按期办结率) — is gone once it moves on,
so :class:`MatterClock` follows each visit and remembers the answer (see :mod:`.clock`).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class MatterClock(models.Model):
    """One row per matter: its current stage visit and what its finished visits came to.

    A *stage visit* is one stay of the matter in one stage, from ``stage_entered_at`` until it
    enters the next (re-entering a stage after 不满意 is a new visit). A visit is **late** when
    it ended after the deadline then in force, or when a deadline in force passed and was
    replaced while the visit still ran (an escalation's fresh clock does not undo being late).
    An extension granted before the deadline passed is not late.

    ``from_start`` is false for a matter followed only from some later step (one written in
    bulk without its clock, or existing before figures was installed): what happened before is
    unknown, so it is never counted as answered or closed in time.
    """

    matter = models.OneToOneField("matters.Matter", on_delete=models.CASCADE, primary_key=True,
                                  related_name="clock")
    # The visit running now.
    stage = models.CharField(_("环节"), max_length=40)
    kind = models.CharField(_("环节类型"), max_length=20)
    entered_at = models.DateTimeField(_("进入环节时间"))
    deadline = models.DateTimeField(_("本环节时限"), null=True, blank=True)
    late = models.BooleanField(_("本环节已超期"), default=False,
                               help_text=_("时限已过后才被新的时限取代"))
    in_first_visit = models.BooleanField(_("仍在首个环节"), default=True)
    from_start = models.BooleanField(
        _("自登记起跟踪"), default=True,
        help_text=_("否：事项在有此记录之前已流转，之前的环节是否超期不得而知"))
    # What the finished visits came to.
    response_deadline = models.DateTimeField(_("受理时限"), null=True, blank=True,
                                             help_text=_("首个环节结束时有效的时限"))
    response_late = models.BooleanField(_("超时受理"), null=True, blank=True,
                                        help_text=_("首个环节结束前为空"))
    handling_visits = models.PositiveIntegerField(_("办理环节次数"), default=0)
    late_handling_visits = models.PositiveIntegerField(_("超期的办理环节次数"), default=0)
    late_visits = models.PositiveIntegerField(
        _("超期的环节次数"), default=0,
        help_text=_("评价、公示、办结以外各类环节中超期的次数"))

    class Meta:
        verbose_name = _("事项时限记录")
        verbose_name_plural = _("事项时限记录")

    def __str__(self) -> str:
        return f"{self.matter_id} {self.stage}"


# ---------------------------------------------------------------------------------------------
# Rollups: the figures of matters and of what residents said, summed ahead (see rollups.py and
# docs/adr/0006-figure-rollups.md). Derived data: `gongzhi figures rebuild-rollups` rebuilds it.

PLACE_KEY = ("level", "county_id", "town_id", "village_id", "grid_id")
SLICE_KEY = ("dimension", "value", "month")


class RollupBase(models.Model):
    """The key shared by the rollups: a place at one level (its ancestors' ids, 0 where none;
    the columns below the level are 0), a slice (``dimension`` "" for all matters, else one of
    ledger, channel, category, department with its ``value``, "" where none) and a month."""

    level = models.CharField(max_length=8)
    county_id = models.BigIntegerField()
    town_id = models.BigIntegerField(default=0)
    village_id = models.BigIntegerField(default=0)
    grid_id = models.BigIntegerField(default=0)
    dimension = models.CharField(max_length=12, default="")
    value = models.CharField(max_length=40, default="")
    month = models.DateField()

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return (f"{self.level} {self.county_id}/{self.town_id}/{self.village_id}/"
                f"{self.grid_id} {self.dimension}={self.value} {self.month:%Y-%m}")


class MatterRollup(RollupBase):
    """Matters received in ``month`` (local time) and what became of them in ``event_month``:
    the row of (month, event_month) counts the events of that month for that cohort, so the
    cohort of [m1, m2) by its end is the sum over month in [m1, m2) and event_month < m2."""

    event_month = models.DateField()
    received = models.BigIntegerField(default=0)
    closed = models.BigIntegerField(default=0)
    closed_on_time = models.BigIntegerField(default=0)
    responded_in_time = models.BigIntegerField(default=0)
    reached_evaluation = models.BigIntegerField(default=0)
    reopened = models.BigIntegerField(default=0)
    handled = models.BigIntegerField(default=0)
    handling_days = models.BigIntegerField(default=0)

    COUNTS = ("received", "closed", "closed_on_time", "responded_in_time",
              "reached_evaluation", "reopened", "handled", "handling_days")

    class Meta:
        verbose_name = _("事项统计汇总")
        verbose_name_plural = _("事项统计汇总")
        constraints = [models.UniqueConstraint(
            fields=[*PLACE_KEY, *SLICE_KEY, "event_month"], name="matter_rollup_key")]
        indexes = [
            models.Index(fields=["county_id", "level", "dimension", "month"],
                         name="matter_rollup_county_idx"),
            models.Index(fields=["town_id", "level", "dimension", "month"],
                         name="matter_rollup_town_idx"),
            models.Index(fields=["village_id", "level", "dimension", "month"],
                         name="matter_rollup_village_idx"),
        ]

    def __str__(self) -> str:
        return f"{super().__str__()} → {self.event_month:%Y-%m}"


class RatingRollup(RollupBase):
    """Each matter's last reporter rating (satisfaction columns) or last answered return visit
    (resolution columns) in ``month``; ``next_month`` is the month of its next one
    (:data:`~gongzhi.figures.rollups.NEVER` when none). Over [m1, m2) a matter's voice is its
    last in the period: month in [m1, m2) and next_month >= m2."""

    next_month = models.DateField()
    satisfied = models.BigIntegerField(default=0)
    basic = models.BigIntegerField(default=0)
    dissatisfied = models.BigIntegerField(default=0)
    no_answer = models.BigIntegerField(default=0)
    answered = models.BigIntegerField(default=0)
    reached = models.BigIntegerField(default=0)
    solved = models.BigIntegerField(default=0)
    partly_solved = models.BigIntegerField(default=0)
    unsolved = models.BigIntegerField(default=0)

    COUNTS = ("satisfied", "basic", "dissatisfied", "no_answer", "answered",
              "reached", "solved", "partly_solved", "unsolved")

    class Meta:
        verbose_name = _("评价统计汇总")
        verbose_name_plural = _("评价统计汇总")
        constraints = [models.UniqueConstraint(
            fields=[*PLACE_KEY, *SLICE_KEY, "next_month"], name="rating_rollup_key")]
        indexes = [
            models.Index(fields=["county_id", "level", "dimension", "month"],
                         name="rating_rollup_county_idx"),
            models.Index(fields=["town_id", "level", "dimension", "month"],
                         name="rating_rollup_town_idx"),
            models.Index(fields=["village_id", "level", "dimension", "month"],
                         name="rating_rollup_village_idx"),
        ]

    def __str__(self) -> str:
        return f"{super().__str__()} → {self.next_month:%Y-%m}"
