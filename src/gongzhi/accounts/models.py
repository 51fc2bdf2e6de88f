"""Users, the roles granted to them at places, and API tokens."""

import hashlib
import secrets

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gongzhi.core.access import RestrictQuerySet

from .roles import Role


class User(AbstractUser):
    """A login. Linked to a person (residents, cadres) or an organisation (department staff)."""

    display_name = models.CharField(_("显示名"), max_length=60, blank=True)
    person = models.ForeignKey("places.Person", on_delete=models.SET_NULL, null=True,
                               blank=True, related_name="users", verbose_name=_("人员"))
    organisation = models.ForeignKey("places.Organisation", on_delete=models.SET_NULL,
                                     null=True, blank=True, related_name="users",
                                     verbose_name=_("所属组织"))
    county = models.ForeignKey("places.Place", on_delete=models.PROTECT, null=True, blank=True,
                               related_name="+", verbose_name=_("所属县/区"))
    phone = models.CharField(_("手机号"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def __str__(self) -> str:
        return self.display_name or self.username


class RoleGrant(models.Model):
    """A role held at a place; it covers everything beneath the place."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="grants")
    role = models.CharField(_("角色"), max_length=32, choices=Role.choices)
    place = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="+",
                              verbose_name=_("授权地点"))
    county = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="+")
    is_active = models.BooleanField(default=True)
    granted_at = models.DateTimeField(default=timezone.now)

    objects = RestrictQuerySet.as_manager()
    permission_area = "accounts"
    scope_prefix = "place__"

    class Meta:
        verbose_name = _("角色授权")
        verbose_name_plural = _("角色授权")
        constraints = [
            models.UniqueConstraint(fields=["user", "role", "place"], name="grant_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} @ {self.place}"


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    """A bearer token for a user or an integration. Only its hash is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("名称"), max_length=80)
    prefix = models.CharField(max_length=12, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    scopes = models.JSONField(_("允许的操作"), default=list, blank=True,
                              help_text=_("为空表示继承用户的全部权限"))
    places = models.ManyToManyField(
        "places.Place", blank=True, related_name="+", verbose_name=_("限定地点"),
        help_text=_("为空表示用户角色所及的全部地点"))
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("接口令牌")
        verbose_name_plural = _("接口令牌")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def generate() -> str:
        return "gz_" + secrets.token_urlsafe(32)

    def is_valid(self) -> bool:
        now = timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)
