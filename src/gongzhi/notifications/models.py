"""In-app notifications, the outbox of messages to send (email, SMS, WeChat), residents'
preferences and WeChat bindings.

Notifications and outbox rows are written in the same transaction as the change that causes
them; the outbox is delivered after commit by a task (see ``outbox.py`` and ADR 0005).
"""

import datetime as dt
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    """A line in a user's in-app notification list."""

    county = models.ForeignKey("places.Place", on_delete=models.PROTECT, null=True, blank=True,
                               related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="notifications")
    event = models.CharField(max_length=40)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=300, blank=True)
    matter = models.ForeignKey("matters.Matter", on_delete=models.CASCADE, null=True, blank=True,
                               related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("站内通知")
        verbose_name_plural = _("站内通知")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_unread_idx")]

    def __str__(self) -> str:
        return self.title


class Channel(models.TextChoices):
    EMAIL = "email", _("电子邮件")
    SMS = "sms", _("短信")
    WECHAT = "wechat", _("微信")


LANGUAGE_CHOICES = [("zh-hans", "简体中文"), ("en", "English")]


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("待发送")
    SENT = "sent", _("已发送")
    FAILED = "failed", _("发送失败")
    SKIPPED = "skipped", _("不发送")


class OutboxMessage(models.Model):
    """One message to one address on one channel. ``key`` is sent to the gateway as the
    idempotency key, so a message sent again after a crash is dropped there."""

    key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    county = models.ForeignKey("places.Place", on_delete=models.PROTECT, null=True, blank=True,
                               related_name="+")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    to = models.CharField(max_length=200)
    event = models.CharField(max_length=40)
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    matter = models.ForeignKey("matters.Matter", on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="+")
    url = models.CharField(max_length=300, blank=True)
    data = models.JSONField(default=dict, blank=True)
    language = models.CharField(max_length=10, choices=LANGUAGE_CHOICES, default="zh-hans")
    person = models.ForeignKey("places.Person", on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                             blank=True, related_name="+")
    is_resident = models.BooleanField(default=False)
    urgent = models.BooleanField(default=False)
    skip_reason = models.CharField(max_length=200, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    dedupe_key = models.CharField(max_length=120, blank=True,
                                  help_text=_("相同键的消息只发一次"))
    status = models.CharField(max_length=10, choices=OutboxStatus.choices,
                              default=OutboxStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    not_before = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("待发消息")
        verbose_name_plural = _("待发消息")
        ordering = ["created_at"]
        indexes = [models.Index(fields=["status", "not_before"], name="outbox_due_idx")]
        constraints = [
            models.UniqueConstraint(fields=["channel", "dedupe_key"], name="outbox_dedupe_unique",
                                    condition=~models.Q(dedupe_key="")),
        ]

    def __str__(self) -> str:
        return f"{self.channel}:{self.to} {self.event}"


class Preference(models.Model):
    """How a resident (or anyone with a phone number) wants to be told: language, quiet hours,
    opt-outs. Keyed by the phone number, which is what matters' reporters leave; managed from
    a signed no-login link in messages and by staff on the person's record."""

    county = models.ForeignKey("places.Place", on_delete=models.PROTECT, null=True, blank=True,
                               related_name="+")
    phone = models.CharField(_("手机号"), max_length=20, unique=True)
    person = models.ForeignKey("places.Person", on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="+")
    language = models.CharField(_("语言"), max_length=10, choices=LANGUAGE_CHOICES,
                                default="zh-hans")
    quiet_start = models.TimeField(_("免打扰开始"), default=dt.time(22, 0))
    quiet_end = models.TimeField(_("免打扰结束"), default=dt.time(8, 0))
    opt_out_all = models.BooleanField(_("不接收任何消息"), default=False)
    opt_out_sms = models.BooleanField(_("不接收短信"), default=False)
    opt_out_wechat = models.BooleanField(_("不接收微信消息"), default=False)
    opt_out_email = models.BooleanField(_("不接收电子邮件"), default=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("通知偏好")
        verbose_name_plural = _("通知偏好")

    def __str__(self) -> str:
        return self.phone

    def opted_out(self, channel: str) -> bool:
        return self.opt_out_all or bool(getattr(self, f"opt_out_{channel}", False))


class WeChatBinding(models.Model):
    """The openid under the official account of a person, a user or a phone number (one each).

    Residents bind by phone themselves, through WeChat's web authorisation from their signed
    preferences link; staff bindings name the person or the user."""

    county = models.ForeignKey("places.Place", on_delete=models.PROTECT, null=True, blank=True,
                               related_name="+")
    openid = models.CharField(max_length=64, unique=True)
    person = models.OneToOneField("places.Person", on_delete=models.CASCADE, null=True,
                                  blank=True, related_name="wechat_binding")
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True,
                                blank=True, related_name="wechat_binding")
    phone = models.CharField(_("手机号"), max_length=20, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("微信绑定")
        verbose_name_plural = _("微信绑定")
        constraints = [
            models.UniqueConstraint(fields=["phone"], name="wechat_binding_phone_unique",
                                    condition=~models.Q(phone="")),
        ]

    def __str__(self) -> str:
        return self.openid
