"""Working days counted many at a time: one ordinal per date instead of one loop per row."""

from __future__ import annotations

import datetime as dt

from gongzhi.core import calendar


def workday_ordinals(first: dt.date, last: dt.date) -> dict[dt.date, int]:
    """For each date d in [first, last]: the working days in (first, d].

    ``ordinals[b] - ordinals[a]`` is then
    :func:`gongzhi.core.calendar.working_days_between` for any a <= b in the range: the
    working days after day a up to and including day b, on the same official calendar
    (holidays, make-up days and the administrator's overrides, read a year at a time).
    """
    days = calendar._Days()  # one reader of the overrides for the whole range
    ordinals = {first: 0}
    n, day = 0, first
    while day < last:
        day += dt.timedelta(days=1)
        if days.is_workday(day)[0]:
            n += 1
        ordinals[day] = n
    return ordinals
