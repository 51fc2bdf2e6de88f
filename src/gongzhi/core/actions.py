"""Writes owned by core: calendar overrides."""

import datetime as dt

from django.db import transaction
from django.utils.translation import gettext as _

from gongzhi.audit.log import record
from gongzhi.core.access import has_permission
from gongzhi.core.errors import ActionError, ActionForbidden

from .models import CalendarOverride


@transaction.atomic
def do_set_calendar_day(day: dt.date, is_workday: bool, *, acting_user, note: str = ""):
    """Record whether ``day`` is a working day (a year's arrangement the package lacks, a local
    holiday). Deadlines computed afterwards use it at once, in every process."""
    if acting_user is not None and not has_permission(acting_user, "calendar.change"):
        raise ActionForbidden(_("只有系统管理员可以调整工作日历。"))
    note = (note or "").strip()
    if len(note) > 80:
        raise ActionError(_("说明不能超过80个字。"))
    before = CalendarOverride.objects.filter(date=day).values("is_workday", "note").first()
    obj, _created = CalendarOverride.objects.update_or_create(
        date=day, defaults={"is_workday": is_workday, "note": note}
    )
    record("core.calendar.set", actor=acting_user, obj=obj, before=before,
           after={"date": day.isoformat(), "is_workday": is_workday, "note": note})
    return obj


@transaction.atomic
def do_set_calendar_days(days: list[tuple[dt.date, bool, str]], *, acting_user) -> int:
    """Several days at once (a year's arrangement as the State Council publishes it): all of
    them or, if any is refused, none."""
    for day, is_workday, note in days:
        do_set_calendar_day(day, is_workday, acting_user=acting_user, note=note)
    return len(days)
