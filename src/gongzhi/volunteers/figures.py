"""The figures of 志愿服务, registered with the figures app (``apps.py``).

- **Activities** belong to the period their start is in, and to their place's town, village
  and grid. Only finished activities count.
- **Orders** belong to the period they were placed in, and to the household that placed them.
- **Dimensions.** By place (town, village, grid) and by period. Volunteer rows have no ledger,
  channel, category, department or cadre: grouped or filtered by one of those, the figures are
  empty (zeros), never an error. Hours by team are on the workbench (:func:`hours_by_team`).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, Sum

from gongzhi.figures.registry import (
    PLACE_DIMENSIONS,
    FigureSet,
    Query,
    Ratio,
    register_figure_set,
    register_ratio,
)
from gongzhi.figures.sets import grouped
from gongzhi.places.models import Place

from .models import Activity, ActivityStatus, OrderStatus, ServiceOrder, Signup, SignupStatus


def _answerable(q: Query) -> bool:
    return ((q.group is None or q.group in PLACE_DIMENSIONS)
            and all(d in PLACE_DIMENSIONS for d in q.filters))


def _filters(q: Query, prefix: str = "") -> Q:
    out = Q()
    for dimension, values in q.filters.items():
        out &= Q(**{f"{prefix}{dimension}_id__in": values})
    return out


def activities(q: Query, fs: FigureSet) -> dict[Any, dict[str, int]]:
    """Finished activities started in the period, under the place:

    - ``volunteer_activities`` (志愿活动场次);
    - ``volunteer_participants`` (参与人次): sign-ups with hours;
    - ``volunteer_minutes`` (服务时长，分钟): their confirmed or counted minutes.

    One query (activities joined to their sign-ups).
    """
    if not _answerable(q):
        return {}
    counted = Q(signups__status=SignupStatus.SIGNED_UP, signups__minutes__gt=0)
    return grouped(
        Activity.objects.filter(q.scope.scope_q(), _filters(q), status=ActivityStatus.FINISHED,
                                starts_at__gte=q.start, starts_at__lt=q.end),
        None if q.group is None else f"{q.group}_id",
        volunteer_activities=Count("pk", distinct=True),
        volunteer_participants=Count("signups", filter=counted),
        volunteer_minutes=Sum("signups__minutes", filter=counted),
    )


def orders(q: Query, fs: FigureSet) -> dict[Any, dict[str, int]]:
    """Orders placed in the period by households under the place:

    - ``service_orders`` (点单数); ``service_orders_delivered`` (已服务，含已评价);
    - ``service_orders_rated`` (已评价); ``service_orders_satisfied`` (评4星及以上);
    - ``service_rating_points`` (评分合计: the average is this ÷ rated).

    服务完成率 = delivered ÷ orders; 服务好评率 = satisfied ÷ rated. One query.
    """
    if not _answerable(q):
        return {}
    done = Q(status__in=(OrderStatus.DELIVERED, OrderStatus.RATED))
    rated = Q(status=OrderStatus.RATED)
    return grouped(
        ServiceOrder.objects.filter(q.scope.scope_q(), _filters(q), created_at__gte=q.start,
                                    created_at__lt=q.end),
        None if q.group is None else f"{q.group}_id",
        service_orders=Count("pk"),
        service_orders_delivered=Count("pk", filter=done),
        service_orders_rated=Count("pk", filter=rated),
        service_orders_satisfied=Count("pk", filter=rated & Q(rating__gte=4)),
        service_rating_points=Sum("rating", filter=rated),
    )


def hours_by_team(scope: Place, start, end) -> list[dict]:
    """Finished activities started in [start, end) under ``scope``, by organising team: the
    team, activities, participants with hours, and hours. One query."""
    rows = (Signup.objects.filter(scope.scope_q("activity__"), status=SignupStatus.SIGNED_UP,
                                  minutes__gt=0, activity__status=ActivityStatus.FINISHED,
                                  activity__starts_at__gte=start, activity__starts_at__lt=end)
            .values("activity__team_id", "activity__team__name")
            .annotate(activities=Count("activity_id", distinct=True), participants=Count("pk"),
                      minutes=Sum("minutes"))
            .order_by("-minutes"))
    return [{"team_id": r["activity__team_id"], "team": r["activity__team__name"] or "",
             "activities": r["activities"], "participants": r["participants"],
             "hours": round((r["minutes"] or 0) / 60, 1)} for r in rows]


SETS = (
    FigureSet("volunteer_activities", "志愿活动",
              ("volunteer_activities", "volunteer_participants", "volunteer_minutes"),
              activities),
    FigureSet("service_orders", "菜单式服务",
              ("service_orders", "service_orders_delivered", "service_orders_rated",
               "service_orders_satisfied", "service_rating_points"), orders),
)

RATIOS = (
    Ratio("service_delivery_rate", "服务完成率", ("service_orders_delivered",),
          ("service_orders",)),
    Ratio("service_satisfaction_rate", "服务好评率", ("service_orders_satisfied",),
          ("service_orders_rated",)),
)


def register() -> None:
    for figure_set in SETS:
        register_figure_set(figure_set)
    for ratio in RATIOS:
        register_ratio(ratio)
