"""说: the matter, its categories, its timeline, and the locality's workflow definitions.

A matter belongs to the place it is about (``PlaceScoped``: figures roll up from there) and
waits in the queue of ``queue_place`` (the village at first; the town or county after an
escalation). Its stage is a key of the workflow version it started under; the stage's kind
is copied beside it so queries need not parse workflow definitions.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gongzhi.core.access import RestrictQuerySet
from gongzhi.places.models import PlaceScoped


class Channel(models.TextChoices):
    WALK_IN = "walk_in", _("说事日来访")
    RECEPTION = "reception", _("民情会客厅")
    VISIT = "visit", _("入户走访")
    SECRETARY_PHONE = "secretary_phone", _("书记电话")
    MINQING_110 = "minqing110", _("民情110")
    WECHAT = "wechat", _("微信")
    WEB = "web", _("网上表单")
    HOTLINE_12345 = "hotline12345", _("12345热线工单")
    ONLINE_OPINION = "online_opinion", _("网络舆情")
    SUPERIOR = "superior", _("上级交办")
    MEETING = "meeting", _("会议提出")
    LIAISON = "liaison", _("联络员收集")
    OPEN311 = "open311", _("Open311 应用")


class Ledger(models.TextChoices):
    SUGGESTION = "suggestion", _("意见建议")
    CLAIM = "claim", _("利益诉求")
    COMPLAINT = "complaint", _("投诉举报")


class Urgency(models.TextChoices):
    NORMAL = "normal", _("一般")
    URGENT = "urgent", _("急事急说")
    SPECIAL = "special", _("特事特说")


class StageKind(models.TextChoices):
    INTAKE = "intake", _("受理登记")
    REVIEW = "review", _("审核阅批")
    ACCEPTANCE_NOTICE = "acceptance_notice", _("受理告知")
    DELIBERATION = "deliberation", _("议事协商")
    HANDLING = "handling", _("办理")
    SUPERVISION = "supervision", _("督查")
    FEEDBACK = "feedback", _("结果反馈")
    SIGN_OFF = "sign_off", _("把关审核")
    EVALUATION = "evaluation", _("评价")
    DISCLOSURE = "disclosure", _("公示")
    CLOSED = "closed", _("办结归档")


class HandlingMode(models.TextChoices):
    SELF = "self", _("自办")
    PROXY = "proxy", _("代办")
    JOINT = "joint", _("联办")


class Outcome(models.TextChoices):
    SOLVED = "solved", _("已解决")
    PARTLY = "partly", _("部分解决")
    UNSOLVABLE = "unsolvable", _("无法解决（已解释）")


class WorkflowDefinition(models.Model):
    """One version of a locality's workflow. Definitions are data; the engine is small.

    ``county`` is null for the presets shipped with gongzhi. A locality adopts a preset by
    copying it; each edit saves a new version; a matter keeps the version it started under.
    """

    county = models.ForeignKey("places.Place", on_delete=models.PROTECT, null=True, blank=True,
                               related_name="+")
    key = models.CharField(_("流程标识"), max_length=40)
    name = models.CharField(_("流程名称"), max_length=80)
    version = models.PositiveIntegerField(_("版本"), default=1)
    definition = models.JSONField(_("流程定义"))
    is_active = models.BooleanField(_("当前使用"), default=False)
    based_on = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("流程定义")
        verbose_name_plural = _("流程定义")
        constraints = [
            models.UniqueConstraint(fields=["county", "key", "version"],
                                    name="workflow_version_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


class MatterSettings(models.Model):
    """A locality's (county's) matter policy, with defaults from its preset."""

    county = models.OneToOneField("places.Place", on_delete=models.PROTECT, primary_key=True,
                                  related_name="matter_settings")
    preset = models.CharField(_("采用的模板"), max_length=40, default="default")
    workflow = models.ForeignKey(WorkflowDefinition, on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("当前流程"))
    policy = models.JSONField(_("政策参数"), default=dict, blank=True)

    class Meta:
        verbose_name = _("事项政策")
        verbose_name_plural = _("事项政策")

    def __str__(self) -> str:
        return str(self.county_id)


class Category(models.Model):
    """A locality's category tree (邻里纠纷, 耕地, 人居环境 ...)."""

    county = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="+")
    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True,
                               related_name="children")
    code = models.CharField(_("编码"), max_length=40)
    name = models.CharField(_("名称"), max_length=60)
    description = models.CharField(_("说明"), max_length=200, blank=True)
    questions = models.JSONField(_("补充问题"), default=list, blank=True,
                                 help_text=_("登记此类事项时追问的问题（Open311 attributes）"))
    default_department = models.ForeignKey("places.Organisation", on_delete=models.SET_NULL,
                                           null=True, blank=True, related_name="+",
                                           verbose_name=_("默认责任部门"))
    sort_order = models.IntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("事项分类")
        verbose_name_plural = _("事项分类")
        ordering = ["sort_order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["county", "code"], name="category_code_unique"),
        ]

    def __str__(self) -> str:
        return self.name


