"""The one access path: ``Model.objects.restrict(user, action)``.

A user holds roles granted at places (``accounts.RoleGrant``); a role holds permissions
(``core.registry``); a grant at a place covers everything beneath it. A model says which
permission area it belongs to (``permission_area``) and how to reach its place columns
(``scope_prefix``, empty for :class:`~gongzhi.places.models.PlaceScoped` rows). Pages, the
API, exports and the board all load objects through :meth:`RestrictQuerySet.restrict`;
an object outside the result is, to the requester, an object that does not exist (404).

A request authenticated by an API token with ``scopes`` holds at most those permissions: the
API's token authentication puts the token on the user (``user.api_token``) and every check
here intersects with it, so a scoped token narrows pages, API and exports alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import models

from .registry import registry

if TYPE_CHECKING:
    from gongzhi.places.models import Place


@dataclass(frozen=True)
class Grant:
    role: str
    kind: str  # the level of the place the role is granted at
    place_id: int
    county_id: int


def user_grants(user) -> list[Grant]:
    """The user's role grants, loaded once per user object (so once per request)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    cached = getattr(user, "_gongzhi_grants", None)
    if cached is None:
        from gongzhi.accounts.models import RoleGrant

        cached = [
            Grant(role, kind, place_id, county_id)
            for role, kind, place_id, county_id in RoleGrant.objects.filter(
                user=user, is_active=True
            ).values_list("role", "place__kind", "place_id", "county_id")
        ]
        user._gongzhi_grants = cached
    return cached


def token_allows(user, permission: str) -> bool:
    """False when the request came with an API token whose ``scopes`` leave out ``permission``.

    A token with no scopes carries all of its user's permissions; one with scopes carries only
    those of them that are listed (never more than the user holds).
    """
    token = getattr(user, "api_token", None)
    scopes = getattr(token, "scopes", None)
    return not scopes or permission in scopes


def grants_with(user, permission: str) -> list[Grant]:
    if not token_allows(user, permission):
        return []
    roles = registry.roles_with(permission)
    return [g for g in user_grants(user) if g.role in roles]


def has_permission(user, permission: str, place: Place | None = None) -> bool:
    """Whether the user holds ``permission`` at ``place`` (or anywhere, if no place is given)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return token_allows(user, permission)
    grants = grants_with(user, permission)
    if place is None:
        return bool(grants)
    return any(place.ancestor_id(g.kind) == g.place_id for g in grants)


def root_places(user, permission: str, kinds: tuple[str, ...] | None = None) -> list[Place]:
    """The places where ``user`` holds ``permission`` (of ``kinds``, if given), without those
    beneath another of them, highest first: where a workbench or dashboard starts."""
    from gongzhi.places.models import Place

    if getattr(user, "is_superuser", False):
        return list(Place.objects.filter(kind="county").order_by("sort_order", "pk"))
    ids = {g.place_id for g in grants_with(user, permission)}
    places = Place.objects.filter(pk__in=ids)
    if kinds is not None:
        places = places.filter(kind__in=kinds)
    places = list(places)
    tops = [p for p in places
            if not any(o.pk != p.pk and p.ancestor_id(o.kind) == o.pk for o in places)]
    return sorted(tops, key=lambda p: (p.level, p.sort_order, p.pk))


def scope_q(user, permission: str, prefix: str = "") -> models.Q | None:
    """A Q selecting rows under the places where the user holds ``permission``; None if none."""
    grants = grants_with(user, permission)
    if not grants:
        return None
    q = models.Q()
    for g in grants:
        q |= models.Q(**{f"{prefix}{g.kind}_id": g.place_id})
    return q


class RestrictQuerySet(models.QuerySet):
    def restrict(self, user, action: str = "view") -> RestrictQuerySet:
        model = self.model
        permission = f"{model.permission_area}.{action}"
        if user is None or not getattr(user, "is_authenticated", False):
            return self.none()
        if not token_allows(user, permission):
            return self.none()
        if user.is_superuser:
            return self
        q = scope_q(user, permission, getattr(model, "scope_prefix", ""))
        extra = getattr(model, "extra_scope_q", None)
        extra_q = extra(user, action) if extra else None
        if q is None and extra_q is None:
            return self.none()
        combined = q if extra_q is None else (extra_q if q is None else q | extra_q)
        return self.filter(combined)
