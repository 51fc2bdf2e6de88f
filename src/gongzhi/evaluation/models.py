"""评: the reporter's rating through a link that needs no login, other evaluators' ratings
(党员议评, 单位参评, 部门协评, 上级考评), and staff's phone return visits (回访).

An :class:`EvaluationRequest` is made each time a matter enters a stage of kind evaluation.
Its link carries a token signed with the server's secret (see :mod:`.tokens`), works once, and
stops working at ``expires_at`` (the locality's ``evaluation_days`` in working days); a request
nobody answers in time ends as an :class:`Evaluation` of outcome ``no_answer``, never as
satisfied.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gongzhi.core.access import RestrictQuerySet


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", _("满意")
    BASIC = "basic", _("基本满意")
    DISSATISFIED = "dissatisfied", _("不满意")


class Outcome(models.TextChoices):
    SATISFIED = "satisfied", _("满意")
    BASIC = "basic", _("基本满意")
    DISSATISFIED = "dissatisfied", _("不满意")
    NO_ANSWER = "no_answer", _("未评价")


class EvaluatorKind(models.TextChoices):
    REPORTER = "reporter", _("群众评价")
    PARTY_MEMBER = "party_member", _("党员议评")
    UNIT = "unit", _("单位参评")
    DEPARTMENT = "department", _("部门协评")
    SUPERIOR = "superior", _("上级考评")


class Via(models.TextChoices):
    LINK = "link", _("评价链接")
    PHONE = "phone", _("电话回访")
    STAFF = "staff", _("工作人员录入")
    SYSTEM = "system", _("到期未评价")


ASPECTS = {
    "attitude": _("服务态度"),
    "efficiency": _("办理效率"),
    "result": _("办理结果"),
    "effect": _("实际效果"),
}
DEFAULT_ASPECTS = ["attitude", "efficiency", "result"]


class RequestStatus(models.TextChoices):
    PENDING = "pending", _("待评价")
    ANSWERED = "answered", _("已评价")
    EXPIRED = "expired", _("已过期")
    CANCELLED = "cancelled", _("已失效")


def new_nonce() -> str:
    return secrets.token_hex(8)


class EvaluationRequest(models.Model):
    """The reporter's invitation to rate one handling round of a matter."""

    county = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="+")
    matter = models.ForeignKey("matters.Matter", on_delete=models.CASCADE,
                               related_name="evaluation_requests")
    stage = models.CharField(max_length=40)
    stage_entered_at = models.DateTimeField()
    round = models.PositiveSmallIntegerField(_("办理轮次"), default=1,
                                             help_text=_("第几次办理（重办后加一）"))
    nonce = models.CharField(max_length=16, default=new_nonce, editable=False)
    reporter_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                      null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(_("评价截止"))
    deadline_uncertain = models.BooleanField(default=False)
    status = models.CharField(_("状态"), max_length=10, choices=RequestStatus.choices,
                              default=RequestStatus.PENDING)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("评价邀请")
        verbose_name_plural = _("评价邀请")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["matter", "stage", "stage_entered_at"],
                                    name="evaluationrequest_visit_unique"),
        ]
        indexes = [models.Index(fields=["status", "expires_at"], name="evalrequest_due_idx")]

    def __str__(self) -> str:
        return f"{self.matter_id} #{self.round} {self.status}"

    def is_expired(self, now=None) -> bool:
        return (now or timezone.now()) >= self.expires_at


class Evaluation(models.Model):
    """One rating of a matter by one evaluator (or the record that the reporter did not answer)."""

    county = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="+")
    matter = models.ForeignKey("matters.Matter", on_delete=models.CASCADE,
                               related_name="evaluations")
    kind = models.CharField(_("评价主体"), max_length=16, choices=EvaluatorKind.choices)
    via = models.CharField(_("评价方式"), max_length=8, choices=Via.choices)
    outcome = models.CharField(_("总体评价"), max_length=14, choices=Outcome.choices)
    attitude = models.CharField(_("服务态度"), max_length=14, choices=Satisfaction.choices,
                                blank=True)
    efficiency = models.CharField(_("办理效率"), max_length=14, choices=Satisfaction.choices,
                                  blank=True)
    result = models.CharField(_("办理结果"), max_length=14, choices=Satisfaction.choices,
                              blank=True)
    effect = models.CharField(_("实际效果"), max_length=14, choices=Satisfaction.choices,
                              blank=True)
    comment = models.TextField(_("意见"), blank=True)
    evaluator_name = models.CharField(_("评价人"), max_length=60, blank=True,
                                      help_text=_("党员、单位或上级评价人的姓名或名称"))
    organisation = models.ForeignKey("places.Organisation", on_delete=models.SET_NULL,
                                     null=True, blank=True, related_name="+",
                                     verbose_name=_("参评单位"))
    request = models.OneToOneField(EvaluationRequest, on_delete=models.SET_NULL, null=True,
                                   blank=True, related_name="evaluation")
    round = models.PositiveSmallIntegerField(_("办理轮次"), default=1)
    reopened = models.BooleanField(_("引起重新办理"), default=False)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                           blank=True, related_name="+", verbose_name=_("录入人"))
    at = models.DateTimeField(_("评价时间"), default=timezone.now)

    objects = RestrictQuerySet.as_manager()
    permission_area = "matters"
    scope_prefix = "matter__"

    class Meta:
        verbose_name = _("评价")
        verbose_name_plural = _("评价")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["county", "kind", "outcome"], name="evaluation_kind_idx")]

    def __str__(self) -> str:
        return f"{self.matter_id} {self.kind} {self.outcome}"

    @property
    def counts_as_satisfied(self) -> bool:
        """满意 and 基本满意 count as satisfied; no answer never does."""
        return self.outcome in (Outcome.SATISFIED, Outcome.BASIC)


class Resolved(models.TextChoices):
    YES = "yes", _("已解决")
    PARTLY = "partly", _("部分解决")
    NO = "no", _("未解决")


class ReturnVisit(models.Model):
    """回访: staff call (or visit) the reporter after the result and note what they hear."""

    county = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="+")
    matter = models.ForeignKey("matters.Matter", on_delete=models.CASCADE,
                               related_name="return_visits")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                           blank=True, related_name="+", verbose_name=_("回访人"))
    at = models.DateTimeField(_("回访时间"), default=timezone.now)
    reached = models.BooleanField(_("联系上反映人"))
    resolved = models.CharField(_("问题是否解决"), max_length=8, choices=Resolved.choices,
                                blank=True)
    satisfaction = models.CharField(_("满意度"), max_length=14, choices=Satisfaction.choices,
                                    blank=True)
    notes = models.TextField(_("回访记录"), blank=True)
    evaluation = models.OneToOneField(Evaluation, on_delete=models.SET_NULL, null=True,
                                      blank=True, related_name="return_visit",
                                      verbose_name=_("记为群众评价"))

    objects = RestrictQuerySet.as_manager()
    permission_area = "matters"
    scope_prefix = "matter__"

    class Meta:
        verbose_name = _("回访")
        verbose_name_plural = _("回访")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.matter_id} {self.at:%Y-%m-%d}"
