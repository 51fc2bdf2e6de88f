"""接诉即办: the county's connection to the 12345 hotline, the orders it sent, what we push back
to it, and the log of every exchange.

A :class:`Connection` belongs to a county. Its two secrets are never stored: each is derived
from the server's key and a random salt kept on the row (see :mod:`.signing`), shown once when
made and replaced by rotating the salt. A :class:`HotlineOrder` ties the hotline's order id to
the matter it became (one matter per order: unique on connection and order id). What we tell
the hotline is written to :class:`OutboundMessage` in the transaction of the change and sent
after commit; every request in or out is an :class:`Exchange`.
"""

from __future__ import annotations

import secrets

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gongzhi.core.access import RestrictQuerySet
from gongzhi.places.models import PlaceScoped


def new_key() -> str:
    return secrets.token_urlsafe(12)


def new_salt() -> str:
    return secrets.token_hex(16)


class Connection(PlaceScoped):
    """One county's link to its 12345 hotline (``place`` is the county)."""

    name = models.CharField(_("名称"), max_length=80)
    key = models.CharField(_("接入标识"), max_length=40, unique=True, default=new_key,
                           help_text=_("出现在接收地址中，不是密钥"))
    inbound_salt = models.CharField(max_length=64, default=new_salt)
    outbound_salt = models.CharField(max_length=64, default=new_salt)
    outbound_url = models.URLField(_("热线接收地址"), max_length=300, blank=True,
                                   help_text=_("签收、退单、办结反馈和回访结果推送到这里"))
    is_active = models.BooleanField(_("启用"), default=True)
    default_place = models.ForeignKey("places.Place", on_delete=models.PROTECT,
                                      related_name="+", verbose_name=_("默认承办地点"),
                                      help_text=_("工单的地点无法识别时进入这里的队列"))
    category_map = models.JSONField(_("分类对照"), default=dict, blank=True,
                                    help_text=_("热线分类 → 本地分类编码"))
    secrets_rotated_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now)

    objects = RestrictQuerySet.as_manager()
    permission_area = "hotline"

    class Meta:
        verbose_name = _("12345热线对接")
        verbose_name_plural = _("12345热线对接")
        ordering = ["county_id", "name"]

    def __str__(self) -> str:
        return self.name


class Classification(models.TextChoices):
    CONSULT = "咨询", _("咨询")
    HELP = "求助", _("求助")
    COMPLAINT = "投诉", _("投诉")
    REPORT = "举报", _("举报")
    SUGGESTION = "建议", _("建议")


class OrderStatus(models.TextChoices):
    OPEN = "open", _("办理中")
    RETURNED = "returned", _("已退单")
    WITHDRAWN = "withdrawn", _("热线已撤单")
    CLOSED = "closed", _("已办结")


class HotlineOrder(PlaceScoped):
    """A 12345 work order and the matter it became (``place`` is the matter's place)."""

    connection = models.ForeignKey(Connection, on_delete=models.PROTECT, related_name="orders")
    order_id = models.CharField(_("热线工单号"), max_length=64)
    matter = models.OneToOneField("matters.Matter", on_delete=models.PROTECT,
                                  related_name="hotline_order")
    classification = models.CharField(_("诉求类型"), max_length=4,
                                      choices=Classification.choices)
    hotline_category = models.CharField(_("热线分类"), max_length=80, blank=True)
    hotline_deadline = models.DateTimeField(_("热线时限"), null=True, blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=OrderStatus.choices,
                              default=OrderStatus.OPEN)
    urge_count = models.PositiveIntegerField(_("催办次数"), default=0)
    last_urged_at = models.DateTimeField(null=True, blank=True)
    visit_result = models.JSONField(_("热线回访结果"), default=dict, blank=True)
    received_at = models.DateTimeField(default=timezone.now)

    objects = RestrictQuerySet.as_manager()
    permission_area = "hotline"

    class Meta:
        verbose_name = _("12345工单")
        verbose_name_plural = _("12345工单")
        constraints = [
            models.UniqueConstraint(fields=["connection", "order_id"],
                                    name="hotline_order_unique"),
        ]

    def __str__(self) -> str:
        return self.order_id


class Nonce(models.Model):
    """Signatures already accepted, kept for the replay window (a replay is refused)."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="+")
    signature = models.CharField(max_length=64)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["connection", "signature"],
                                    name="hotline_nonce_unique"),
        ]

    def __str__(self) -> str:
        return self.signature[:12]


class OutboundKind(models.TextChoices):
    ACCEPT = "accept", _("签收")
    RETURN = "return", _("退单（派单异议）")
    RESULT = "result", _("办结反馈")
    RETURN_VISIT = "return_visit", _("回访结果")


class OutboundStatus(models.TextChoices):
    PENDING = "pending", _("待推送")
    SENT = "sent", _("已推送")
    FAILED = "failed", _("推送失败")


class OutboundMessage(models.Model):
    """What we tell the hotline, written in the transaction of the change, sent after commit."""

    county = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="+")
    connection = models.ForeignKey(Connection, on_delete=models.PROTECT, related_name="outbox")
    order = models.ForeignKey(HotlineOrder, on_delete=models.PROTECT, related_name="outbox")
    kind = models.CharField(max_length=16, choices=OutboundKind.choices)
    payload = models.JSONField()
    dedupe_key = models.CharField(max_length=120, unique=True)
    status = models.CharField(max_length=10, choices=OutboundStatus.choices,
                              default=OutboundStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    not_before = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("待推送的热线消息")
        verbose_name_plural = _("待推送的热线消息")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["status", "not_before"], name="hotline_outbox_due_idx")]

    def __str__(self) -> str:
        return f"{self.order_id} {self.kind} {self.status}"


class Direction(models.TextChoices):
    IN = "in", _("接收")
    OUT = "out", _("推送")


class Exchange(models.Model):
    """One request in or out, whatever came of it (the exchange log)."""

    county = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="+")
    connection = models.ForeignKey(Connection, on_delete=models.CASCADE,
                                   related_name="exchanges")
    direction = models.CharField(_("方向"), max_length=3, choices=Direction.choices)
    kind = models.CharField(_("类型"), max_length=16)
    order_ref = models.CharField(_("热线工单号"), max_length=64, blank=True)
    matter = models.ForeignKey("matters.Matter", on_delete=models.SET_NULL, null=True,
                               blank=True, related_name="+")
    message = models.ForeignKey(OutboundMessage, on_delete=models.SET_NULL, null=True,
                                blank=True, related_name="exchanges")
    attempt = models.PositiveSmallIntegerField(default=0)
    url = models.CharField(max_length=300, blank=True)
    request_body = models.TextField(_("请求内容"), blank=True)
    status_code = models.PositiveSmallIntegerField(_("状态码"), null=True, blank=True)
    response_excerpt = models.TextField(_("响应摘要"), blank=True)
    error = models.CharField(_("错误"), max_length=300, blank=True)
    duration_ms = models.PositiveIntegerField(_("耗时（毫秒）"), default=0)
    at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        verbose_name = _("热线交互记录")
        verbose_name_plural = _("热线交互记录")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["connection", "at"], name="hotline_exchange_at_idx")]

    def __str__(self) -> str:
        return f"{self.direction} {self.kind} {self.status_code}"
