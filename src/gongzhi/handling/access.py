"""Who may act on a matter where it now waits, and which summonses a user may see.

A permission acts on a matter only through a grant that covers the matter's place *and* sits
at or above the level of the queue the matter waits in (as ``workflow.role_holds`` does for
roles): once a matter is escalated to the town, village cadres still read it, but the town
assigns, summons and escalates it.
"""

from __future__ import annotations

from django.db.models import QuerySet

from gongzhi.core.access import grants_with, token_allows
from gongzhi.matters.models import Matter
from gongzhi.places.models import LEVELS

from .models import Summons


def may_act(user, permission: str, matter: Matter) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return token_allows(user, permission)
    queue_level = LEVELS.index(matter.queue_place.kind)
    place = matter.place
    return any(
        place.ancestor_id(g.kind) == g.place_id and LEVELS.index(g.kind) <= queue_level
        for g in grants_with(user, permission)
    )


def visible_summons(user) -> QuerySet[Summons]:
    """Summonses on matters the user may see (the one access path for summonses)."""
    return Summons.objects.filter(
        matter_id__in=Matter.objects.restrict(user, "view").values("pk")
    )


def organisation_summons(user) -> QuerySet[Summons]:
    """The summonses of the user's own organisation (a department's 待报到 list)."""
    org_id = getattr(user, "organisation_id", None)
    if not org_id:
        return Summons.objects.none()
    return visible_summons(user).filter(organisation_id=org_id)
