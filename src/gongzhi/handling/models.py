"""办: assignments, summonses and check-ins (吹哨报到), escalations, transfers and mediation."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gongzhi.matters.models import HandlingMode


class Assignment(models.Model):
    """交办: who handles a matter, how (自办/代办/联办), by when. The latest one is current."""

    county = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="+")
    matter = models.ForeignKey("matters.Matter", on_delete=models.CASCADE,
                               related_name="assignments")
    mode = models.CharField(_("办理方式"), max_length=8, choices=HandlingMode.choices)
    responsible_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                         null=True, blank=True, related_name="+",
                                         verbose_name=_("责任人"))
    responsible_org = models.ForeignKey("places.Organisation", on_delete=models.PROTECT,
                                        null=True, blank=True, related_name="+",
                                        verbose_name=_("责任单位"))
    co_orgs = models.ManyToManyField("places.Organisation", blank=True, related_name="+",
                                     verbose_name=_("联办单位"))
    due_at = models.DateTimeField(_("办理期限"))
    instructions = models.TextField(_("交办意见"), blank=True)
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, blank=True, related_name="+")
    assigned_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("交办")
        verbose_name_plural = _("交办")
        ordering = ["-assigned_at"]

    def __str__(self) -> str:
        return f"{self.matter_id} → {self.responsible_org or self.responsible_user}"


class SummonsStatus(models.TextChoices):
    WAITING = "waiting", _("待报到")
    CHECKED_IN = "checked_in", _("已报到")
    DONE = "done", _("已处置")
    CANCELLED = "cancelled", _("已撤回")


class Summons(models.Model):
    """吹哨: a handler with whistle power summons a department, which must check in (报到)."""

    county = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="+")
    matter = models.ForeignKey("matters.Matter", on_delete=models.CASCADE,
                               related_name="summonses")
    organisation = models.ForeignKey("places.Organisation", on_delete=models.PROTECT,
                                     related_name="summonses", verbose_name=_("被召集单位"))
    reason = models.TextField(_("吹哨事由"))
    is_urgent = models.BooleanField(_("紧急"), default=False)
    summoned_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, blank=True, related_name="+")
    summoned_at = models.DateTimeField(default=timezone.now)
    check_in_due = models.DateTimeField(_("报到时限"))
    checked_in_at = models.DateTimeField(_("报到时间"), null=True, blank=True)
    checked_in_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                      null=True, blank=True, related_name="+")
    is_late = models.BooleanField(_("迟到报到"), default=False)
    check_in_note = models.TextField(_("报到说明"), blank=True)
    status = models.CharField(max_length=12, choices=SummonsStatus.choices,
                              default=SummonsStatus.WAITING)
    action_taken = models.TextField(_("处置情况"), blank=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("吹哨报到")
        verbose_name_plural = _("吹哨报到")
        ordering = ["summoned_at"]
        indexes = [
            models.Index(fields=["county", "status", "check_in_due"], name="summons_due_idx"),
            models.Index(fields=["organisation", "status"], name="summons_org_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.matter_id} 吹哨 {self.organisation_id}"

    def is_missing(self, now=None) -> bool:
        now = now or timezone.now()
        return self.checked_in_at is None and self.status == SummonsStatus.WAITING and (
            self.check_in_due < now)


class Escalation(models.Model):
    """提级上报 (to the level above) or 移交处置 (to another body)."""

    class Kind(models.TextChoices):
        ESCALATE = "escalate", _("提级上报")
        TRANSFER = "transfer", _("移交处置")

    county = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="+")
    matter = models.ForeignKey("matters.Matter", on_delete=models.CASCADE,
                               related_name="escalations")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    from_place = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="+")
    to_place = models.ForeignKey("places.Place", on_delete=models.PROTECT, null=True,
                                 blank=True, related_name="+")
    to_org = models.ForeignKey("places.Organisation", on_delete=models.PROTECT, null=True,
                               blank=True, related_name="+", verbose_name=_("移交单位"))
    reason = models.TextField(_("理由"))
    is_automatic = models.BooleanField(default=False)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                           blank=True, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("提级与移交")
        verbose_name_plural = _("提级与移交")
        ordering = ["at"]

    def __str__(self) -> str:
        return f"{self.matter_id} {self.kind}"


class MediationWay(models.TextChoices):
    SIMPLE = "simple", _("简易事项直接评")
    JOINT = "joint", _("复杂矛盾联合评")
    LEGAL = "legal", _("法治事件剖析评")


class MediationMethod(models.TextChoices):
    ADMONITION = "admonition", _("劝诫处置")
    PEOPLES = "peoples", _("人民调解")
    ADMINISTRATIVE = "administrative", _("行政调解")
    JUDICIAL = "judicial", _("司法调解")


class MediationOutcome(models.TextChoices):
    ARCHIVE = "archive", _("总结归档")
    ESCALATE = "escalate", _("提级上报")
    TRANSFER = "transfer", _("移交处置")


class Mediation(models.Model):
    """说事评理: the way a dispute is weighed and, for disputes, the mediation agreement record
    (人民调解法: registration, work record, agreement with parties, facts, responsibilities, what is
    to be done by whom and when; both parties' consent; 司法确认 may be asked within 30 days)."""

    county = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="+")
    matter = models.ForeignKey("matters.Matter", on_delete=models.CASCADE,
                               related_name="mediations")
    way = models.CharField(_("评理方式"), max_length=10, choices=MediationWay.choices)
    method = models.CharField(_("处置方式"), max_length=16, choices=MediationMethod.choices,
                              blank=True)
    parties = models.JSONField(_("当事人"), default=list)
    consent = models.BooleanField(_("双方同意调解"), default=False)
    facts = models.TextField(_("基本事实"), blank=True)
    responsibilities = models.TextField(_("责任认定"), blank=True)
    terms = models.JSONField(_("协议事项"), default=list, blank=True,
                             help_text=_("[{what, who, by}]"))
    work_record = models.TextField(_("调解过程记录"), blank=True)
    signed_at = models.DateTimeField(_("签字日期"), null=True, blank=True)
    confirmation_deadline = models.DateField(_("申请司法确认截止"), null=True, blank=True)
    outcome = models.CharField(_("结果"), max_length=10, choices=MediationOutcome.choices,
                               blank=True)
    mediator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                 blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("说事评理")
        verbose_name_plural = _("说事评理")

    def __str__(self) -> str:
        return f"{self.matter_id} {self.way}"
