"""Outgoing webhooks: a county's subscriptions and the deliveries written for them.

A delivery row is written in the same transaction as the event (through the audit log's
listener), and sent after commit by a task, signed, with retries (see ``delivery.py``).
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gongzhi.core.access import RestrictQuerySet
from gongzhi.places.models import PlaceScoped


class EventType(models.TextChoices):
    MATTER_RAISED = "matter.raised", _("事项登记")
    MATTER_TRANSITIONED = "matter.transitioned", _("事项流转")
    MATTER_CLOSED = "matter.closed", _("事项办结")
    MATTER_REOPENED = "matter.reopened", _("事项重办")
    MATTER_EVALUATED = "matter.evaluated", _("事项评价")
    MEETING_SCHEDULED = "meeting.scheduled", _("会议安排")
    MEETING_RESOLUTION = "meeting.resolution", _("会议决议")
    MEETING_MINUTES = "meeting.minutes_published", _("会议纪要发布")


class Subscription(PlaceScoped):
    """Where a county's events are posted, and which of them."""

    url = models.URLField(_("接收地址"), max_length=500)
    secret = models.CharField(_("签名密钥"), max_length=128)
    event_types = models.JSONField(_("事件类型"), default=list)
    description = models.CharField(_("说明"), max_length=200, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    objects = RestrictQuerySet.as_manager()
    permission_area = "webhooks"

    class Meta:
        verbose_name = _("事件推送订阅")
        verbose_name_plural = _("事件推送订阅")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.url


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("待发送")
    SENT = "sent", _("已送达")
    FAILED = "failed", _("发送失败")


class Delivery(models.Model):
    """One event for one subscription. ``key`` is sent as ``X-Gongzhi-Delivery`` so the
    receiver can drop a repeat."""

    key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    county = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="+")
    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE,
                                     related_name="deliveries")
    event_type = models.CharField(max_length=40, choices=EventType.choices)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices,
                              default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    not_before = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("推送记录")
        verbose_name_plural = _("推送记录")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "not_before"], name="webhook_due_idx")]

    def __str__(self) -> str:
        return f"{self.event_type} {self.key}"


class Attempt(models.Model):
    """The log of one try: when, what the receiver answered, how long it took."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="log")
    at = models.DateTimeField(default=timezone.now)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.delivery_id} {self.status_code or self.error[:40]}"
