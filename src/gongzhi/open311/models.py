"""Open311 GeoReport v2: the questions asked per service, the keys issued to apps, and what an
app sent with each request.

- :class:`ServiceQuestion` — a category's extra question (an Open311 *attribute*). The
  category's preset questions (``Category.questions``) are the defaults; a question here with
  the same code replaces one of them, and an inactive one hides it.
- :class:`AppKey` — an ``api_key`` issued to an app for one county; only its hash is stored.
- :class:`ServiceRequest` — the Open311 side of a matter raised through the API: which key
  sent it, the token, and the submitter's contact data (never shown in public output).
"""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gongzhi.core.access import RestrictQuerySet
from gongzhi.places.models import PlaceScoped


class Datatype(models.TextChoices):
    STRING = "string", _("单行文字")
    NUMBER = "number", _("数字")
    DATETIME = "datetime", _("日期时间")
    TEXT = "text", _("多行文字")
    SINGLE = "singlevaluelist", _("单选")
    MULTI = "multivaluelist", _("多选")


LIST_TYPES = (Datatype.SINGLE, Datatype.MULTI)


class ServiceQuestion(PlaceScoped):
    """One extra question asked when a matter of ``category`` is raised through Open311."""

    category = models.ForeignKey("matters.Category", on_delete=models.PROTECT,
                                 related_name="open311_questions", verbose_name=_("事项分类"))
    code = models.CharField(_("编码"), max_length=40)
    datatype = models.CharField(_("类型"), max_length=20, choices=Datatype.choices,
                                default=Datatype.STRING)
    required = models.BooleanField(_("必填"), default=False)
    variable = models.BooleanField(_("需要填写"), default=True,
                                   help_text=_("不勾选表示只向群众显示说明，不需要填写"))
    description = models.CharField(_("问题"), max_length=200)
    datatype_description = models.CharField(_("填写说明"), max_length=200, blank=True)
    order = models.PositiveIntegerField(_("顺序"), default=1)
    values = models.JSONField(_("选项"), default=list, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RestrictQuerySet.as_manager()
    permission_area = "open311"

    class Meta:
        verbose_name = _("Open311 补充问题")
        verbose_name_plural = _("Open311 补充问题")
        ordering = ["category_id", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["category", "code"],
                                    name="open311_question_code_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.description}"

    def as_attribute(self) -> dict:
        return {"variable": self.variable, "code": self.code, "datatype": self.datatype,
                "required": self.required,
                "datatype_description": self.datatype_description or None,
                "order": self.order, "description": self.description,
                "values": list(self.values or []) if self.datatype in LIST_TYPES else []}


def hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


class AppKey(PlaceScoped):
    """An ``api_key`` issued to one app for one county (``place`` is the county)."""

    name = models.CharField(_("应用名称"), max_length=80)
    prefix = models.CharField(max_length=12, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = RestrictQuerySet.as_manager()
    permission_area = "open311"

    class Meta:
        verbose_name = _("Open311 应用密钥")
        verbose_name_plural = _("Open311 应用密钥")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def generate() -> str:
        return "o311_" + secrets.token_urlsafe(32)

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


def new_token() -> str:
    return secrets.token_hex(16)


class ServiceRequest(models.Model):
    """What an app sent with a matter; private (the public output reads the matter only)."""

    matter = models.OneToOneField("matters.Matter", on_delete=models.CASCADE,
                                  related_name="open311", primary_key=True)
    county = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="+")
    app_key = models.ForeignKey(AppKey, on_delete=models.PROTECT, related_name="requests")
    token = models.CharField(max_length=32, unique=True, default=new_token)
    service_code = models.CharField(max_length=40)
    lat = models.FloatField(null=True, blank=True)
    long = models.FloatField(null=True, blank=True)
    address_string = models.CharField(max_length=300, blank=True)
    address_id = models.CharField(max_length=64, blank=True)
    email = models.CharField(max_length=254, blank=True)
    device_id = models.CharField(max_length=120, blank=True)
    account_id = models.CharField(max_length=120, blank=True)
    first_name = models.CharField(max_length=60, blank=True)
    last_name = models.CharField(max_length=60, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    media_url = models.URLField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("Open311 请求")
        verbose_name_plural = _("Open311 请求")

    def __str__(self) -> str:
        return f"{self.matter_id} ({self.service_code})"
