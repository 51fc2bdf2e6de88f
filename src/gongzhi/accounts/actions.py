"""Every write to accounts: users, role grants, API tokens. Atomic and audited."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.audit.log import record
from gongzhi.core.access import has_permission
from gongzhi.core.errors import ActionError, ActionForbidden
from gongzhi.places.models import Organisation, Person, Place

from .models import ApiToken, RoleGrant, User, hash_token
from .roles import Role


def _require_manage(acting_user, place: Place | None, permission: str = "accounts.manage"):
    if acting_user is not None and not has_permission(acting_user, permission, place):
        raise ActionForbidden(_("您没有管理账号的权限。"))


@transaction.atomic
def do_create_user(username: str, *, acting_user, password: str | None = None,
                   display_name: str = "", county: Place | None = None,
                   person: Person | None = None, organisation: Organisation | None = None,
                   phone: str = "") -> User:
    _require_manage(acting_user, county)
    username = (username or "").strip()
    if not username:
        raise ActionError(_("请填写用户名。"))
    if User.objects.filter(username=username).exists():
        raise ActionError(_("用户名 %(u)s 已存在。") % {"u": username})
    user = User(username=username, display_name=display_name, county=county, person=person,
                organisation=organisation, phone=phone)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save(force_insert=True)
    record("accounts.user.create", actor=acting_user, obj=user,
           county_id=county.pk if county else None,
           after={"username": username, "display_name": display_name,
                  "person": person.pk if person else None,
                  "organisation": organisation.pk if organisation else None})
    return user


@transaction.atomic
def do_grant_role(user: User, role: str, place: Place, *, acting_user) -> RoleGrant:
    _require_manage(acting_user, place)
    if role not in Role.values:
        raise ActionError(_("未知的角色：%(r)s。") % {"r": role})
    grant, created = RoleGrant.objects.get_or_create(
        user=user, role=role, place=place,
        defaults={"county_id": place.ancestor_id("county")},
    )
    if not created and not grant.is_active:
        grant.is_active = True
        grant.save(update_fields=["is_active"])
    user.__dict__.pop("_gongzhi_grants", None)
    record("accounts.role.grant", actor=acting_user, obj=grant, county_id=grant.county_id,
           after={"user": user.pk, "role": role, "place": place.pk})
    return grant


@transaction.atomic
def do_revoke_role(grant: RoleGrant, *, acting_user) -> RoleGrant:
    _require_manage(acting_user, grant.place)
    grant.is_active = False
    grant.save(update_fields=["is_active"])
    grant.user.__dict__.pop("_gongzhi_grants", None)
    record("accounts.role.revoke", actor=acting_user, obj=grant, county_id=grant.county_id,
           before={"is_active": True}, after={"is_active": False})
    return grant


@transaction.atomic
def do_create_token(user: User, name: str, *, acting_user, scopes: list[str] | None = None,
                    expires_at: datetime | None = None,
                    places: list | None = None) -> tuple[ApiToken, str]:
    """Create a bearer token; returns it with the raw key, which is shown once and never stored.

    ``places`` narrows the token to those places (and what lies beneath them): its user's roles
    hold only there. A superuser's token cannot be narrowed by place (a superuser holds no
    grants to narrow); give the integration its own user with roles instead."""
    if acting_user is not None and acting_user != user:
        _require_manage(acting_user, user.county, "accounts.tokens")
    if not (name or "").strip():
        raise ActionError(_("请为令牌命名。"))
    from gongzhi.core.registry import registry

    unknown = sorted(set(scopes or []) - set(registry.permissions))
    if unknown:
        raise ActionError(_("未知的权限范围：%(s)s。") % {"s": "、".join(unknown)})
    if places and user.is_superuser:
        raise ActionError(_("超级用户的令牌不能限定地点，请为对接系统建立带角色的专用账号。"))
    raw = ApiToken.generate()
    token = ApiToken.objects.create(user=user, name=name.strip(), prefix=raw[:10],
                                    key_hash=hash_token(raw), scopes=list(scopes or []),
                                    expires_at=expires_at)
    if places:
        token.places.set(places)
    record("accounts.token.create", actor=acting_user, obj=token, county_id=user.county_id,
           after={"user": user.pk, "name": token.name, "prefix": token.prefix,
                  "scopes": token.scopes, "places": sorted(p.pk for p in places or [])})
    return token, raw


@transaction.atomic
def do_revoke_token(token: ApiToken, *, acting_user) -> ApiToken:
    if acting_user is not None and acting_user != token.user:
        _require_manage(acting_user, token.user.county, "accounts.tokens")
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    record("accounts.token.revoke", actor=acting_user, obj=token,
           county_id=token.user.county_id, after={"revoked_at": token.revoked_at})
    return token
