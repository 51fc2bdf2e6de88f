"""Answering the figures: :func:`compute` for a place, a period and a breakdown, :func:`rank`
for a league table.

Every caller — the public board, assessments, dashboards, reports and exports — asks here, so
they never disagree. The definitions themselves are in :mod:`.sets` and ``docs/figures.md``.
Callers check access to ``scope`` before asking: these functions count whatever is under it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.accounts.models import User
from gongzhi.matters.models import Category, Channel, Ledger, StageKind
from gongzhi.places.models import LEVELS, Organisation, Place

from . import rollups
from .registry import (
    ALL,
    DIMENSIONS,
    FIGURE_SETS,
    PERIODS,
    PLACE_DIMENSIONS,
    RATIOS,
    FigureSet,
    Query,
    apply_ratios,
)

MAX_BUCKETS = 120
# The figure sets the rollups keep, and how to read them.
ROLLUP_READERS = {
    "matters": rollups.matters_from_rollups,
    "handling_time": rollups.matters_from_rollups,
    "satisfaction": rollups.voices_from_rollups,
    "resolution": rollups.voices_from_rollups,
}
DEFAULT_MIN_VOLUME = 10


# ---------------------------------------------------------------------------------------------
# compute


def compute(
    figure_sets: str | Iterable[str],
    scope: Place,
    start: dt.date | dt.datetime,
    end: dt.date | dt.datetime,
    *,
    group_by: str | None = None,
    filters: Mapping[str, Any] | None = None,
    now: dt.datetime | None = None,
    source: str = "auto",
) -> dict[str, Any]:
    """The figures of the sets named (``"matters"``, ``"satisfaction"`` ... or ``"all"``) for
    everything under ``scope`` over ``[start, end)`` (dates are local midnights).

    ``group_by`` breaks them down by a dimension — ``"children"`` (the level below
    ``scope``), ``"town"``, ``"village"``, ``"grid"``, ``"ledger"``, ``"category"``,
    ``"channel"``, ``"department"``, ``"cadre"``, ``"stage_kind"`` (the kind of stage a
    matter is in now: the stage funnel of the ``overdue`` set) — or by a period: ``"day"``,
    ``"week"``, ``"month"``, ``"quarter"``, ``"year"``. ``filters`` keeps rows whose
    dimension is one of the values given, e.g. ``{"ledger": "complaint", "department": [org.pk]}``.

    Returns plain data::

        {"scope": {"id", "name", "kind"}, "start", "end", "now", "group_by", "sets",
         "total": {count or ratio: value, ...},
         "rows": [{"key", "label", count or ratio: value, ...}, ...]}

    Rows of a dimension partition the total: their counts add up to it (the total is their
    sum), and every place of the level is listed, with zeros where nothing happened; rows
    whose dimension is empty (a matter raised at the town, one with no department) come last
    with the key None. Rows of a period are each that period's own figures (a month's 办结率
    counts what closed by the end of that month), so they need not add up to the total, which
    is the whole period's. Ratios are computed from summed counts, never averaged.

    Queries: one per set (``GROUP BY`` the dimension) and one for the row labels; by period,
    one per set for each period and for the whole. Handling time adds one read of the
    calendar's overrides per year it touches.

    ``source``: ``"auto"`` reads the sets kept in rollups (matters, handling time,
    satisfaction, resolution) from :mod:`.rollups` when the question is one they answer
    (whole local months, no filters, a kept breakdown) and the setting ``FIGURES_ROLLUPS``
    is not false; ``"raw"`` always counts the rows. Both give the same numbers.
    """
    if source not in ("auto", "raw"):
        raise ValueError(f"unknown source: {source}")
    use_rollups = source == "auto" and getattr(settings, "FIGURES_ROLLUPS", True)
    sets = _sets(figure_sets)
    start, end = _aware(start), _aware(end)
    if end <= start:
        raise ValueError("end must be after start")
    now = now or timezone.now()
    clean = _filters(filters)
    result: dict[str, Any] = {
        "scope": {"id": scope.pk, "name": scope.name, "kind": scope.kind},
        "start": start, "end": end, "now": now, "group_by": group_by,
        "sets": [s.key for s in sets], "rows": [],
    }
    whole = Query(scope, start, end, now, None, clean)
    if group_by is None:
        result["total"] = _counts(sets, whole, use_rollups)[ALL]
    elif group_by in PERIODS:
        if not all(s.periodic for s in sets):
            raise ValueError(f"{[s.key for s in sets if not s.periodic]} have no period breakdown")
        buckets = periods(start, end, group_by)
        queries = [Query(scope, b.start, b.end, now, None, clean) for b in buckets]
        kept: dict[str, list[dict[str, int]]] = {}
        if use_rollups and all(rollups.answerable(q) for q in queries):
            # The sets kept in rollups: one query each for every period at once.
            for figure_set in sets:
                if figure_set.key in ROLLUP_READERS:
                    kept[figure_set.key] = rollups.read_periods(
                        figure_set.key, whole, queries, figure_set.counts)
        for i, (bucket, q) in enumerate(zip(buckets, queries, strict=True)):
            counts: dict[str, int] = dict.fromkeys(_count_names(sets), 0)
            rest = [s for s in sets if s.key not in kept]
            if rest:
                counts.update(_counts(rest, q, use_rollups)[ALL])
            for found in kept.values():
                counts.update(found[i])
            result["rows"].append({"key": bucket.key, "label": bucket.label,
                                   "start": bucket.start, "end": bucket.end, **counts})
        result["total"] = _counts(sets, whole, use_rollups)[ALL]
    else:
        dimension = _dimension(group_by, scope)
        result["group_by"] = dimension
        by_key = _counts(sets, Query(scope, start, end, now, dimension, clean), use_rollups)
        labels = _labels(dimension, scope, [k for k in by_key if k is not None])
        zero = dict.fromkeys(_count_names(sets), 0)
        keys = [*labels, *(k for k in by_key if k is not None and k not in labels)]
        keys += [None] if None in by_key else []
        for key in keys:
            label = _("未指定") if key is None else labels.get(key, str(key))
            result["rows"].append({"key": key, "label": label, **zero, **by_key.get(key, {})})
        total = dict(zero)
        for row in result["rows"]:
            for name in zero:
                total[name] += row[name]
        result["total"] = total
    apply_ratios(result["total"])
    for row in result["rows"]:
        apply_ratios(row)
    return result


def _sets(names: str | Iterable[str]) -> list[FigureSet]:
    if isinstance(names, str):
        names = list(FIGURE_SETS) if names == "all" else [names]
    unknown = [n for n in names if n not in FIGURE_SETS]
    if unknown:
        raise ValueError(f"unknown figure sets: {unknown}")
    return [FIGURE_SETS[n] for n in dict.fromkeys(names)]


def _count_names(sets: list[FigureSet]) -> list[str]:
    return list(dict.fromkeys(name for s in sets for name in s.counts))


def _counts(sets: list[FigureSet], q: Query,
            use_rollups: bool = False) -> dict[Any, dict[str, int]]:
    merged: dict[Any, dict[str, int]] = {}
    kept = use_rollups and rollups.answerable(q)
    for figure_set in sets:
        reader = ROLLUP_READERS.get(figure_set.key) if kept else None
        found = (reader(q, figure_set.counts) if reader else figure_set.query(q, figure_set))
        for key, counts in found.items():
            merged.setdefault(key, {}).update(counts)
    if q.group is None:  # an empty ungrouped set still says zero
        merged[ALL] = {**dict.fromkeys(_count_names(sets), 0), **merged.get(ALL, {})}
    return merged


def _aware(value: dt.date | dt.datetime) -> dt.datetime:
    if not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time.min)
    if timezone.is_naive(value):
        value = timezone.make_aware(value, timezone.get_current_timezone())
    return value


def _dimension(group_by: str, scope: Place) -> str:
    if group_by == "children":
        if scope.level + 1 >= len(LEVELS) or LEVELS[scope.level + 1] not in PLACE_DIMENSIONS:
            raise ValueError(f"a {scope.kind} has no children to break figures down by")
        return LEVELS[scope.level + 1]
    if group_by not in DIMENSIONS:
        raise ValueError(f"unknown dimension: {group_by}")
    if group_by in PLACE_DIMENSIONS and LEVELS.index(group_by) <= scope.level:
        raise ValueError(f"cannot break a {scope.kind} down by {group_by}")
    return group_by


def _filters(filters: Mapping[str, Any] | None) -> dict[str, tuple]:
    clean: dict[str, tuple] = {}
    for dimension, value in (filters or {}).items():
        if dimension not in DIMENSIONS:
            raise ValueError(f"unknown filter: {dimension}")
        values = value if isinstance(value, list | tuple | set | frozenset) else [value]
        clean[dimension] = tuple(v.pk if isinstance(v, models.Model) else v for v in values)
    return clean


def _labels(dimension: str, scope: Place, keys: list[Any]) -> dict[Any, str]:
    """Every place of the level under ``scope`` (in the tree's order), else the keys found."""
    if dimension in PLACE_DIMENSIONS:
        places = Place.objects.filter(scope.scope_q(), kind=dimension).order_by(
            "sort_order", "pk").values_list("pk", "name")
        labels = dict(places)
        # A place moved out of the scope still labels the rows it has.
        missing = [k for k in keys if k not in labels]
        if missing:
            labels.update(Place.objects.filter(pk__in=missing).values_list("pk", "name"))
        return labels
    if dimension == "ledger":
        return {value: str(label) for value, label in Ledger.choices}
    if dimension == "stage_kind":  # the kind of stage a matter is in now (the stage funnel)
        return {k: str(dict(StageKind.choices).get(k, k)) for k in
                sorted(keys, key=lambda k: (StageKind.values.index(k) if k in StageKind.values
                                            else len(StageKind.values), k))}
    if dimension == "channel":
        return {k: str(dict(Channel.choices).get(k, k)) for k in
                sorted(keys, key=lambda k: (Channel.values.index(k) if k in Channel.values
                                            else len(Channel.values), k))}
    model, name = {"category": (Category, "name"), "department": (Organisation, "name")}.get(
        dimension, (User, None))
    if name is None:  # cadre
        users = User.objects.filter(pk__in=keys).order_by("pk")
        return {u.pk: str(u) for u in users}
    return dict(model.objects.filter(pk__in=keys).order_by("pk").values_list("pk", name))


# ---------------------------------------------------------------------------------------------
# Periods


@dataclass(frozen=True)
class Bucket:
    key: str
    label: str
    start: dt.datetime
    end: dt.datetime


def periods(start: dt.datetime, end: dt.datetime, unit: str) -> list[Bucket]:
    """The calendar periods (local time) covering [start, end), the first and last clipped to
    it. Weeks run Monday to Sunday; quarters begin in January, April, July and October."""
    tz = timezone.get_current_timezone()
    day = timezone.localtime(start, tz).date()
    first = _period_start(day, unit)
    buckets = []
    while True:
        nxt = _period_next(first, unit)
        b_start = max(start, timezone.make_aware(dt.datetime.combine(first, dt.time.min), tz))
        b_end = min(end, timezone.make_aware(dt.datetime.combine(nxt, dt.time.min), tz))
        if b_start >= end:
            break
        buckets.append(Bucket(first.isoformat(), _period_label(first, unit), b_start, b_end))
        if len(buckets) > MAX_BUCKETS:
            raise ValueError(f"more than {MAX_BUCKETS} periods: choose a longer one")
        first = nxt
    return buckets


def _period_start(day: dt.date, unit: str) -> dt.date:
    if unit == "day":
        return day
    if unit == "week":
        return day - dt.timedelta(days=day.weekday())
    if unit == "month":
        return day.replace(day=1)
    if unit == "quarter":
        return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    if unit == "year":
        return dt.date(day.year, 1, 1)
    raise ValueError(f"unknown period: {unit}")


def _period_next(day: dt.date, unit: str) -> dt.date:
    if unit == "day":
        return day + dt.timedelta(days=1)
    if unit == "week":
        return day + dt.timedelta(days=7)
    months = {"month": 1, "quarter": 3, "year": 12}[unit]
    month = day.month - 1 + months
    return dt.date(day.year + month // 12, month % 12 + 1, 1)


def _period_label(day: dt.date, unit: str) -> str:
    if unit == "day":
        return _("%(y)d年%(m)d月%(d)d日") % {"y": day.year, "m": day.month, "d": day.day}
    if unit == "week":
        return _("%(y)d年%(m)d月%(d)d日起一周") % {"y": day.year, "m": day.month, "d": day.day}
    if unit == "month":
        return _("%(y)d年%(m)d月") % {"y": day.year, "m": day.month}
    if unit == "quarter":
        return _("%(y)d年第%(q)d季度") % {"y": day.year, "q": (day.month - 1) // 3 + 1}
    return _("%(y)d年") % {"y": day.year}


# ---------------------------------------------------------------------------------------------
# Rankings


def rank(rows: Iterable[Mapping[str, Any]], figure: str, *,
         min_volume: int = DEFAULT_MIN_VOLUME) -> list[dict[str, Any]]:
    """A league table of ``rows`` (from :func:`compute`) by the ratio ``figure``.

    A unit's *volume* is the ratio's denominator (matters received for 办结率, answers for
    满意率, summonses for 报到率 ...). Units with at least ``min_volume`` are ranked, best
    first (the highest rate, or the lowest for 重办率 and 平均办理用时); equal values share a
    rank and the next rank skips (1, 2, 2, 4); among equals the larger volume is listed first.
    Units below ``min_volume`` — a village with two matters must not top the league — are
    listed after the ranked ones with ``rank`` None and ``ranked`` false, largest volume first.

    Each row is returned as a copy with ``rank``, ``ranked``, ``volume`` and ``value`` added.
    """
    ratio = RATIOS.get(figure)
    if ratio is None:
        raise ValueError(f"unknown figure: {figure}")
    out = []
    for row in rows:
        volume = ratio.volume(row)
        value = ratio.value(row)
        ranked = value is not None and volume >= max(min_volume, 1)
        out.append({**row, "volume": volume, "value": value, "ranked": ranked, "rank": None})
    sign = -1 if ratio.higher_is_better else 1
    league = sorted((r for r in out if r["ranked"]),
                    key=lambda r: (sign * r["value"], -r["volume"], str(r.get("label", ""))))
    for i, row in enumerate(league):
        same = i and league[i - 1]["value"] == row["value"]
        row["rank"] = league[i - 1]["rank"] if same else i + 1
    rest = sorted((r for r in out if not r["ranked"]),
                  key=lambda r: (-r["volume"], str(r.get("label", ""))))
    return league + rest


def percent(value: float | None, digits: int = 1) -> str:
    """A rate as offices print it: ``97.5%``, or ``—`` when there is nothing to divide."""
    return "—" if value is None else f"{value * 100:.{digits}f}%"
