"""Pages of the registry: the place browser, the household archive (一户一档), the grid book
(一网格一册), and revealing a person's full phone and ID number (audited).

Every object named in a request is loaded through ``Model.objects.restrict(user, action)``;
anything outside the user's scope is a 404. Phones and ID numbers are rendered masked; the
full numbers appear only in the response of :func:`reveal_person`, which goes through the
audited action.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Case, Count, IntegerField, Value, When
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from gongzhi.core.access import grants_with, has_permission
from gongzhi.core.htmx import render_htmx

from .actions import do_reveal_person
from .models import (
    LEVELS,
    Household,
    HouseholdType,
    Person,
    Place,
    PlaceKind,
    Relation,
    SpecialGroup,
)

PAGE_SIZE = 50
GRID_AND_ABOVE = (PlaceKind.COUNTY, PlaceKind.TOWN, PlaceKind.VILLAGE, PlaceKind.GRID)
SEARCH_LIMIT = 50


# --- helpers -------------------------------------------------------------------------------


def breadcrumbs(user, place: Place | None, *, link_self: bool = False) -> list[dict]:
    """The path from the county down to ``place``; ancestors outside the scope are not links."""
    if place is None:
        return []
    crumbs = []
    for ancestor in place.ancestors():
        linkable = has_permission(user, "places.view", ancestor)
        crumbs.append({"label": ancestor.name,
                       "url": reverse("places:place", args=[ancestor.pk]) if linkable else None})
    crumbs.append({"label": place.name,
                   "url": reverse("places:place", args=[place.pk]) if link_self else None})
    return crumbs


def root_places(user) -> list[Place]:
    """Where the user's browsing starts: the visible places of their grants, outermost only."""
    visible = Place.objects.restrict(user, "view")
    if user.is_superuser:
        return list(visible.filter(kind=PlaceKind.COUNTY).order_by("sort_order", "id"))
    ids = {g.place_id for g in grants_with(user, "places.view")}
    roots = list(visible.filter(pk__in=ids).order_by("sort_order", "id"))
    root_ids = {p.pk for p in roots}
    return [p for p in roots if not any(a in root_ids for a in p.ancestor_ids()[:-1])]


def place_counts(user, places: Iterable[Place], within: Place | None = None) -> dict[int, dict]:
    """Households and people beneath each place: one grouped query per level on the page.

    Rows carry their ancestors' ids, so "people under each of these grids" is
    ``GROUP BY grid_id`` over ``grid_id IN (...)``, with no join and no query per place.
    """
    places = list(places)
    counts = {p.pk: {"households": 0, "people": 0} for p in places}
    by_kind: dict[str, list[int]] = defaultdict(list)
    for p in places:
        by_kind[p.kind].append(p.pk)
    narrow = within.scope_q() if within is not None else None
    people = Person.objects.restrict(user, "view").filter(is_active=True)
    if narrow is not None:
        people = people.filter(narrow)
    for kind, ids in by_kind.items():
        column = f"{kind}_id"
        if kind == PlaceKind.HOUSEHOLD:
            for pk in ids:
                counts[pk]["households"] = 1
        else:
            households = Place.objects.filter(kind=PlaceKind.HOUSEHOLD, is_active=True,
                                              **{f"{column}__in": ids})
            if narrow is not None:
                households = households.filter(narrow)
            for pk, n in households.values(column).annotate(n=Count("id")).values_list(
                column, "n"
            ):
                counts[pk]["households"] = n
        for pk, n in people.filter(**{f"{column}__in": ids}).values(column).annotate(
            n=Count("id")
        ).values_list(column, "n"):
            counts[pk]["people"] = n
    return counts


def _level_order():
    """Sort places county first, household last."""
    return Case(*(When(kind=kind, then=Value(i)) for i, kind in enumerate(LEVELS)),
                default=Value(len(LEVELS)), output_field=IntegerField())


def _head_first():
    return Case(When(relation=Relation.HEAD, then=Value(0)), default=Value(1),
                output_field=IntegerField())


# --- the place browser ---------------------------------------------------------------------


