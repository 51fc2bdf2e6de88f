"""Recurring meetings: the dates a schedule falls on, and the job that creates the meetings.

A schedule names days of the month (15; or 15 and 30). A day the month does not have becomes
the month's last day (the 30th of February is the 28th or 29th). A date that is not a working
day on the official calendar (``core.calendar.is_workday``: weekends, holidays, make-up days)
follows the schedule's holiday policy: the next working day, the previous one, or as planned.

:func:`generate_meetings` creates every meeting due up to a date; it is idempotent (one
meeting per schedule and start time, a unique constraint) and runs hourly as a periodic task,
with :func:`freeze_due_agendas`, and from ``gongzhi meetings schedule``.
"""

from __future__ import annotations

import calendar as month_calendar
import datetime as dt
import logging

from django.db import IntegrityError, transaction
from django.tasks import task
from django.utils import timezone

from gongzhi.core import calendar
from gongzhi.core.context import request_context
from gongzhi.core.errors import ActionError

from . import actions
from .models import HolidayPolicy, Meeting, MeetingSchedule, MeetingStatus

log = logging.getLogger(__name__)

HORIZON_DAYS = 60  # meetings exist two months ahead, so topics can be gathered before freezing
MAX_SHIFT_DAYS = 31


def month_day(year: int, month: int, day: int) -> dt.date:
    """``day`` of the month, or the month's last day when it is shorter."""
    last = month_calendar.monthrange(year, month)[1]
    return dt.date(year, month, min(day, last))


def apply_holiday_policy(day: dt.date, policy: str) -> dt.date:
    """The date the meeting is held on when ``day`` is not a working day."""
    if policy == HolidayPolicy.KEEP or calendar.is_workday(day)[0]:
        return day
    step = dt.timedelta(days=-1 if policy == HolidayPolicy.PREVIOUS_WORKDAY else 1)
    moved = day
    for _i in range(MAX_SHIFT_DAYS):
        moved += step
        if calendar.is_workday(moved)[0]:
            return moved
    return day


def _months(start: dt.date, end: dt.date):
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        yield year, month
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def schedule_dates(days_of_month: list[int], policy: str, start: dt.date,
                   end: dt.date) -> list[dt.date]:
    """The dates a schedule falls on whose planned day lies in ``start``..``end`` (moved by the
    holiday policy), without repeats."""
    out: list[dt.date] = []
    for year, month in _months(start, end):
        for d in days_of_month:
            planned = month_day(year, month, int(d))
            if not start <= planned <= end:
                continue
            held = apply_holiday_policy(planned, policy)
            if held not in out:
                out.append(held)
    return sorted(out)


def _starts_at(schedule: MeetingSchedule, day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, schedule.time),
                               timezone.get_current_timezone())


def generate_meetings(until: dt.date, *, now: dt.datetime | None = None,
                      schedules=None) -> list[Meeting]:
    """Create the meetings of every active schedule up to ``until`` (idempotent)."""
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    qs = schedules if schedules is not None else MeetingSchedule.objects.filter(is_active=True)
    created: list[Meeting] = []
    for schedule in qs.select_related("kind", "village").order_by("pk"):
        if not schedule.kind.is_active:
            continue
        for day in schedule_dates(schedule.days_of_month, schedule.holiday_policy, today, until):
            starts_at = _starts_at(schedule, day)
            if starts_at <= now:
                continue
            if Meeting.objects.filter(schedule=schedule, starts_at=starts_at).exists():
                continue
            title = f"{schedule.title}（{day:%Y-%m-%d}）"
            try:
                with transaction.atomic():
                    meeting = actions.do_create_meeting(
                        schedule.village, schedule.kind, acting_user=None, title=title,
                        starts_at=starts_at, location=schedule.location, schedule=schedule,
                        now=now)
            except IntegrityError:
                continue  # another run created it first
            except ActionError as exc:
                log.warning("schedule %s: %s", schedule.pk, " ".join(exc.messages))
                continue
            created.append(meeting)
    return created


def freeze_due_agendas(now: dt.datetime | None = None) -> list[Meeting]:
    """Freeze every agenda whose time has come."""
    now = now or timezone.now()
    frozen = []
    due = Meeting.objects.filter(status=MeetingStatus.SCHEDULED, freeze_at__lte=now)
    for meeting in due.order_by("freeze_at", "pk"):
        try:
            frozen.append(actions.do_freeze_agenda(meeting, acting_user=None, now=now))
        except ActionError:
            continue  # frozen, opened or cancelled by someone meanwhile
    return frozen


def run(until: dt.date | None = None, now: dt.datetime | None = None) -> dict[str, int]:
    now = now or timezone.now()
    until = until or (timezone.localtime(now).date() + dt.timedelta(days=HORIZON_DAYS))
    created = generate_meetings(until, now=now)
    frozen = freeze_due_agendas(now)
    return {"created": len(created), "frozen": len(frozen)}


@task()
def meetings_schedule_task() -> dict[str, int]:
    with request_context():
        return run()
