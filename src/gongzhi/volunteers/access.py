"""Who reaches which teams, menu items, activities and orders.

Staff lists load through ``Model.objects.restrict(user, "view")`` (``volunteers.view`` under
their places). A participant (a resident, or staff volunteering) reaches what is *near* them:
the activities and menu items of their village (or of the town, county ... above it) — found
with :func:`near_q`. Anything else named in a request is a 404.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404

from gongzhi.core import access
from gongzhi.core.access import grants_with, has_permission
from gongzhi.places.models import LEVELS, Place, PlaceKind

from .models import Activity, ActivityStatus, ServiceItem, Team, TeamMember

VILLAGE_LEVEL = LEVELS.index(PlaceKind.VILLAGE)


def _bases(user) -> list[Place]:
    """Each place where ``user`` takes part, raised to its village when it lies below one."""
    if getattr(user, "is_superuser", False):
        return list(Place.objects.filter(kind=PlaceKind.COUNTY))
    ids = {g.place_id for g in grants_with(user, "volunteers.take_part")}
    places = list(Place.objects.filter(pk__in=ids))
    village_ids = {p.village_id for p in places if p.level > VILLAGE_LEVEL and p.village_id}
    villages = {v.pk: v for v in Place.objects.filter(pk__in=village_ids)}
    return [villages.get(p.village_id, p) if p.level > VILLAGE_LEVEL else p for p in places]


def near_q(user) -> Q | None:
    """Rows (activities, menu items, teams) at or under the participant's village, or at a
    place above it; None when the user takes part nowhere."""
    bases = _bases(user)
    if not bases:
        return None
    q = Q()
    for base in bases:
        q |= base.scope_q() | Q(place_id__in=base.ancestor_ids())
    return q


def open_activities(user) -> QuerySet[Activity]:
    """Published, ongoing and finished activities near the participant."""
    q = near_q(user)
    if q is None:
        return Activity.objects.none()
    return Activity.objects.filter(q).exclude(status=ActivityStatus.DRAFT)


def near_menu(user) -> QuerySet[ServiceItem]:
    q = near_q(user)
    if q is None:
        return ServiceItem.objects.none()
    return ServiceItem.objects.filter(q, is_active=True, team__is_active=True)


def near_teams(user) -> QuerySet[Team]:
    q = near_q(user)
    if q is None:
        return Team.objects.none()
    return Team.objects.filter(q, is_active=True)


def may_take_part(user, place: Place) -> bool:
    """Whether ``place`` (an activity's, an item's, a team's) is near ``user``."""
    if getattr(user, "is_superuser", False):
        return True
    return any(place.pk in base.ancestor_ids() or place.ancestor_id(base.kind) == base.pk
               for base in _bases(user))


def may_manage(user, place: Place) -> bool:
    return has_permission(user, "volunteers.manage", place)


def serves_team(user, team: Team) -> bool:
    """A manager over the team's place, or an active member of the team with a login (team
    members take and deliver the orders of their team)."""
    if may_manage(user, team.place):
        return True
    return TeamMember.objects.filter(team=team, user_id=getattr(user, "pk", None),
                                     left_at__isnull=True).exists()


def participant_household(user) -> Place | None:
    """The household whose points account a participant's hours go to: their person's
    household if the login is linked to one, else the household where they hold the
    resident's ``volunteers.take_part``."""
    person = getattr(user, "person", None)
    if person is not None and person.household_id:
        return Place.objects.filter(pk=person.household_id, is_active=True).first()
    ids = [g.place_id for g in grants_with(user, "volunteers.take_part")
           if g.kind == PlaceKind.HOUSEHOLD]
    return Place.objects.filter(pk__in=ids, is_active=True).order_by("pk").first()


def root_places(user, permission: str = "volunteers.view") -> list[Place]:
    """The highest places where ``user`` holds ``permission`` (where a workbench starts)."""
    return access.root_places(user, permission)


def managed_place(user, place_id) -> Place:
    """A place named in a request where ``user`` holds ``volunteers.manage`` (404 otherwise);
    with none named, the first of their places."""
    if place_id in (None, ""):
        roots = root_places(user, "volunteers.manage")
        if not roots:
            raise Http404
        return roots[0]
    try:
        place = Place.objects.get(pk=int(place_id))
    except (Place.DoesNotExist, TypeError, ValueError):
        raise Http404 from None
    if not may_manage(user, place):
        raise Http404
    return place


def activities_for(user) -> QuerySet[Activity]:
    """Every activity ``user`` may see: staff's (``volunteers.view``), the published ones
    near a participant, and those they organise."""
    if user is None or not getattr(user, "is_authenticated", False):
        return Activity.objects.none()
    return (Activity.objects.restrict(user, "view") | open_activities(user)
            | Activity.objects.filter(organiser_id=user.pk))
