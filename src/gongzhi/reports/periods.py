"""The period a ledger or report covers: a year, a quarter, a month or chosen dates.

``end`` is exclusive (the figures' half-open periods); ``last`` is the last day included.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from gongzhi.core.errors import ActionError

KINDS = ("year", "quarter", "month", "custom")
NUMERALS = "一二三四"
MAX_DAYS = 3 * 366


@dataclass(frozen=True)
class Period:
    kind: str
    start: dt.date
    end: dt.date  # exclusive

    @property
    def last(self) -> dt.date:
        return self.end - dt.timedelta(days=1)

    @property
    def label(self) -> str:
        if self.kind == "year":
            return _("%(y)d年") % {"y": self.start.year}
        if self.kind == "quarter":
            return _("%(y)d年第%(q)s季度") % {
                "y": self.start.year, "q": NUMERALS[(self.start.month - 1) // 3]}
        if self.kind == "month":
            return _("%(y)d年%(m)d月") % {"y": self.start.year, "m": self.start.month}
        return _("%(a)s至%(b)s") % {"a": day_label(self.start), "b": day_label(self.last)}

    def as_params(self) -> dict[str, Any]:
        return {"period": self.kind, "start": self.start.isoformat(),
                "end": self.end.isoformat()}


def day_label(day: dt.date) -> str:
    return _("%(y)d年%(m)d月%(d)d日") % {"y": day.year, "m": day.month, "d": day.day}


def _next_month(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    return dt.date(day.year + month // 12, month % 12 + 1, 1)


def period_from(kind: str, *, year: int | None = None, number: int | None = None,
                start: dt.date | None = None, last: dt.date | None = None) -> Period:
    """The period asked for; a clear error for anything incomplete or out of range."""
    if kind not in KINDS:
        raise ActionError(_("请选择统计周期：年度、季度、月度或自定义日期。"))
    if kind == "custom":
        if start is None or last is None:
            raise ActionError(_("自定义周期须填写开始日期和结束日期。"))
        if last < start:
            raise ActionError(_("结束日期不能早于开始日期。"))
        if (last - start).days >= MAX_DAYS:
            raise ActionError(_("自定义周期最长三年，请缩短日期范围。"))
        return Period(kind, start, last + dt.timedelta(days=1))
    if year is None or not 2000 <= year <= 2100:
        raise ActionError(_("请填写正确的年份。"))
    if kind == "year":
        return Period(kind, dt.date(year, 1, 1), dt.date(year + 1, 1, 1))
    top = 4 if kind == "quarter" else 12
    if number is None or not 1 <= number <= top:
        raise ActionError(_("请选择第几季度（1—4）。") if kind == "quarter"
                          else _("请选择月份（1—12）。"))
    first = dt.date(year, 3 * (number - 1) + 1 if kind == "quarter" else number, 1)
    return Period(kind, first, _next_month(first, 3 if kind == "quarter" else 1))


def period_of(params: dict[str, Any]) -> Period:
    """The period stored in a job's parameters."""
    return Period(params["period"], dt.date.fromisoformat(params["start"]),
                  dt.date.fromisoformat(params["end"]))
