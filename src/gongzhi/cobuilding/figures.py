"""三共's figures, registered with the figures app (``apps.py``).

- ``cobuilding_projects``: projects *started* in the period (their ``start_on``), and of those
  the ones completed by the period's end, and completed by their due date. By unit
  (``department`` = a participating unit): each project once per unit taking part.
- ``cobuilding_contributions``: contributions whose day is in the period: how many, the hours
  and the funds (yuan, rounded down), and the projects they went to. By unit: the unit that
  contributed.
- ``cobuilding_needs``: needs recorded in the period, and those matched with a project by its end.

Ratios: 共建项目完成率, 共建项目按期完成率, 需求对接率. An assessment of units (``department``
rounds) lists every unit these figures name, stationed units included.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, F, Q, Sum

from gongzhi.figures.registry import (
    PLACE_DIMENSIONS,
    FigureSet,
    Query,
    Ratio,
    register_figure_set,
    register_ratio,
)
from gongzhi.figures.sets import grouped
from gongzhi.visits.figures import day_bounds

from .models import Contribution, Need, Project, ProjectStatus

SUPPORTED = (*PLACE_DIMENSIONS, "department")


def _answerable(q: Query) -> bool:
    return (q.group is None or q.group in SUPPORTED) and all(d in SUPPORTED for d in q.filters)


def _filters(q: Query, unit_field: str) -> Q:
    out = Q()
    for dimension, values in q.filters.items():
        column = unit_field if dimension == "department" else f"{dimension}_id"
        out &= Q(**{f"{column}__in": values})
    return out


def _group(q: Query, unit_field: str) -> str | None:
    if q.group is None:
        return None
    return unit_field if q.group == "department" else f"{q.group}_id"


def projects(q: Query, fs: FigureSet) -> dict[Any, dict[str, int]]:
    if not _answerable(q):
        return {}
    first, stop = day_bounds(q)
    unit = "units__organisation_id"
    done = Q(status=ProjectStatus.COMPLETED, completed_on__lt=stop)
    return grouped(
        Project.objects.filter(q.scope.scope_q(), _filters(q, unit), start_on__gte=first,
                               start_on__lt=stop),
        _group(q, unit),
        projects=Count("pk", distinct=True),
        projects_completed=Count("pk", distinct=True, filter=done),
        projects_on_time=Count("pk", distinct=True,
                               filter=done & Q(completed_on__lte=F("due_on"))),
    )


def contributions(q: Query, fs: FigureSet) -> dict[Any, dict[str, int]]:
    if not _answerable(q):
        return {}
    first, stop = day_bounds(q)
    unit = "organisation_id"
    out = grouped(
        Contribution.objects.filter(q.scope.scope_q(), _filters(q, unit), on__gte=first,
                                    on__lt=stop),
        _group(q, unit),
        contributions=Count("pk"), hours=Sum("hours"), funds=Sum("funds"),
        projects_supported=Count("project_id", distinct=True),
    )
    for counts in out.values():
        counts["hours"] = int(counts["hours"] or 0)
        counts["funds"] = int(counts["funds"] or 0)
    return out


def needs(q: Query, fs: FigureSet) -> dict[Any, dict[str, int]]:
    if not _answerable(q) or q.group == "department" or "department" in q.filters:
        return {}
    _first, stop = day_bounds(q)
    matched = Q(projects__start_on__lt=stop)
    return grouped(
        Need.objects.filter(q.scope.scope_q(), _filters(q, ""), created_at__gte=q.start,
                            created_at__lt=q.end),
        _group(q, ""),
        needs=Count("pk", distinct=True),
        needs_matched=Count("pk", distinct=True, filter=matched),
    )


SETS = (
    FigureSet("cobuilding_projects", "共建项目",
              ("projects", "projects_completed", "projects_on_time"), projects),
    FigureSet("cobuilding_contributions", "单位共建投入",
              ("contributions", "hours", "funds", "projects_supported"), contributions),
    FigureSet("cobuilding_needs", "需求清单", ("needs", "needs_matched"), needs),
)

RATIOS = (
    Ratio("cobuilding_completion_rate", "共建项目完成率", ("projects_completed",), ("projects",)),
    Ratio("cobuilding_on_time_rate", "共建项目按期完成率", ("projects_on_time",), ("projects",)),
    Ratio("cobuilding_match_rate", "需求对接率", ("needs_matched",), ("needs",)),
)


def register() -> None:
    for figure_set in SETS:
        register_figure_set(figure_set)
    for ratio in RATIOS:
        register_ratio(ratio)


def unit_totals(scope, start, end) -> dict[int, dict[str, int]]:
    """Each unit's contributions under ``scope`` over [start, end) (dates), for the pages."""
    import datetime as dt

    from django.utils import timezone

    tz = timezone.get_current_timezone()
    q = Query(scope, timezone.make_aware(dt.datetime.combine(start, dt.time.min), tz),
              timezone.make_aware(dt.datetime.combine(end, dt.time.min), tz), timezone.now(),
              "department")
    out = contributions(q, SETS[1])
    for key, row in projects(q, SETS[0]).items():
        out.setdefault(key, {}).update(row)
    return out