TRACKING_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I


def new_tracking_code() -> str:
    return "".join(secrets.choice(TRACKING_ALPHABET) for _ in range(10))


class MatterQuerySet(RestrictQuerySet):
    def restrict(self, user, action: str = "view") -> MatterQuerySet:
        qs = super().restrict(user, action)
        if user is not None and getattr(user, "is_authenticated", False):
            qs = qs.filter(not_accused_q(user))
        return qs

    def open(self) -> MatterQuerySet:
        return self.filter(is_closed=False, merged_into__isnull=True)


class Matter(PlaceScoped):
    tracking_code = models.CharField(_("查询码"), max_length=12, unique=True,
                                     default=new_tracking_code)
    title = models.CharField(_("标题"), max_length=120)
    text = models.TextField(_("内容"))
    channel = models.CharField(_("来源渠道"), max_length=20, choices=Channel.choices)
    ledger = models.CharField(_("台账"), max_length=12, choices=Ledger.choices)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="matters", verbose_name=_("分类"))
    urgency = models.CharField(_("紧急程度"), max_length=10, choices=Urgency.choices,
                               default=Urgency.NORMAL)
    attributes = models.JSONField(_("补充信息"), default=dict, blank=True)
    # Who raised it: a registered person, a name and phone, or nobody (anonymous).
    reporter_person = models.ForeignKey("places.Person", on_delete=models.SET_NULL, null=True,
                                        blank=True, related_name="+", verbose_name=_("反映人"))
    reporter_name = models.CharField(_("反映人姓名"), max_length=60, blank=True)
    reporter_phone = models.CharField(_("反映人电话"), max_length=20, blank=True)
    is_anonymous = models.BooleanField(_("匿名"), default=False)
    # A complaint names who it is about; they must never learn who complained.
    accused_organisation = models.ForeignKey("places.Organisation", on_delete=models.SET_NULL,
                                             null=True, blank=True, related_name="+",
                                             verbose_name=_("被投诉单位"))
    accused_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                     null=True, blank=True, related_name="+",
                                     verbose_name=_("被投诉人"))
    # Where it is in the loop.
    workflow = models.ForeignKey(WorkflowDefinition, on_delete=models.PROTECT, related_name="+")
    stage = models.CharField(_("环节"), max_length=40)
    stage_kind = models.CharField(_("环节类型"), max_length=20, choices=StageKind.choices)
    stage_entered_at = models.DateTimeField(default=timezone.now)
    stage_deadline = models.DateTimeField(_("本环节时限"), null=True, blank=True)
    deadline_uncertain = models.BooleanField(_("时限待核"), default=False,
                                             help_text=_("时限跨越日历未知的年份"))
    queue_place = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("所在层级"))
    # Handling (办).
    handling_mode = models.CharField(_("办理方式"), max_length=8, choices=HandlingMode.choices,
                                     blank=True)
    responsible_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                         null=True, blank=True, related_name="+",
                                         verbose_name=_("责任人"))
    responsible_org = models.ForeignKey("places.Organisation", on_delete=models.SET_NULL,
                                        null=True, blank=True, related_name="+",
                                        verbose_name=_("责任单位"))
    due_at = models.DateTimeField(_("办理期限"), null=True, blank=True)
    outcome = models.CharField(_("办理结果"), max_length=12, choices=Outcome.choices, blank=True)
    outcome_text = models.TextField(_("办理情况"), blank=True)
    explanation = models.TextField(_("向群众的解释"), blank=True)
    # Counters and milestones (the figures read these).
    reopen_count = models.PositiveIntegerField(_("重办次数"), default=0)
    escalation_count = models.PositiveIntegerField(_("提级次数"), default=0)
    accepted_at = models.DateTimeField(_("受理时间"), null=True, blank=True)
    feedback_at = models.DateTimeField(_("反馈时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    is_closed = models.BooleanField(_("已办结"), default=False)
    is_public = models.BooleanField(_("公示"), default=False)
    published_at = models.DateTimeField(null=True, blank=True)
    merged_into = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="merged", verbose_name=_("并入"))
    source_ref = models.CharField(_("外部编号"), max_length=64, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                   blank=True, related_name="+")
    created_at = models.DateTimeField(_("登记时间"), default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = MatterQuerySet.as_manager()
    permission_area = "matters"

    class Meta:
        verbose_name = _("事项")
        verbose_name_plural = _("事项")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["county", "is_closed", "stage_deadline"],
                         name="matter_open_due_idx"),
            models.Index(fields=["village", "created_at"], name="matter_village_created_idx"),
            models.Index(fields=["town", "created_at"], name="matter_town_created_idx"),
            models.Index(fields=["queue_place", "is_closed"], name="matter_queue_idx"),
            models.Index(fields=["responsible_org", "is_closed"], name="matter_org_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["county", "channel", "source_ref"], name="matter_source_unique",
                condition=~models.Q(source_ref=""),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tracking_code} {self.title}"

    @property
    def is_complaint(self) -> bool:
        return self.ledger == Ledger.COMPLAINT

    def is_overdue(self, now=None) -> bool:
        now = now or timezone.now()
        return bool(self.stage_deadline and not self.is_closed and self.stage_deadline < now)

    @classmethod
    def extra_scope_q(cls, user, action: str) -> models.Q | None:
        """Department staff see the matters their organisation is responsible for or summoned to;
        a person never sees a complaint made about them or their organisation."""
        if action not in ("view", "handle"):
            return None
        org_id = getattr(user, "organisation_id", None)
        if not org_id:
            return None
        from django.apps import apps

        summons = apps.get_model("handling", "Summons")
        return models.Q(responsible_org_id=org_id) | models.Q(
            pk__in=summons.objects.filter(organisation_id=org_id).values("matter_id")
        )


def reporter_visible_to(user, matter: Matter) -> bool:
    """Whether ``user`` may see who raised ``matter``.

    Ordinary matters: anyone who may see the matter. Complaints (投诉举报): only the roles the
    locality allows (permission ``matters.view_reporter`` at the matter's place), and never the
    person or the organisation complained about, whatever their role.
    """
    from gongzhi.core.access import has_permission

    if not matter.is_complaint:
        return True
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if matter.accused_user_id and matter.accused_user_id == user.pk:
        return False
    if matter.accused_organisation_id and getattr(user, "organisation_id", None) == (
        matter.accused_organisation_id
    ):
        return False
    return has_permission(user, "matters.view_reporter", matter.place)


def not_accused_q(user) -> models.Q:
    """Excludes complaints against the user or the user's organisation."""
    q = ~models.Q(ledger=Ledger.COMPLAINT, accused_user_id=user.pk)
    org_id = getattr(user, "organisation_id", None)
    if org_id:
        q &= ~models.Q(ledger=Ledger.COMPLAINT, accused_organisation_id=org_id)
    return q


class EventKind(models.TextChoices):
    RAISED = "raised", _("登记")
    TRANSITION = "transition", _("流转")
    NOTE = "note", _("进展")
    ASSIGNED = "assigned", _("交办")
    SUMMONS = "summons", _("吹哨")
    CHECK_IN = "check_in", _("报到")
    ESCALATED = "escalated", _("提级上报")
    TRANSFERRED = "transferred", _("移交")
    SUPERVISION = "supervision", _("督办")
    EVALUATION = "evaluation", _("评价")
    REOPENED = "reopened", _("重新办理")
    RETURN_VISIT = "return_visit", _("回访")
    MEDIATION = "mediation", _("调解")
    MERGED = "merged", _("合并")
    PUBLISHED = "published", _("公示")


class MatterEvent(models.Model):
    """The matter's timeline: every step, who took it, when; ``is_public`` ones go on the board."""

    county = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="+")
    matter = models.ForeignKey(Matter, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                              blank=True, related_name="+")
    kind = models.CharField(max_length=16, choices=EventKind.choices)
    transition = models.CharField(max_length=40, blank=True)
    from_stage = models.CharField(max_length=40, blank=True)
    to_stage = models.CharField(max_length=40, blank=True)
    summary = models.CharField(max_length=200, blank=True)
    comment = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    is_public = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("事项记录")
        verbose_name_plural = _("事项记录")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["matter", "at"], name="matterevent_matter_at_idx")]

    def __str__(self) -> str:
        return f"{self.matter_id} {self.kind} {self.summary}"


def matter_upload_to(instance: MatterFile, filename: str) -> str:
    folder = f"matters/{instance.matter.county_id}/{instance.matter_id}"
    return f"{folder}/{secrets.token_hex(8)}-{filename[-60:]}"


class MatterFile(models.Model):
    matter = models.ForeignKey(Matter, on_delete=models.CASCADE, related_name="files")
    event = models.ForeignKey(MatterEvent, on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="files")
    file = models.FileField(upload_to=matter_upload_to)
    name = models.CharField(max_length=120)
    content_type = models.CharField(max_length=80)
    size = models.PositiveIntegerField()
    is_public = models.BooleanField(default=False)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, blank=True, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("附件")
        verbose_name_plural = _("附件")

    def __str__(self) -> str:
        return self.name