@login_required
def browse(request, place_id: int | None = None):
    user = request.user
    visible = Place.objects.restrict(user, "view")
    query = request.GET.get("q", "").strip()[:60]
    place = None
    if place_id is None:
        roots = root_places(user)
        if len(roots) == 1 and not query:
            return redirect("places:place", roots[0].pk)
        children: Iterable[Place] = roots
    else:
        place = get_object_or_404(visible, pk=place_id)
        if place.kind == PlaceKind.HOUSEHOLD and has_permission(user, "people.view", place):
            return redirect("places:household", place.pk)
        children = (visible.filter(parent=place).select_related("household_record")
                    .order_by("sort_order", "id"))

    context = {
        "place": place,
        # A way back to the list of starting places when there is more than one.
        "several_roots": user.is_superuser
        or len({g.place_id for g in grants_with(user, "places.view")}) > 1,
        "crumbs": breadcrumbs(user, place),
        "query": query,
        "show_counts": has_permission(user, "people.view", place),
    }
    if place is not None:
        context.update({
            "can_import": has_permission(user, "people.import", place)
            and place.kind in (PlaceKind.VILLAGE, PlaceKind.GRID),
            "can_export": has_permission(user, "people.export", place)
            and place.kind != PlaceKind.HOUSEHOLD,
            "can_grid_book": place.kind == PlaceKind.GRID
            and has_permission(user, "people.view", place),
        })
        if context["show_counts"] and place.kind != PlaceKind.HOUSEHOLD:
            context["totals"] = place_counts(user, [place])[place.pk]
    if query:
        context.update(_search(user, visible, place, query))
    else:
        page = Paginator(children, PAGE_SIZE).get_page(request.GET.get("page"))
        counts = place_counts(user, page.object_list, within=place) if context[
            "show_counts"] else {}
        context["page"] = page
        context["rows"] = [{"place": c, **counts.get(c.pk, {})} for c in page.object_list]
    return render(request, "places/browse.html", context)


def _search(user, visible, place: Place | None, query: str) -> dict:
    places = visible.filter(name__icontains=query).select_related("parent")
    people = Person.objects.restrict(user, "view").filter(
        name__icontains=query, is_active=True).select_related("place")
    if place is not None:
        places = places.filter(place.scope_q()).exclude(pk=place.pk)
        people = people.filter(place.scope_q())
    return {
        "found_places": list(places.order_by(_level_order(), "name", "id")[:SEARCH_LIMIT]),
        "found_people": list(people.order_by("name", "id")[:SEARCH_LIMIT]),
        "search_limit": SEARCH_LIMIT,
    }


# --- 一户一档: the household archive ---------------------------------------------------------


def holds_at_grid(user, place: Place, permission: str) -> bool:
    """Whether a grant covers the whole grid of ``place`` (not just one household in it)."""
    if user.is_superuser:
        return True
    return place.grid_id is not None and any(
        g.kind in GRID_AND_ABOVE and place.ancestor_id(g.kind) == g.place_id
        for g in grants_with(user, permission)
    )


def _household_context(user, household: Household) -> dict:
    place = household.place
    members = list(
        Person.objects.restrict(user, "view")
        .filter(household_id=place.pk, is_active=True)
        .order_by(_head_first(), "id")
    )
    crumbs = breadcrumbs(user, place)
    return {
        "household": household,
        "place": place,
        "members": members,
        "crumbs": crumbs,
        "location": " / ".join(c["label"] for c in crumbs[:-1]),
        "can_reveal": has_permission(user, "people.view_sensitive", place),
        "grid_book_url": (reverse("places:grid_book", args=[place.grid_id])
                          if holds_at_grid(user, place, "people.view") else None),
    }


@never_cache
@login_required
def household(request, household_id: int):
    record = get_object_or_404(
        Household.objects.restrict(request.user, "view").select_related("place"),
        pk=household_id,
    )
    return render(request, "places/household.html", _household_context(request.user, record))


