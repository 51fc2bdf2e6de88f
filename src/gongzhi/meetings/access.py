"""Where a user may act in 议事.

Meetings and topics belong to a village. Grants at or above the village reach them through the
usual place columns (``core.access``); a grant *below* the village — a grid worker's grid, a
resident's household — reaches the meetings and topics of the village it lies in (a resident
proposes and seconds topics for their own village; a grid worker sees its meetings). Models
use :func:`lower_grant_q` as their ``extra_scope_q``, so ``Meeting.objects.restrict`` and
``Topic.objects.restrict`` stay the one access path.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from gongzhi.core.access import grants_with, has_permission, scope_q, token_allows
from gongzhi.places.models import Place, PlaceKind

BELOW_VILLAGE = (PlaceKind.GRID, PlaceKind.BUILDING, PlaceKind.HOUSEHOLD)


def lower_grant_q(user, permission: str, prefix: str = "") -> Q | None:
    """Rows in the villages of the user's grants below the village level, or None."""
    ids = [g.place_id for g in grants_with(user, permission) if g.kind in BELOW_VILLAGE]
    if not ids:
        return None
    villages = Place.objects.filter(pk__in=ids).values("village_id")
    return Q(**{f"{prefix}village_id__in": villages})


def villages_for(user, permission: str) -> QuerySet[Place]:
    """The villages where ``user`` holds ``permission`` (directly, above, or below them)."""
    qs = Place.objects.filter(kind=PlaceKind.VILLAGE, is_active=True)
    if user is None or not getattr(user, "is_authenticated", False):
        return qs.none()
    if user.is_superuser:
        return qs if token_allows(user, permission) else qs.none()
    q = scope_q(user, permission)
    lower = lower_grant_q(user, permission, prefix="")
    if lower is not None:
        ids = [g.place_id for g in grants_with(user, permission) if g.kind in BELOW_VILLAGE]
        lower = Q(pk__in=Place.objects.filter(pk__in=ids).values("village_id"))
    if q is None and lower is None:
        return qs.none()
    combined = q if lower is None else (lower if q is None else q | lower)
    return qs.filter(combined).order_by("town_id", "sort_order", "pk")


def may_at_village(user, permission: str, village: Place) -> bool:
    """Whether ``user`` holds ``permission`` for ``village`` (a grant below it counts)."""
    if has_permission(user, permission, village):
        return True
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    ids = [g.place_id for g in grants_with(user, permission) if g.kind in BELOW_VILLAGE]
    return bool(ids) and Place.objects.filter(pk__in=ids, village_id=village.pk).exists()
