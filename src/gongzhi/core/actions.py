"""Writes owned by core: calendar overrides."""

import datetime as dt

from django.db import transaction
from django.utils.translation import gettext as _

from gongzhi.audit.log import record
from gongzhi.core.access import has_permission
from gongzhi.core.errors import ActionForbidden

from . import calendar
from .models import CalendarOverride


@transaction.atomic
def do_set_calendar_day(day: dt.date, is_workday: bool, *, acting_user, note: str = ""):
    if acting_user is not None and not has_permission(acting_user, "calendar.change"):
        raise ActionForbidden(_("只有系统管理员可以调整工作日历。"))
    before = CalendarOverride.objects.filter(date=day).values("is_workday", "note").first()
    obj, _created = CalendarOverride.objects.update_or_create(
        date=day, defaults={"is_workday": is_workday, "note": note}
    )
    record("core.calendar.set", actor=acting_user, obj=obj, before=before,
           after={"date": day.isoformat(), "is_workday": is_workday, "note": note})
    transaction.on_commit(calendar.clear_cache)
    return obj
