"""What a dashboard shows, as plain data: every number is asked of
:func:`gongzhi.figures.compute.compute` (and ranked by :func:`~gongzhi.figures.compute.rank`),
so the dashboard never disagrees with the figures, the reports or the board.

:func:`dashboard` is used by the page (embedded with ``json_script``) and by the JSON endpoint.
Its cost does not grow with the matters: whole-month periods are read from the figure rollups
(``docs/adr/0006-figure-rollups.md``); the snapshot of open matters counts the open ones.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.figures.compute import DEFAULT_MIN_VOLUME, compute, percent, rank
from gongzhi.figures.registry import FIGURE_SETS
from gongzhi.places.models import LEVELS, Place

PERIOD_KINDS = ("month", "quarter", "year", "custom")
MAX_CUSTOM_DAYS = 366 * 3
TREND_MONTHS = 12
# Sets behind the figure cards (visits when the visits app has registered them).
CARD_SETS = ("matters", "handling_time", "satisfaction", "resolution", "summons", "overdue",
             "visits")
UNIT_SETS = ("matters", "handling_time", "satisfaction", "overdue")
HEAT_FIGURES = (("received", "收到事项"), ("completion_rate", "办结率"),
                ("satisfaction_rate", "满意率"), ("overdue", "超期"))


# ---------------------------------------------------------------------------------------------
# Periods


@dataclass(frozen=True)
class Period:
    kind: str
    start: dt.date  # first day
    end: dt.date  # the day after the last
    label: str

    @property
    def last_day(self) -> dt.date:
        return self.end - dt.timedelta(days=1)

    def params(self) -> dict[str, str]:
        if self.kind == "month":
            return {"period": "month", "month": self.start.strftime("%Y-%m")}
        if self.kind == "quarter":
            return {"period": "quarter",
                    "quarter": f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"}
        if self.kind == "year":
            return {"period": "year", "year": str(self.start.year)}
        return {"period": "custom", "start": self.start.isoformat(),
                "end": self.last_day.isoformat()}


class BadPeriod(ValueError):
    pass


def _add_months(day: dt.date, months: int) -> dt.date:
    m = day.month - 1 + months
    return dt.date(day.year + m // 12, m % 12 + 1, 1)


def parse_period(params, today: dt.date | None = None) -> Period:
    """The period a request asks for (``period`` = month, quarter, year or custom, with
    ``month=2025-03``, ``quarter=2025-Q1``, ``year=2025`` or ``start``/``end`` days, both
    included); this month when nothing is asked. Raises :class:`BadPeriod` with a Chinese
    message."""
    today = today or timezone.localdate()
    kind = params.get("period") or "month"
    if kind not in PERIOD_KINDS:
        raise BadPeriod(_("未知的统计周期。"))
    try:
        if kind == "month":
            text = params.get("month") or today.strftime("%Y-%m")
            year, month = (int(x) for x in text.split("-"))
            start = dt.date(year, month, 1)
            return Period(kind, start, _add_months(start, 1),
                          _("%(y)d年%(m)d月") % {"y": year, "m": month})
        if kind == "quarter":
            text = params.get("quarter") or f"{today.year}-Q{(today.month - 1) // 3 + 1}"
            year_text, q_text = text.upper().split("-Q")
            year, quarter = int(year_text), int(q_text)
            if not 1 <= quarter <= 4:
                raise ValueError
            start = dt.date(year, 3 * quarter - 2, 1)
            return Period(kind, start, _add_months(start, 3),
                          _("%(y)d年第%(q)d季度") % {"y": year, "q": quarter})
        if kind == "year":
            year = int(params.get("year") or today.year)
            return Period(kind, dt.date(year, 1, 1), dt.date(year + 1, 1, 1),
                          _("%(y)d年") % {"y": year})
        first = dt.date.fromisoformat(params.get("start") or "")
        last = dt.date.fromisoformat(params.get("end") or "")
    except (ValueError, TypeError):
        raise BadPeriod(_("统计周期的日期格式不正确。")) from None
    if last < first:
        raise BadPeriod(_("结束日期不能早于开始日期。"))
    if (last - first).days >= MAX_CUSTOM_DAYS:
        raise BadPeriod(_("自定义周期最长三年。"))
    return Period("custom", first, last + dt.timedelta(days=1),
                  _("%(a)s至%(b)s") % {"a": first.isoformat(), "b": last.isoformat()})


# ---------------------------------------------------------------------------------------------
# The dashboard


def child_kind(scope: Place) -> str | None:
    nxt = LEVELS[scope.level + 1] if scope.level + 1 < len(LEVELS) else None
    return nxt if nxt in ("town", "village", "grid") else None


def _sets(names) -> list[str]:
    return [n for n in names if n in FIGURE_SETS]


def _num(value: Any) -> Any:
    return value  # rates go out as compute() gives them; the page rounds for display


def _plain(row: dict[str, Any], keep: tuple[str, ...] | None = None) -> dict[str, Any]:
    return {k: _num(v) for k, v in row.items()
            if (keep is None or k in keep) and not isinstance(v, dt.datetime)}


def _cards(total: dict[str, Any]) -> list[dict[str, Any]]:
    def rate(key, label, note=""):
        return {"key": key, "label": label, "value": _num(total.get(key)),
                "display": percent(total.get(key)), "note": note}

    def count(key, label, note=""):
        return {"key": key, "label": label, "value": total.get(key, 0),
                "display": str(total.get(key, 0)), "note": note}

    days = total.get("avg_handling_days")
    cards = [
        count("received", _("收到事项")),
        rate("completion_rate", _("办结率"),
             _("办结 %(n)d 件") % {"n": total.get("closed", 0)}),
        rate("on_time_rate", _("按期办结率")),
        rate("response_rate", _("响应率")),
        rate("resolution_rate", _("解决率"),
             _("回访联系上 %(n)d 人") % {"n": total.get("reached", 0)}),
        rate("satisfaction_rate", _("满意率"),
             _("未评价 %(n)d 件") % {"n": total.get("no_answer", 0)}),
        rate("reopen_rate", _("重办率")),
        rate("check_in_rate", _("报到率"),
             _("吹哨 %(n)d 次") % {"n": total.get("summoned", 0)}),
        {"key": "avg_handling_days", "label": _("平均办理用时"), "value": _num(days),
         "display": "—" if days is None else _("%(d).1f 个工作日") % {"d": days}, "note": ""},
        count("overdue", _("超期事项"), _("在办 %(n)d 件") % {"n": total.get("open", 0)}),
    ]
    if "coverage_rate" in total:
        cards.append(rate("coverage_rate", _("走访覆盖率"),
                          _("走访 %(n)d 户") % {"n": total.get("households_visited", 0)}))
    return cards


def dashboard(scope: Place, period: Period, *, now: dt.datetime | None = None) -> dict[str, Any]:
    """Everything one dashboard shows, for ``scope`` over ``period``."""
    now = now or timezone.now()
    start, end = period.start, period.end
    total = compute(_sets(CARD_SETS), scope, start, end, now=now)["total"]

    trend_end = period.end if period.end.day == 1 else _add_months(period.end, 1)
    trend = compute("matters", scope, _add_months(trend_end, -TREND_MONTHS), trend_end,
                    group_by="month", now=now)
    mix = {dim: compute("matters", scope, start, end, group_by=dim, now=now)["rows"]
           for dim in ("category", "channel")}
    funnel = compute("overdue", scope, start, end, group_by="stage_kind", now=now)["rows"]

    kind = child_kind(scope)
    children: list[dict[str, Any]] = []
    departments: list[dict[str, Any]] = []
    heat_rows: list[dict[str, Any]] = []
    if kind:
        for row in compute(_sets(UNIT_SETS), scope, start, end, group_by="children",
                           now=now)["rows"]:
            plain = _plain(row)
            plain["url"] = (reverse("dashboards:place", args=[row["key"]])
                            if row["key"] is not None else None)
            children.append(plain)
        departments = [_plain(r) for r in rank(
            compute(_sets(UNIT_SETS), scope, start, end, group_by="department",
                    now=now)["rows"], "completion_rate", min_volume=DEFAULT_MIN_VOLUME)]
        heat_rows = (children if kind == "grid" else
                     [_plain(r) for r in compute(_sets(UNIT_SETS), scope, start, end,
                                                 group_by="grid", now=now)["rows"]])
    heat_rows = [r for r in heat_rows if r["key"] is not None]

    def column(name):
        values = [r.get(name) for r in heat_rows]
        top = max((v for v in values if v is not None), default=0) or 1
        return [None if v is None else round(v / top, 4) for v in values]

    heat = {
        "rows": [r["label"] for r in heat_rows],
        "figures": [{"key": k, "label": _(label)} for k, label in HEAT_FIGURES],
        "cells": [[x, y, norm, _num(heat_rows[y].get(k))]
                  for x, (k, _label) in enumerate(HEAT_FIGURES)
                  for y, norm in enumerate(column(k))],
    }
    return {
        "labels": {"received": _("收到"), "closed": _("办结"), "open": _("在办"),
                   "overdue": _("超期"), "satisfied": _("满意"), "basic": _("基本满意"),
                   "dissatisfied": _("不满意"), "no_answer": _("未评价（不计入）"),
                   "completion_rate": _("办结率"), "satisfaction_rate": _("满意率")},
        "scope": {"id": scope.pk, "name": scope.name, "kind": scope.kind,
                  "kind_label": str(scope.get_kind_display())},
        "period": {"kind": period.kind, "label": period.label, "start": start.isoformat(),
                   "end": end.isoformat(), "last_day": period.last_day.isoformat()},
        "now": timezone.localtime(now).isoformat(),
        "totals": _plain(total),
        "cards": _cards(total),
        "trend": {
            "labels": [r["label"] for r in trend["rows"]],
            "received": [r["received"] for r in trend["rows"]],
            "closed": [r["closed"] for r in trend["rows"]],
            "completion_rate": [_num(r["completion_rate"]) for r in trend["rows"]],
        },
        "categories": [{"key": r["key"], "label": r["label"], "received": r["received"]}
                       for r in mix["category"]],
        "channels": [{"key": r["key"], "label": r["label"], "received": r["received"]}
                     for r in mix["channel"]],
        "funnel": [{"key": r["key"], "label": r["label"], "open": r["open"],
                    "overdue": r["overdue"]} for r in funnel if r["open"]],
        "child_kind": kind,
        "children": children,
        "departments": departments,
        "min_volume": DEFAULT_MIN_VOLUME,
        "heat": heat,
        "satisfaction": {**{k: total.get(k, 0) for k in
                            ("satisfied", "basic", "dissatisfied", "no_answer", "answered")},
                         "rate": _num(total.get("satisfaction_rate")),
                         "display": percent(total.get("satisfaction_rate"))},
    }
