"""``GET /figures``: the figures of ``gongzhi.figures.compute()`` (办结率, 满意率 ...) for a
place, a period, a breakdown and filters; ``GET /figures/sets``: what may be asked.

The place must be one where the caller holds ``matters.view`` (else 404, as for any object
out of scope); without ``place``, the highest such place of the caller. Figures are counts and
ratios only: no names, no matters.
"""

import datetime as dt
from typing import Literal

from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from gongzhi.core.access import grants_with, has_permission
from gongzhi.core.errors import ActionError
from gongzhi.figures.compute import MAX_BUCKETS, compute
from gongzhi.figures.registry import FIGURE_SETS, RATIOS
from gongzhi.matters.models import Channel, Ledger
from gongzhi.places.models import Place, PlaceKind

from .errors import ErrorOut
from .params import EARLIEST, LATEST

router = Router(tags=["figures"])

PERMISSION = "matters.view"
GroupBy = Literal["children", "town", "village", "grid", "ledger", "category", "channel",
                  "department", "cadre", "stage_kind", "day", "week", "month", "quarter",
                  "year"]


class FigureSetOut(Schema):
    key: str
    name: str
    counts: list[str]
    periodic: bool = Field(..., description="whether it may be broken down by period")


class FigureRatioOut(Schema):
    key: str
    name: str
    numerator: list[str]
    denominator: list[str]
    unit: str = Field(..., description='"rate" (a fraction) or "working_days"')
    higher_is_better: bool


class FigureSetsOut(Schema):
    sets: list[FigureSetOut]
    ratios: list[FigureRatioOut]


class FigureScopeOut(Schema):
    id: int
    name: str
    kind: str


class FigureRowOut(Schema):
    key: str | int | None = Field(..., description="the place, category, department or user "
                                                    "id, the ledger/channel/stage kind, or the "
                                                    "period's first day; null: not given")
    label: str
    start: dt.datetime | None = Field(None, description="a period row's start")
    end: dt.datetime | None = Field(None, description="a period row's end (exclusive)")
    figures: dict[str, float | None] = Field(..., description="counts and ratios; a ratio is "
                                                              "null when nothing was counted")


class PlaceFiguresOut(Schema):
    scope: FigureScopeOut
    start: dt.datetime
    end: dt.datetime
    now: dt.datetime
    group_by: str | None
    sets: list[str]
    total: dict[str, float | None]
    rows: list[FigureRowOut]


class FiguresQuery(Schema):
    place: int | None = Field(None, description="a county, town, village or grid (default: "
                                                "the caller's highest place)")
    sets: list[str] = Field(["matters"], description="figure sets (see /figures/sets), or "
                                                     '"all"')
    start: dt.date | None = Field(None, ge=EARLIEST, le=LATEST,
                                  description="first day (default: the 1st of this month)")
    end: dt.date | None = Field(None, ge=EARLIEST, le=LATEST,
                                description="the day after the last (default: tomorrow)")
    group_by: GroupBy | None = Field(None, description="a dimension, or a period (at most "
                                                       f"{MAX_BUCKETS} periods)")
    ledger: list[Ledger] = Field([], description="keep only these ledgers")
    channel: list[Channel] = Field([], description="keep only these channels")
    category: list[int] = Field([], description="keep only these categories")
    department: list[int] = Field([], description="keep only matters these units handle")


def _scope(user, place_id: int | None) -> Place:
    if place_id is not None:
        place = Place.objects.filter(pk=place_id).first()
        if place is None or not has_permission(user, PERMISSION, place):
            raise Http404
    elif user.is_superuser:
        place = Place.objects.filter(kind=PlaceKind.COUNTY).order_by("sort_order", "pk").first()
    else:
        ids = {g.place_id for g in grants_with(user, PERMISSION)}
        places = sorted(Place.objects.filter(pk__in=ids),
                        key=lambda p: (p.level, p.sort_order, p.pk))
        place = places[0] if places else None
    if place is None:
        raise Http404
    if place.kind not in (PlaceKind.COUNTY, PlaceKind.TOWN, PlaceKind.VILLAGE, PlaceKind.GRID):
        raise ActionError(_("统计范围须是县（区）、镇（街道）、村（社区）或网格。"))
    return place


def _numbers(counts: dict) -> dict[str, float | None]:
    return {k: v for k, v in counts.items() if k not in ("key", "label", "start", "end")}


@router.get("/figures/sets", response=FigureSetsOut)
def figure_sets(request):
    """The figure sets and ratios that ``GET /figures`` can answer (as ``docs/figures.md``
    defines them)."""
    return {
        "sets": [{"key": s.key, "name": s.name, "counts": list(s.counts),
                  "periodic": s.periodic} for s in FIGURE_SETS.values()],
        "ratios": [{"key": r.key, "name": r.name, "numerator": list(r.numerator),
                    "denominator": list(r.denominator), "unit": r.unit,
                    "higher_is_better": r.higher_is_better} for r in RATIOS.values()],
    }


@router.get("/figures", response={200: PlaceFiguresOut, 400: ErrorOut, 404: ErrorOut})
def figures(request, query: Query[FiguresQuery]):
    """Counts and ratios under ``place`` over ``[start, end)``, optionally broken down
    (``group_by``) and filtered. Rows of a dimension add up to the total; period rows are each
    that period's own figures. 400 when the question cannot be answered (an unknown set, a
    breakdown finer than the place allows, too many periods)."""
    user = request.auth
    scope = _scope(user, query.place)
    today = timezone.localdate()
    start = query.start or today.replace(day=1)
    end = query.end or today + dt.timedelta(days=1)
    if end <= start:
        raise ActionError(_("结束日期须晚于开始日期。"))
    names = list(dict.fromkeys(query.sets)) or ["matters"]
    if names != ["all"]:
        unknown = [n for n in names if n not in FIGURE_SETS]
        if unknown:
            raise ActionError(_("未知的统计项：%(names)s。") % {"names": "、".join(unknown)})
    filters = {name: values for name, values in (
        ("ledger", [str(v) for v in query.ledger]), ("channel", [str(v) for v in query.channel]),
        ("category", query.category), ("department", query.department)) if values}
    try:
        result = compute(names if names != ["all"] else "all", scope, start, end,
                         group_by=query.group_by, filters=filters)
    except ValueError as exc:
        raise ActionError(_("无法按此条件统计：%(reason)s") % {"reason": exc}) from exc
    return {**result,
            "total": _numbers(result["total"]),
            "rows": [{"key": r["key"], "label": r["label"], "start": r.get("start"),
                      "end": r.get("end"), "figures": _numbers(r)} for r in result["rows"]]}
