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


class _Days:
    """Working-day answers for one computation, reading the overrides of a year at a time.

    Overrides are read from the database on every computation (one small indexed query per
    year touched), never kept between calls: an administrator's change reaches every process
    (web workers, the task worker) at once, and a change rolled back is never remembered.
    """

    def __init__(self) -> None:
        self._years: dict[int, dict[dt.date, bool]] = {}

    def overrides(self, year: int) -> dict[dt.date, bool]:
        table = self._years.get(year)
        if table is None:
            from .models import CalendarOverride

            table = dict(CalendarOverride.objects.filter(date__year=year)
                         .values_list("date", "is_workday"))
            self._years[year] = table
        return table

    def is_workday(self, day: dt.date) -> tuple[bool, bool]:
        table = self.overrides(day.year)
        override = table.get(day)
        if override is not None:
            return override, True
        if KNOWN_FIRST_YEAR <= day.year <= KNOWN_LAST_YEAR:
            return chinese_calendar.is_workday(day), True
        if table:
            # The administrator has entered this year's arrangement: plain days follow the week.
            return day.weekday() < 5, True
        return day.weekday() < 5, False


def year_known(year: int) -> bool:
    """Whether working days in ``year`` are certain (the package or an override covers it)."""
    return KNOWN_FIRST_YEAR <= year <= KNOWN_LAST_YEAR or bool(_Days().overrides(year))


def is_workday(day: dt.date) -> tuple[bool, bool]:
    """(is a working day, whether that is certain)."""
    return _Days().is_workday(day)


def add_working_days(start: dt.datetime, days: int) -> Deadline:
    """The end of the ``days``-th working day after ``start`` (the start day does not count)."""
    local = timezone.localtime(start)
    day = local.date()
    calendar = _Days()
    uncertain = False
    counted = 0
    while counted < days:
        day += dt.timedelta(days=1)
        ok, certain = calendar.is_workday(day)
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
    calendar = _Days()
    n = 0
    day = a
    while day < b:
        day += dt.timedelta(days=1)
        if calendar.is_workday(day)[0]:
            n += 1
    return float(n)
