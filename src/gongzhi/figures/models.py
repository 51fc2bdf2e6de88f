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