@never_cache
@require_POST
@login_required
def reveal_person(request, person_id: int):
    """Show one person's full phone and ID number; the action checks the right and audits."""
    person = get_object_or_404(
        Person.objects.restrict(request.user, "view").select_related("place"), pk=person_id
    )
    full = do_reveal_person(person, acting_user=request.user,
                            reason=request.POST.get("reason", "")[:200])
    household_url = (reverse("places:household", args=[person.household_id])
                     if person.household_id else None)
    response = render_htmx(request, "places/person_reveal.html", "htmx/person_row.html", {
        "m": person,
        "revealed": full,
        "can_reveal": True,
        "household_url": household_url,
        "crumbs": breadcrumbs(request.user, person.place, link_self=True),
    })
    response["Vary"] = "HX-Request"
    return response


# --- 一网格一册: the grid book ---------------------------------------------------------------


SPECIAL_FIRST = [SpecialGroup.LONELY_ELDERLY, SpecialGroup.LEFT_BEHIND_CHILD,
                 SpecialGroup.DISABLED]


@login_required
def grid_book(request, grid_id: int):
    """The grid's book: summary, special groups first, then households by building.

    A fixed number of queries whatever the grid's size: the grid, its ancestors, its
    buildings, its households, its people; everything else is counted in Python.
    """
    user = request.user
    grid = get_object_or_404(
        Place.objects.restrict(user, "view").filter(kind=PlaceKind.GRID), pk=grid_id
    )
    if not has_permission(user, "people.view", grid):
        raise PermissionDenied(_("您没有查看本网格户与人员的权限。"))
    buildings = list(Place.objects.filter(grid_id=grid.pk, kind=PlaceKind.BUILDING,
                                          is_active=True).order_by("sort_order", "id"))
    households = list(
        Household.objects.restrict(user, "view")
        .filter(place__grid_id=grid.pk, place__is_active=True)
        .select_related("place")
        .order_by("place__sort_order", "place_id")
    )
    people = list(
        Person.objects.restrict(user, "view")
        .filter(grid_id=grid.pk, is_active=True, household__isnull=False)
        .only("id", "name", "gender", "birth_date", "id_number", "phone", "relation",
              "is_party_member", "special_groups", "household_id", "building_id",
              "place_id", "county_id", "town_id", "village_id", "grid_id")
        .order_by("id")
    )

    members: dict[int, list[Person]] = defaultdict(list)
    for person in sorted(people, key=lambda p: (p.relation != Relation.HEAD, p.pk)):
        members[person.household_id].append(person)
    by_id = {h.place_id: h for h in households}

    rows_by_building: dict[int | None, list[dict]] = defaultdict(list)
    for h in households:
        hm = members.get(h.place_id, [])
        rows_by_building[h.place.building_id].append({
            "household": h,
            "head": hm[0] if hm else None,
            "members": len(hm),
            "party": sum(1 for p in hm if p.is_party_member),
            "special": sum(1 for p in hm if p.special_groups),
        })
    groups = [{"building": b, "rows": rows_by_building.pop(b.pk, [])} for b in buildings]
    loose = [row for rows in rows_by_building.values() for row in rows]  # no (active) building
    if loose:
        groups.append({"building": None, "rows": loose})

    group_counts = Counter(code for p in people for code in p.special_groups)
    type_counts = Counter(h.household_type for h in households)
    ordered_groups = SPECIAL_FIRST + [g for g in SpecialGroup if g not in SPECIAL_FIRST]
    special = [
        {"code": g.value, "label": g.label, "count": group_counts.get(g.value, 0),
         "people": [{"person": p, "household": by_id.get(p.household_id)}
                    for p in people if g.value in p.special_groups]}
        for g in ordered_groups
    ]
    summary = {
        "households": len(households),
        "by_type": [{"label": t.label, "count": type_counts.get(t.value, 0)}
                    for t in HouseholdType],
        "people": len(people),
        "party_members": sum(1 for p in people if p.is_party_member),
        "buildings": len(buildings),
    }
    return render(request, "places/grid_book.html", {
        "grid": grid,
        "crumbs": breadcrumbs(user, grid, link_self=True),
        "summary": summary,
        "special": special,
        "groups": groups,
    })
