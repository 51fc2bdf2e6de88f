"""Who hears about a matter's deadlines and supervision: the people answerable for it, the staff
of the queue it waits in, and the holders of a role of the supervision chain above it.

A complaint's accused person, and the staff of an accused organisation, are never told about
the complaint (they may not see it at all).
"""

from __future__ import annotations

from django.urls import NoReverseMatch, reverse

from gongzhi.accounts.models import User
from gongzhi.core.registry import registry


def _visible(matter, users) -> list[User]:
    out, seen = [], set()
    for user in users:
        if user is None or user.pk in seen or not user.is_active:
            continue
        if matter.is_complaint and (
            user.pk == matter.accused_user_id
            or (matter.accused_organisation_id
                and user.organisation_id == matter.accused_organisation_id)
        ):
            continue
        seen.add(user.pk)
        out.append(user)
    return out


def responsible_users(matter) -> list[User]:
    """The responsible person and the staff of the responsible unit."""
    users = []
    if matter.responsible_user_id:
        users.append(matter.responsible_user)
    if matter.responsible_org_id:
        users += list(User.objects.filter(organisation_id=matter.responsible_org_id,
                                          is_active=True).order_by("pk"))
    return _visible(matter, users)


def queue_staff(matter) -> list[User]:
    """Those who dispatch the queue the matter waits in (``matters.assign`` granted there)."""
    roles = registry.roles_with("matters.assign")
    users = User.objects.filter(grants__place_id=matter.queue_place_id, grants__role__in=roles,
                                grants__is_active=True, is_active=True).distinct().order_by("pk")
    return _visible(matter, users)


def role_holders(matter, role: str) -> list[User]:
    """Holders of ``role`` granted at the matter's place or any place above it."""
    places = matter.place.ancestor_ids() if matter.place_id else [matter.county_id]
    users = User.objects.filter(grants__role=role, grants__place_id__in=places,
                                grants__is_active=True, is_active=True).distinct().order_by("pk")
    return _visible(matter, users)


def matter_url(matter) -> str:
    """The matter's page, when the matters app serves one."""
    for name in ("matters:detail", "matters:matter"):
        try:
            return reverse(name, args=[matter.pk])
        except NoReverseMatch:
            continue
    return ""
