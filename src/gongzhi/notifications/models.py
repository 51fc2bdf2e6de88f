"""In-app notifications and the outbox of messages to send (email now; SMS and WeChat later).

Both are written in the same transaction as the change that causes them; the outbox is
delivered after commit by a task, and a message is marked sent under a row lock, so a crash
between commit and delivery delays a message but never sends it twice.
"""

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


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("待发送")
    SENT = "sent", _("已发送")
    FAILED = "failed", _("发送失败")
    SKIPPED = "skipped", _("不发送")


class OutboxMessage(models.Model):
    county = models.ForeignKey("places.Place", on_delete=models.PROTECT, null=True, blank=True,
                               related_name="+")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    to = models.CharField(max_length=200)
    event = models.CharField(max_length=40)
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    matter = models.ForeignKey("matters.Matter", on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="+")
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
