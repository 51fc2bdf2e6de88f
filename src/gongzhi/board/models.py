"""晒: honour and shame lists (红黑榜), and matters taken off the public board by hand.

Matters themselves carry ``is_public`` and ``published_at`` (set by
:func:`gongzhi.board.actions.do_publish_matter`); what this app stores is what the matter loop
does not: the lists, their entries, and the record of a matter withdrawn from the board.

A list goes draft → submitted → approved → published, and may be withdrawn (with a reason)
once published; only published lists appear on the board. Every step is an action in
``actions.py``, audited.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gongzhi.core.access import RestrictQuerySet
from gongzhi.places.models import PlaceScoped


class ListKind(models.TextChoices):
    HONOUR = "red", _("红榜")
    SHAME = "black", _("黑榜")


class ListStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("待审批")
    APPROVED = "approved", _("已审批")
    PUBLISHED = "published", _("已发布")
    WITHDRAWN = "withdrawn", _("已撤回")


class EntryKind(models.TextChoices):
    PERSON = "person", _("个人")
    HOUSEHOLD = "household", _("户")
    UNIT = "unit", _("单位")
    ORGANISATION = "organisation", _("组织")


class HonourList(PlaceScoped):
    """A 红榜 or 黑榜 of a county, town or village for a period."""

    kind = models.CharField(_("榜单类型"), max_length=8, choices=ListKind.choices)
    title = models.CharField(_("标题"), max_length=120)
    period_label = models.CharField(_("期别"), max_length=40,
                                    help_text=_("例如“2026年第一季度”"))
    period_start = models.DateField(_("起始日期"))
    period_end = models.DateField(_("截止日期"))
    intro = models.TextField(_("说明"), blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=ListStatus.choices,
                              default=ListStatus.DRAFT)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+",
                                   verbose_name=_("编制人"))
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                     null=True, blank=True, related_name="+")
    submitted_at = models.DateTimeField(null=True, blank=True)
    returned_reason = models.CharField(_("退回原因"), max_length=300, blank=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, blank=True, related_name="+",
                                    verbose_name=_("审批人"))
    approved_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                     null=True, blank=True, related_name="+")
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                     null=True, blank=True, related_name="+")
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdraw_reason = models.CharField(_("撤回原因"), max_length=300, blank=True)

    objects = RestrictQuerySet.as_manager()
    permission_area = "board"

    class Meta:
        verbose_name = _("红黑榜")
        verbose_name_plural = _("红黑榜")
        ordering = ["-period_end", "-id"]
        indexes = [
            models.Index(fields=["status", "published_at"], name="honourlist_published_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(period_start__lte=models.F("period_end")),
                                   name="honourlist_period_order"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.title}"

    @property
    def is_editable(self) -> bool:
        return self.status == ListStatus.DRAFT


class HonourEntry(models.Model):
    """One name on a list, with the reason it is there. Names are published as written."""

    honour_list = models.ForeignKey(HonourList, on_delete=models.CASCADE, related_name="entries")
    kind = models.CharField(_("对象类型"), max_length=14, choices=EntryKind.choices,
                            default=EntryKind.PERSON)
    name = models.CharField(_("名称"), max_length=120)
    reason = models.CharField(_("事由"), max_length=300)
    sort_order = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("榜单条目")
        verbose_name_plural = _("榜单条目")
        ordering = ["sort_order", "id"]

    def __str__(self) -> str:
        return self.name


class Withdrawal(models.Model):
    """A matter taken off the public board by hand; the policy never publishes it again."""

    county = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="+")
    matter = models.ForeignKey("matters.Matter", on_delete=models.CASCADE,
                               related_name="board_withdrawals")
    reason = models.CharField(_("撤下原因"), max_length=300)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                           blank=True, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("撤下公示")
        verbose_name_plural = _("撤下公示")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.matter_id} {self.at:%Y-%m-%d}"
