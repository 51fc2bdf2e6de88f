"""What a round assesses: its units, and each unit's figures, asked of the figures app and the
points ledger (never counted here).

- **Units.** Grids, villages or towns: every active place of the kind under the round's scope
  (and any other of the kind with figures there). Cadres: every active holder of one of the
  policy's ``cadre_roles`` granted at or under the scope, at the highest such place; and anyone
  else the figures name as responsible for matters under the scope. Departments: every active
  department (``Organisation`` of kind department) at the scope, above it or under it, and any
  unit the figures name.
- **Figures.** One :func:`gongzhi.figures.compute.compute` over the period, broken down by the
  unit's dimension (``grid``/``village``/``town``; ``cadre`` = the matter's responsible person;
  ``department`` = its responsible unit, and for summonses the summoned unit), frozen at the
  computation time. The overdue count is a snapshot (see ``docs/figures.md``): it is asked at
  the end of the period, or at the computation time if that is earlier.
- **Points.** :func:`gongzhi.points.queries.totals_by` and ``households_counted`` for the
  period: earned points per unit, and per active household.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q
from django.utils import timezone

from gongzhi.accounts.models import RoleGrant, User
from gongzhi.figures.compute import compute
from gongzhi.figures.registry import FIGURE_SETS
from gongzhi.places.models import LEVELS, Organisation, OrganisationKind, Place
from gongzhi.points import queries as points_queries

from .models import PLACE_UNIT_KINDS, AssessmentRound, UnitKind
from .systems import OVERDUE, POINTS, figure_catalogue


@dataclass
class UnitData:
    key: str
    place: Place
    label: str
    user_id: int | None = None
    organisation_id: int | None = None
    counts: dict[str, Any] = field(default_factory=dict)
    points_total: int | None = None
    points_households: int | None = None
    points_value: float | None = None

    def volume(self, names: list[str]) -> int:
        return sum(int(self.counts.get(n) or 0) for n in names)


def bounds(rnd: AssessmentRound) -> tuple[dt.datetime, dt.datetime]:
    """The period as local midnights, [start, end) (``period_end`` is the last day)."""
    tz = timezone.get_current_timezone()
    start = timezone.make_aware(dt.datetime.combine(rnd.period_start, dt.time.min), tz)
    end = timezone.make_aware(dt.datetime.combine(rnd.period_end + dt.timedelta(days=1),
                                                  dt.time.min), tz)
    return start, end


def dimension(unit_kind: str) -> str:
    return unit_kind  # grid, village, town, cadre, department: the figures' own names


def _sets_for(figures: set[str], volume: list[str]) -> tuple[set[str], bool]:
    """The periodic figure sets to compute, and whether the overdue snapshot is needed."""
    catalogue = figure_catalogue()
    sets: set[str] = set()
    for key in figures:
        if key in catalogue and key not in (OVERDUE, POINTS):
            sets.update(catalogue[key].sets)
    for name in volume:
        sets.update(s.key for s in FIGURE_SETS.values() if name in s.counts and s.periodic)
    return sets, OVERDUE in figures


def _rows(sets, scope, start, end, dim, now) -> dict[Any, dict[str, Any]]:
    if not sets:
        return {}
    result = compute(sorted(sets), scope, start, end, group_by=dim, now=now)
    return {row["key"]: row for row in result["rows"] if row["key"] is not None}


def _place_units(rnd: AssessmentRound, keys: set[int]) -> list[UnitData]:
    scope = rnd.place
    places = list(Place.objects.filter(scope.scope_q(), kind=rnd.unit_kind)
                  .filter(Q(is_active=True) | Q(pk__in=keys)).order_by("sort_order", "pk"))
    return [UnitData(f"place:{p.pk}", p, p.name) for p in places]


def _cadre_units(rnd: AssessmentRound, roles: list[str], keys: set[int]) -> list[UnitData]:
    scope = rnd.place
    grants = (RoleGrant.objects.filter(Q(**{f"place__{scope.kind}_id": scope.pk}),
                                       role__in=roles, is_active=True, user__is_active=True)
              .select_related("user", "place"))
    best: dict[int, tuple[User, Place]] = {}
    for g in grants:
        held = best.get(g.user_id)
        if held is None or g.place.level < held[1].level or (
                g.place.level == held[1].level and g.place.pk < held[1].pk):
            best[g.user_id] = (g.user, g.place)
    for user in User.objects.filter(pk__in=keys - set(best)):
        best[user.pk] = (user, scope)
    units = [UnitData(f"user:{uid}", place, str(user), user_id=uid)
             for uid, (user, place) in best.items()]
    return sorted(units, key=lambda u: (u.place.level, u.place.pk, u.label, u.user_id))


def _department_units(rnd: AssessmentRound, keys: set[int]) -> list[UnitData]:
    scope = rnd.place
    orgs = (Organisation.objects.filter(
        (Q(place_id__in=scope.ancestor_ids()) | scope.scope_q())
        & Q(kind=OrganisationKind.DEPARTMENT, is_active=True) | Q(pk__in=keys))
        .select_related("place").order_by("name", "pk"))
    return [UnitData(f"org:{o.pk}", o.place, o.name, organisation_id=o.pk) for o in orgs]


def gather(rnd: AssessmentRound, indicators, policy: dict[str, Any], now: dt.datetime
           ) -> list[UnitData]:
    """Every unit of the round with its counts (and rates) and points, as of ``now``."""
    start, end = bounds(rnd)
    scope, kind = rnd.place, rnd.unit_kind
    dim = dimension(kind)
    figures = {i.figure for i in indicators if i.figure}
    sets, overdue = _sets_for(figures, policy.get("volume", []))
    rows = _rows(sets, scope, start, end, dim, now)
    if overdue:
        snapshot = _rows({"overdue"}, scope, start, end, dim, min(now, end))
        for key, row in snapshot.items():
            rows.setdefault(key, {}).update({"open": row["open"], "overdue": row["overdue"]})

    keys = {k for k, row in rows.items()
            if any(isinstance(v, int) and v for name, v in row.items() if name != "key")}
    if kind in PLACE_UNIT_KINDS:
        units = _place_units(rnd, keys)
        by_key = {u.place.pk: u for u in units}
    elif kind == UnitKind.CADRE:
        units = _cadre_units(rnd, policy.get("cadre_roles", []), keys)
        by_key = {u.user_id: u for u in units}
    else:
        units = _department_units(rnd, keys)
        by_key = {u.organisation_id: u for u in units}
    for key, unit in by_key.items():
        row = rows.get(key, {})
        unit.counts = {k: v for k, v in row.items() if k not in ("key", "label")}
        if overdue:
            unit.counts.setdefault("open", 0)
            unit.counts.setdefault("overdue", 0)

    share = policy.get("points_share", {})
    if kind in PLACE_UNIT_KINDS and (POINTS in figures or rnd.points_share):
        totals = points_queries.totals_by(kind, scope, rnd.period_start, rnd.period_end)
        households = points_queries.households_counted(kind, scope)
        per_household = share.get("per", "household") == "household"
        for unit in units:
            total = totals.get(unit.place.pk, 0)
            count = households.get(unit.place.pk, 0)
            unit.points_total, unit.points_households = total, count
            if per_household:
                unit.points_value = round(total / count, 4) if count else None
            else:
                unit.points_value = float(total)
    return units


def figure_value(unit: UnitData, figure: str) -> tuple[float | None, int | None]:
    """An indicator's value for a unit, and its volume (the ratio's denominator)."""
    from gongzhi.figures.registry import RATIOS

    if figure == POINTS:
        return unit.points_value, unit.points_households
    if figure == OVERDUE:
        return float(unit.counts.get("overdue", 0)), None
    ratio = RATIOS.get(figure)
    if ratio is None:
        return None, None
    counts = {k: int(unit.counts.get(k) or 0) for k in (*ratio.numerator, *ratio.denominator)}
    return ratio.value(counts), ratio.volume(counts)


def below(scope_kind: str, unit_kind: str) -> bool:
    """Whether units of ``unit_kind`` lie under a scope of ``scope_kind``."""
    if unit_kind in PLACE_UNIT_KINDS:
        return LEVELS.index(unit_kind) > LEVELS.index(scope_kind)
    return scope_kind in ("county", "town", "village")
