"""Who reaches which visits, households and places in 大走访.

Visits are loaded only through ``Visit.objects.restrict(user, "view")`` (a cadre also sees the
visits they made). Households a cadre may visit are those under the places where they hold
``visits.record``; anything else named in a request is a 404.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from gongzhi.core.access import Grant, grants_with, has_permission, root_places, scope_q
from gongzhi.places.models import LEVELS, Household, Place


def households_for(user, permission: str = "visits.record") -> QuerySet[Household]:
    """Households under the places where ``user`` holds ``permission``."""
    qs = Household.objects.all()
    if getattr(user, "is_superuser", False) and has_permission(user, permission):
        return qs
    q = scope_q(user, permission, "place__")
    return qs.none() if q is None else qs.filter(q)


def recording_grant(user, place: Place) -> Grant | None:
    """The grant under which ``user`` visits ``place``: the deepest one with
    ``visits.record`` that covers it."""
    covering = [g for g in grants_with(user, "visits.record")
                if place.ancestor_id(g.kind) == g.place_id]
    return max(covering, key=lambda g: LEVELS.index(g.kind), default=None)


def scope_place(user, permission: str, place_id: str | int | None) -> Place:
    """The place a page or list is asked about: the one named (404 unless ``permission`` is
    held there) or, when none is named, the first of :func:`root_places` (404 if none)."""
    if place_id not in (None, ""):
        try:
            place = Place.objects.get(pk=int(place_id))
        except (Place.DoesNotExist, TypeError, ValueError):
            raise Http404 from None
        if not has_permission(user, permission, place):
            raise Http404
        return place
    roots = root_places(user, permission)
    if not roots:
        raise Http404
    return roots[0]


def may_see_numbers(user, place: Place) -> bool:
    """Full phones and ID numbers in what was heard: ``people.view_sensitive`` at the place."""
    return has_permission(user, "people.view_sensitive", place)


def holds_over(user, permission: str, row) -> bool:
    """Whether ``user`` holds ``permission`` over a place-scoped ``row`` (a visit), read from
    its ancestor columns: no query beyond the user's grants."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return has_permission(user, permission)
    return any(getattr(row, f"{g.kind}_id", None) == g.place_id
               for g in grants_with(user, permission))


def matters_shown(user, links) -> set[int]:
    """Of the matters raised from visits (``VisitMatter`` rows, with ``matter__place``
    loaded), the ids ``user`` may see beside the visit: matters they may view, except
    complaints whose reporter is hidden from them — the visit names the person met, so showing
    the complaint beside it would name the reporter. One query."""
    from gongzhi.matters.models import Matter, reporter_visible_to

    ids = {link.matter_id for link in links}
    if not ids:
        return set()
    visible = set(Matter.objects.restrict(user, "view").filter(pk__in=ids)
                  .values_list("pk", flat=True))
    return {link.matter_id for link in links
            if link.matter_id in visible and reporter_visible_to(user, link.matter)}
