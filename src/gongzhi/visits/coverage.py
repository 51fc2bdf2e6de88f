"""Coverage: which households have not been visited for N days, special groups first.

A household is **special** (重点关爱户) when an active member belongs to one of the groups
the seeds name first — 孤寡老人, 留守儿童, 残疾人 (``Person.special_groups``). Its **last
visit** is the latest ``visited_on`` of its visits. It is **not visited for N days** when it
has no visit on or after ``today − N days`` (never visited included).

The list is one query: the households under the place, each with a ``Max(visited_on)``
subquery and an ``EXISTS`` for its special members, filtered by ``NOT EXISTS`` a recent visit
(the index on ``(household, visited_on)`` answers both).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.utils import timezone

from gongzhi.places.models import (
    LEVELS,
    Household,
    Person,
    Place,
    PlaceKind,
    Relation,
    SpecialGroup,
)

from .models import Visit

PRIORITY_GROUPS = (SpecialGroup.LONELY_ELDERLY, SpecialGroup.LEFT_BEHIND_CHILD,
                   SpecialGroup.DISABLED)
DAY_CHOICES = (30, 90)
MAX_DAYS = 366


def special_q(prefix: str = "") -> Q:
    """People in one of the priority groups (a JSON list; matched as its quoted code)."""
    q = Q()
    for group in PRIORITY_GROUPS:
        q |= Q(**{f"{prefix}special_groups__icontains": f'"{group}"'})
    return q


def special_member(outer: str = "pk") -> Exists:
    return Exists(Person.objects.filter(special_q(), household_id=OuterRef(outer),
                                        is_active=True))


def last_visit(outer: str = "pk") -> Subquery:
    return Subquery(Visit.objects.filter(household_id=OuterRef(outer)).order_by()
                    .values("household_id").annotate(last=Max("visited_on")).values("last")[:1])


def visited_since(day: dt.date, outer: str = "pk") -> Exists:
    return Exists(Visit.objects.filter(household_id=OuterRef(outer), visited_on__gte=day))


def head_name(outer: str = "pk") -> Subquery:
    head_first = Case(When(relation=Relation.HEAD, then=Value(0)), default=Value(1),
                      output_field=IntegerField())
    return Subquery(Person.objects.filter(household_id=OuterRef(outer), is_active=True)
                    .order_by(head_first, "pk").values("name")[:1])


def cutoff(days: int, today: dt.date | None = None) -> dt.date:
    return (today or timezone.localdate()) - dt.timedelta(days=days)


def households_under(scope: Place) -> QuerySet[Household]:
    return Household.objects.filter(scope.scope_q("place__"), place__is_active=True)


def not_visited(scope: Place, days: int, today: dt.date | None = None, *,
                special_only: bool = False) -> QuerySet[Household]:
    """Households under ``scope`` with no visit in the last ``days`` days: special households
    first, then by grid (in the tree's order), never visited and longest ago first."""
    since = cutoff(days, today)
    qs = (households_under(scope)
          .annotate(is_special=special_member(), last_visit=last_visit(), head=head_name())
          .filter(~visited_since(since))
          .select_related("place", "place__grid"))
    if special_only:
        qs = qs.filter(is_special=True)
    return qs.order_by(F("is_special").desc(), "place__grid__sort_order", "place__grid_id",
                       F("last_visit").asc(nulls_first=True), "place__sort_order", "pk")


def group_labels(household_ids: list[int]) -> dict[int, list[str]]:
    """The special groups of each household's active members (one query)."""
    labels = dict(SpecialGroup.choices)
    order = {g: i for i, g in enumerate(SpecialGroup.values)}
    found: dict[int, set[str]] = {}
    for household_id, groups in (Person.objects.filter(household_id__in=household_ids,
                                                       is_active=True)
                                 .exclude(special_groups=[])
                                 .values_list("household_id", "special_groups")):
        found.setdefault(household_id, set()).update(groups or [])
    return {hid: [str(labels.get(g, g)) for g in sorted(groups, key=lambda g: order.get(g, 99))]
            for hid, groups in found.items()}


def child_kind(scope: Place) -> str | None:
    """The level the summary breaks ``scope`` down by: its children, down to grids."""
    if scope.kind in (PlaceKind.COUNTY, PlaceKind.TOWN, PlaceKind.VILLAGE):
        return LEVELS[scope.level + 1]
    return None


def summary(scope: Place, days: int, today: dt.date | None = None) -> list[dict[str, Any]]:
    """Per child place (town, village or grid) of ``scope``: households, those not visited
    for ``days`` days, and of those the special households. Two queries (the counts grouped
    by the child's column, and the children)."""
    kind = child_kind(scope)
    if kind is None:
        return []
    since = cutoff(days, today)
    stale = ~visited_since(since)
    column = f"place__{kind}_id"
    counts = {
        row[column]: row for row in
        households_under(scope).order_by().values(column).annotate(
            households=Count("pk"),
            stale=Count("pk", filter=Q(stale)),
            special_stale=Count("pk", filter=Q(stale) & Q(special_member())),
        )
    }
    children = Place.objects.filter(scope.scope_q(), kind=kind, is_active=True).order_by(
        "sort_order", "pk")
    rows = []
    for child in children:
        row = counts.get(child.pk, {})
        households = row.get("households", 0)
        stale_n = row.get("stale", 0)
        rows.append({"place": child, "households": households, "stale": stale_n,
                     "special_stale": row.get("special_stale", 0),
                     "visited": households - stale_n,
                     "rate": (households - stale_n) / households if households else None})
    return rows
