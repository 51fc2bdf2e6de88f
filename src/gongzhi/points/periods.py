"""Months, quarters and years as date ranges (inclusive start, inclusive end)."""

from __future__ import annotations

from datetime import date, timedelta


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(month: date) -> date:
    return date(month.year + (month.month == 12), month.month % 12 + 1, 1)


def month_end(day: date) -> date:
    return next_month(month_start(day)) - timedelta(days=1)


def quarter_of(day: date) -> int:
    return (day.month - 1) // 3 + 1


def quarter_bounds(year: int, quarter: int) -> tuple[date, date]:
    if quarter not in (1, 2, 3, 4):
        raise ValueError(quarter)
    start = date(year, 3 * quarter - 2, 1)
    return start, month_end(date(year, 3 * quarter, 1))


def quarter_months(year: int, quarter: int) -> list[date]:
    return [date(year, 3 * quarter - 2 + i, 1) for i in range(3)]


def year_bounds(year: int) -> tuple[date, date]:
    return date(year, 1, 1), date(year, 12, 31)


def period_bounds(day: date, period: str) -> tuple[date, date]:
    """The month, quarter or year containing ``day``."""
    if period == "month":
        return month_start(day), month_end(day)
    if period == "quarter":
        return quarter_bounds(day.year, quarter_of(day))
    if period == "year":
        return year_bounds(day.year)
    raise ValueError(period)


def parse_month(value: str) -> date | None:
    """"2026-03" → date(2026, 3, 1); None when malformed."""
    try:
        year, month = (int(p) for p in (value or "").split("-"))
        return date(year, month, 1)
    except (TypeError, ValueError):
        return None
