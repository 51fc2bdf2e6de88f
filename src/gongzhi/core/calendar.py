"""Working days on China's official calendar (holidays and make-up working days).

The ``chinese-calendar`` package knows the State Council's arrangements up to the last year it
was released for. An administrator adds :class:`~gongzhi.core.models.CalendarOverride` rows
for days the package does not know (a new year's arrangement, a local holiday). A deadline
that falls in a year neither knows is computed on weekends alone and *flagged*
(:attr:`Deadline.uncertain`), never silently guessed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import chinese_calendar
from chinese_calendar.constants import holidays as _HOLIDAYS
from django.utils import timezone

KNOWN_FIRST_YEAR = min(_HOLIDAYS).year
KNOWN_LAST_YEAR = max(_HOLIDAYS).year
WORKDAY_END = dt.time(17, 30)  # a deadline "within N working days" ends at close of office


@dataclass(frozen=True)
class Deadline:
    at: dt.datetime
    uncertain: bool  # true when a day on the way lies in a year the calendar does not know


_override_cache: dict[int, dict[dt.date, bool]] | None = None


def clear_cache() -> None:
    global _override_cache
    _override_cache = None


def _overrides() -> dict[int, dict[dt.date, bool]]:
    """Overrides by year: date → is a working day. Loaded once per process; cleared on change."""
    global _override_cache
    if _override_cache is None:
        from .models import CalendarOverride

        table: dict[int, dict[dt.date, bool]] = {}
        for day, is_workday in CalendarOverride.objects.values_list("date", "is_workday"):
            table.setdefault(day.year, {})[day] = is_workday
        _override_cache = table
    return _override_cache


def year_known(year: int) -> bool:
    return KNOWN_FIRST_YEAR <= year <= KNOWN_LAST_YEAR or bool(_overrides().get(year))


def is_workday(day: dt.date) -> tuple[bool, bool]:
    """(is a working day, whether that is certain)."""
    override = _overrides().get(day.year, {}).get(day)
    if override is not None:
        return override, True
    if KNOWN_FIRST_YEAR <= day.year <= KNOWN_LAST_YEAR:
        return chinese_calendar.is_workday(day), True
    if _overrides().get(day.year):
        # The administrator has entered this year's arrangement: plain days follow the week.
        return day.weekday() < 5, True
    return day.weekday() < 5, False


def add_working_days(start: dt.datetime, days: int) -> Deadline:
    """The end of the ``days``-th working day after ``start`` (the start day does not count)."""
    local = timezone.localtime(start)
    day = local.date()
    uncertain = False
    counted = 0
    while counted < days:
        day += dt.timedelta(days=1)
        ok, certain = is_workday(day)
        uncertain = uncertain or not certain
        if ok:
            counted += 1
    at = timezone.make_aware(dt.datetime.combine(day, WORKDAY_END), timezone.get_current_timezone())
    return Deadline(at, uncertain)


def add_hours(start: dt.datetime, hours: float) -> Deadline:
    """Calendar hours (urgent matters run through nights and holidays)."""
    return Deadline(start + dt.timedelta(hours=hours), False)


def working_days_between(start: dt.datetime, end: dt.datetime) -> float:
    """Working days elapsed from ``start`` to ``end``, counting whole working days passed."""
    a, b = timezone.localtime(start).date(), timezone.localtime(end).date()
    if b <= a:
        return 0.0
    n = 0
    day = a
    while day < b:
        day += dt.timedelta(days=1)
        if is_workday(day)[0]:
            n += 1
    return float(n)
