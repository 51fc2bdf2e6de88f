"""The weekly quota (平谷: each cadre visits at least five households a week) and where each
cadre stands against it.

A **week** is an ISO week, Monday to Sunday, in local time. A cadre's **count** for a week is
the number of *different households* they visited that week (two visits to one household in a
week count once). A **cadre** is a user with an active role grant that may record visits
(``visits.record``); their **quota** is the largest of the quotas of those grants, each found
by :class:`QuotaTable` (the most specific ``VisitQuota`` row for the grant's role at or above
the grant's place, else the code default). A quota of 0 is no quota: such users are not
listed and not counted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from gongzhi.accounts.models import RoleGrant, User
from gongzhi.accounts.roles import Role
from gongzhi.core.registry import registry
from gongzhi.places.models import Place

from .models import Visit, VisitQuota

DEFAULT_PER_WEEK = 5
# The roles that carry the default quota; the others that may record visits (county office,
# administrator) have none unless a VisitQuota gives them one.
DEFAULT_QUOTA_ROLES = (Role.GRID_WORKER, Role.VILLAGE_CADRE, Role.VILLAGE_SECRETARY,
                       Role.TOWN_STAFF, Role.TOWN_SECRETARY)


def week_start(day: dt.date) -> dt.date:
    """The Monday of ``day``'s ISO week."""
    return day - dt.timedelta(days=day.weekday())


def recording_roles() -> set[str]:
    return registry.roles_with("visits.record")


class QuotaTable:
    """A county's quota rows, read in one query, answering :meth:`per_week`."""

    def __init__(self, county_ids: Iterable[int]):
        self.rows: dict[tuple[int, str], dict[int | None, int]] = {}
        for county_id, role, place_id, per_week in VisitQuota.objects.filter(
                county_id__in=set(county_ids)).values_list("county_id", "role", "place_id",
                                                            "per_week"):
            self.rows.setdefault((county_id, role), {})[place_id] = per_week

    def per_week(self, role: str, place: Place) -> int:
        """The quota of ``role`` granted at ``place``: the row of the deepest place at or above
        it, else the county-wide row (place null), else the default."""
        rows = self.rows.get((place.county_id or place.pk, role))
        if rows:
            for ancestor in reversed(place.ancestor_ids()):
                if ancestor in rows:
                    return rows[ancestor]
            if None in rows:
                return rows[None]
        return DEFAULT_PER_WEEK if role in DEFAULT_QUOTA_ROLES else 0


@dataclass
class Cadre:
    user: User
    role: str  # the grant that sets the quota
    place: Place
    quota: int
    granted_at: dt.datetime
    roles: list[str] = field(default_factory=list)

    @property
    def role_labels(self) -> list[str]:
        labels = dict(Role.choices)
        return [str(labels.get(r, r)) for r in self.roles]


def cadres(grants: QuerySet[RoleGrant]) -> list[Cadre]:
    """The cadres among ``grants`` (already limited to a scope), each once, with their quota.

    Two queries: the grants (with their users and places) and the counties' quota rows.
    """
    rows = list(grants.filter(is_active=True, user__is_active=True, role__in=recording_roles())
                .select_related("user", "place").order_by("user_id", "pk"))
    table = QuotaTable({g.county_id for g in rows})
    found: dict[int, Cadre] = {}
    for g in rows:
        quota = table.per_week(g.role, g.place)
        held = found.get(g.user_id)
        if held is None:
            found[g.user_id] = held = Cadre(g.user, g.role, g.place, quota, g.granted_at)
        elif (quota, -g.place.level) > (held.quota, -held.place.level):
            held.role, held.place, held.quota, held.granted_at = (g.role, g.place, quota,
                                                                  g.granted_at)
        if g.role not in held.roles:
            held.roles.append(g.role)
    return [c for c in found.values() if c.quota > 0]


def grants_under(place: Place) -> QuerySet[RoleGrant]:
    return RoleGrant.objects.filter(place.scope_q("place__"))


@dataclass
class Standing:
    cadre: Cadre
    this_week: int
    last_week: int

    @property
    def quota(self) -> int:
        return self.cadre.quota

    @property
    def behind(self) -> bool:
        return self.this_week < self.quota

    @property
    def shortfall(self) -> int:
        return max(0, self.quota - self.this_week)

    @property
    def last_week_met(self) -> bool:
        return self.last_week >= self.quota

    @property
    def meter(self) -> int:
        """This week's count as a share of the quota, in whole tens of percent (for a bar)."""
        return min(100, self.this_week * 10 // self.quota * 10) if self.quota else 0


def standings(found: list[Cadre], today: dt.date | None = None) -> list[Standing]:
    """This week's and last week's count of each cadre, those behind first (the largest
    shortfall first), then the others; by name within each. One query."""
    today = today or timezone.localdate()
    monday = week_start(today)
    last_monday = monday - dt.timedelta(days=7)
    counts: dict[int, dict[str, int]] = {}
    if found:
        counts = {
            row["visitor_id"]: row for row in
            Visit.objects.filter(visitor_id__in=[c.user.pk for c in found],
                                 visited_on__gte=last_monday,
                                 visited_on__lt=monday + dt.timedelta(days=7))
            .order_by().values("visitor_id")
            .annotate(this_week=Count("household_id", distinct=True,
                                      filter=Q(visited_on__gte=monday)),
                      last_week=Count("household_id", distinct=True,
                                      filter=Q(visited_on__lt=monday)))
        }
    out = [Standing(c, counts.get(c.user.pk, {}).get("this_week", 0),
                    counts.get(c.user.pk, {}).get("last_week", 0)) for c in found]
    out.sort(key=lambda s: (not s.behind, -s.shortfall, str(s.cadre.user), s.cadre.user.pk))
    return out


def own_standing(user: User, today: dt.date | None = None) -> Standing | None:
    """The user's own standing this week (None when they have no quota). Three queries."""
    mine = cadres(RoleGrant.objects.filter(user=user))
    return standings(mine, today)[0] if mine else None
