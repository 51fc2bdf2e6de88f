"""The figures of 大走访, registered with the figures app (``apps.py``): one definition each,
the same words as ``docs/figures.md`` ("Visits and coverage").

Common rules (besides those of :mod:`gongzhi.figures.sets`):

- **Days.** A visit has a date, not a moment: it belongs to the period when its day's local
  midnight is in [start, end) — so a period of whole days counts the visits of those days.
- **Place.** A visit belongs to the household visited and that household's grid, village and
  town as they were when it was recorded. Households in scope are those registered under the
  place *now* (active household places): the registry keeps no history of its households.
- **Dimensions.** By place (town, village, grid), by cadre (the visitor; for the quota, the
  cadre), and by period. Visits have no ledger, channel, category or department: grouped or
  filtered by one of those, the visit figures are empty (zeros), never an error.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Q, Subquery
from django.db.models.functions import TruncWeek
from django.utils import timezone

from gongzhi.accounts.models import RoleGrant
from gongzhi.figures.registry import (
    ALL,
    PLACE_DIMENSIONS,
    FigureSet,
    Query,
    Ratio,
    register_figure_set,
    register_ratio,
)
from gongzhi.figures.sets import grouped
from gongzhi.places.models import Place, PlaceKind

from .coverage import special_member
from .models import Visit
from .quota import cadres, week_start

SUPPORTED = (*PLACE_DIMENSIONS, "cadre")


def day_bounds(q: Query) -> tuple[dt.date, dt.date]:
    """The days whose local midnight is in [start, end), as [first, stop)."""
    tz = timezone.get_current_timezone()

    def first_day_from(moment: dt.datetime) -> dt.date:
        local = timezone.localtime(moment, tz)
        at_midnight = local.time() == dt.time.min
        return local.date() if at_midnight else local.date() + dt.timedelta(days=1)

    return first_day_from(q.start), first_day_from(q.end)


def _answerable(q: Query) -> bool:
    return (q.group is None or q.group in SUPPORTED) and all(d in SUPPORTED for d in q.filters)


def _visit_filters(q: Query) -> Q:
    out = Q()
    for dimension, values in q.filters.items():
        column = "visitor_id" if dimension == "cadre" else f"{dimension}_id"
        out &= Q(**{f"{column}__in": values})
    return out


def visits(q: Query, fs: FigureSet) -> dict[Any, dict[str, int]]:
    """Visits made in the period, and the households they reached, against the households in
    scope.

    - ``visits`` (走访次数): visits under the place whose day is in the period;
    - ``households_visited`` (走访户数): the different households among them (active ones);
    - ``special_households_visited`` (重点户走访户数): of those, households with an active
      member who is 孤寡老人, 留守儿童 or 残疾人;
    - ``households`` (户数): active households under the place now;
    - ``special_households`` (重点关爱户数): of those, the households with such a member.

    走访覆盖率 = households_visited ÷ households; 重点户走访覆盖率 = special_households_visited ÷
    special_households. By cadre (or filtered by cadre) the households in scope are not given
    (no one cadre answers for every household), so the coverage rates are None there.

    Two queries: the visits grouped, the households grouped.
    """
    if not _answerable(q):
        return {}
    first, stop = day_bounds(q)
    group = None if q.group is None else ("visitor_id" if q.group == "cadre"
                                          else f"{q.group}_id")
    active = Q(household__is_active=True)
    out = grouped(
        Visit.objects.filter(q.scope.scope_q(), _visit_filters(q), visited_on__gte=first,
                             visited_on__lt=stop),
        group,
        visits=Count("pk"),
        households_visited=Count("household_id", distinct=True, filter=active),
        special_households_visited=Count("household_id", distinct=True,
                                         filter=active & Q(special_member("household_id"))),
    )
    if q.group == "cadre" or "cadre" in q.filters:
        return out
    households = Place.objects.filter(q.scope.scope_q(), _visit_filters(q),
                                      kind=PlaceKind.HOUSEHOLD, is_active=True)
    for key, counts in grouped(households, group, households=Count("pk"),
                               special_households=Count("pk", filter=Q(special_member()))
                               ).items():
        out.setdefault(key, {}).update(counts)
    return out


def quota_weeks(q: Query) -> list[dt.date]:
    """The Mondays of the ISO weeks that *end* in the period (their Sunday's day is in it)
    and have begun by ``now``."""
    first, stop = day_bounds(q)
    today = timezone.localtime(q.now).date()
    monday = week_start(first)  # the first week whose Sunday is on or after ``first``
    weeks = []
    while monday + dt.timedelta(days=6) < stop and monday <= today:
        weeks.append(monday)
        monday += dt.timedelta(days=7)
    return weeks


def visit_quota(q: Query, fs: FigureSet) -> dict[Any, dict[str, int]]:
    """Cadre-weeks: how often cadres met their weekly quota.

    Weeks are ISO weeks (Monday to Sunday); a week belongs to the period in which it *ends*
    (its Sunday), so every week is counted in exactly one month, quarter or year; a week not
    yet begun at ``now`` is not counted, one still running is counted with its visits so far.
    The cadres are those with an active grant under the place (the one that sets their quota
    decides their place in a breakdown), quota above 0, and granted before the week's end.

    - ``quota_weeks`` (应达标人周数): cadres with a quota × the weeks of the period;
    - ``quota_weeks_met`` (达标人周数): of those, the weeks in which the cadre visited at
      least their quota of *different* households.

    走访任务达标率 = quota_weeks_met ÷ quota_weeks. Over one week it is cadres meeting their
    quota ÷ cadres with a quota.

    Three queries: the grants, the quota rows, the households per cadre per week.
    """
    if not _answerable(q):
        return {}
    weeks = quota_weeks(q)
    if not weeks:
        return {}
    grants = RoleGrant.objects.filter(q.scope.scope_q("place__"))
    for dimension, values in q.filters.items():
        column = "user_id" if dimension == "cadre" else f"place__{dimension}_id"
        grants = grants.filter(**{f"{column}__in": values})
    found = cadres(grants)
    if not found:
        return {}
    tz = timezone.get_current_timezone()
    counts: dict[tuple[int, dt.date], int] = {}
    for row in (Visit.objects.filter(visitor_id__in=Subquery(grants.values("user_id")),
                                     visited_on__gte=weeks[0],
                                     visited_on__lt=weeks[-1] + dt.timedelta(days=7))
                .annotate(week=TruncWeek("visited_on")).order_by()
                .values("visitor_id", "week").annotate(n=Count("household_id", distinct=True))):
        week = row["week"]
        week = week.date() if isinstance(week, dt.datetime) else week
        counts[(row["visitor_id"], week)] = row["n"]
    out: dict[Any, dict[str, int]] = {}
    for cadre in found:
        if q.group is None:
            key = ALL
        elif q.group == "cadre":
            key = cadre.user.pk
        else:
            key = cadre.place.ancestor_id(q.group)
        for monday in weeks:
            week_end = timezone.make_aware(
                dt.datetime.combine(monday + dt.timedelta(days=7), dt.time.min), tz)
            if cadre.granted_at >= week_end:
                continue
            row = out.setdefault(key, {"quota_weeks": 0, "quota_weeks_met": 0})
            row["quota_weeks"] += 1
            if counts.get((cadre.user.pk, monday), 0) >= cadre.quota:
                row["quota_weeks_met"] += 1
    return out


SETS = (
    FigureSet("visits", "入户走访", ("visits", "households_visited", "special_households_visited",
                                  "households", "special_households"), visits),
    FigureSet("visit_quota", "走访任务", ("quota_weeks", "quota_weeks_met"), visit_quota),
)

RATIOS = (
    Ratio("coverage_rate", "走访覆盖率", ("households_visited",), ("households",)),
    Ratio("special_coverage_rate", "重点户走访覆盖率", ("special_households_visited",),
          ("special_households",)),
    Ratio("quota_rate", "走访任务达标率", ("quota_weeks_met",), ("quota_weeks",)),
)


def register() -> None:
    for figure_set in SETS:
        register_figure_set(figure_set)
    for ratio in RATIOS:
        register_ratio(ratio)
