"""Working-day deadlines across the 2026 Spring Festival and National Day, unknown years,
and administrator overrides.

The 2026 arrangement (as the installed ``chinese-calendar`` package records it, checked in
``test_package_knows_the_2026_arrangement``):

- Spring Festival: 2026-02-15 (Sun) .. 02-23 (Mon) off; 02-14 (Sat) and 02-28 (Sat) worked.
- Mid-autumn 09-25 (Fri) .. 09-27 (Sun) off; National Day 10-01 (Thu) .. 10-07 (Wed) off;
  09-20 (Sun) and 10-10 (Sat) worked.

Every expected date below is counted by hand in the comment beside it.
"""

import datetime as dt
from unittest import mock
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest

from gongzhi.audit.models import AuditEvent
from gongzhi.core import calendar
from gongzhi.core.actions import do_set_calendar_day, do_set_calendar_days
from gongzhi.core.errors import ActionError, ActionForbidden
from gongzhi.core.models import CalendarOverride

CST = ZoneInfo("Asia/Shanghai")


def at(y, m, d, hh=10, mm=0):
    return dt.datetime(y, m, d, hh, mm, tzinfo=CST)


def end_of(y, m, d):
    return dt.datetime(y, m, d, 17, 30, tzinfo=CST)


def test_package_knows_the_2026_arrangement():
    assert calendar.KNOWN_LAST_YEAR == 2026
    off = [dt.date(2026, 2, 15) + dt.timedelta(days=i) for i in range(9)]  # 02-15 .. 02-23
    assert all(chinese_calendar.is_holiday(d) for d in off)
    assert chinese_calendar.is_workday(dt.date(2026, 2, 24))
    for worked_weekend in (dt.date(2026, 2, 14), dt.date(2026, 2, 28), dt.date(2026, 9, 20),
                           dt.date(2026, 10, 10)):
        assert worked_weekend.weekday() >= 5 and chinese_calendar.is_workday(worked_weekend)
    autumn = [dt.date(2026, 9, 25) + dt.timedelta(days=i) for i in range(3)]
    national = [dt.date(2026, 10, 1) + dt.timedelta(days=i) for i in range(7)]
    assert all(chinese_calendar.is_holiday(d) for d in autumn + national)
    assert chinese_calendar.is_workday(dt.date(2026, 10, 8))


@pytest.mark.django_db
@pytest.mark.parametrize(("start", "days", "expected"), [
    # Thu 02-12 + 1: Fri 02-13.
    (at(2026, 2, 12), 1, end_of(2026, 2, 13)),
    # Fri 02-13 + 1: Sat 02-14 is a make-up working day.
    (at(2026, 2, 13), 1, end_of(2026, 2, 14)),
    # Fri 02-13 + 3: 02-14 (1), 02-15..23 off, 02-24 (2), 02-25 (3).
    (at(2026, 2, 13), 3, end_of(2026, 2, 25)),
    # Sat 02-14 (itself worked, but the start day never counts) + 1: 02-24.
    (at(2026, 2, 14, 16), 1, end_of(2026, 2, 24)),
    # Fri 02-20 (holiday) + 5: 02-24, 25, 26, 27 (4), Sat 02-28 worked (5).
    (at(2026, 2, 20), 5, end_of(2026, 2, 28)),
    # Fri 02-13 + 10: 02-14, 24, 25, 26, 27, 28 (6), 03-02, 03, 04, 05 (10).
    (at(2026, 2, 13), 10, end_of(2026, 3, 5)),
    # Fri 09-18 + 1: Sat 09-19 off, Sun 09-20 worked.
    (at(2026, 9, 18), 1, end_of(2026, 9, 20)),
    # Thu 09-24 + 3: 09-25..27 off, 09-28 (1), 09-29 (2), 09-30 (3).
    (at(2026, 9, 24), 3, end_of(2026, 9, 30)),
    # Wed 09-30 + 3: 10-01..07 off, 10-08 (1), 10-09 (2), Sat 10-10 worked (3).
    (at(2026, 9, 30), 3, end_of(2026, 10, 10)),
    # Thu 09-24 + 10: 09-28, 29, 30 (3), 10-08, 09, 10 (6), 10-12, 13, 14, 15 (10).
    (at(2026, 9, 24), 10, end_of(2026, 10, 15)),
    # Late in the evening still counts from that day: Wed 09-30 23:00 + 1 = 10-08.
    (at(2026, 9, 30, 23), 1, end_of(2026, 10, 8)),
])
def test_add_working_days_across_2026_holidays(start, days, expected):
    deadline = calendar.add_working_days(start, days)
    assert deadline.at == expected
    assert deadline.uncertain is False


@pytest.mark.django_db
def test_utc_start_is_read_in_local_time():
    # 2026-02-13 17:00 UTC is 2026-02-14 01:00 in Beijing: a Saturday worked, so +1 skips to 02-24.
    start = dt.datetime(2026, 2, 13, 17, 0, tzinfo=dt.UTC)
    assert calendar.add_working_days(start, 1).at == end_of(2026, 2, 24)


@pytest.mark.django_db
def test_is_workday_reports_holidays_and_make_up_days():
    assert calendar.is_workday(dt.date(2026, 10, 10)) == (True, True)   # Saturday worked
    assert calendar.is_workday(dt.date(2026, 10, 5)) == (False, True)   # Monday off
    assert calendar.is_workday(dt.date(2026, 9, 26)) == (False, True)   # Saturday off anyway
    assert calendar.is_workday(dt.date(2027, 3, 3)) == (True, False)    # unknown year: weekday
    assert calendar.is_workday(dt.date(2027, 3, 6)) == (False, False)   # unknown year: Saturday


@pytest.mark.django_db
def test_working_days_between():
    # After Fri 02-13 up to Wed 02-25: 02-14, 02-24, 02-25.
    assert calendar.working_days_between(at(2026, 2, 13), at(2026, 2, 25)) == 3.0
    # After Wed 09-30 up to Sat 10-10: 10-08, 10-09, 10-10.
    assert calendar.working_days_between(at(2026, 9, 30), at(2026, 10, 10, 18)) == 3.0
    # The whole Spring Festival week passes no working day: 02-15 .. 02-23.
    assert calendar.working_days_between(at(2026, 2, 14), at(2026, 2, 23)) == 0.0
    assert calendar.working_days_between(at(2026, 2, 13, 8), at(2026, 2, 13, 18)) == 0.0
    assert calendar.working_days_between(at(2026, 2, 25), at(2026, 2, 13)) == 0.0


@pytest.mark.django_db
def test_deadline_into_an_unknown_year_is_flagged():
    # Mon 12-28 + 5: 12-29, 12-30, 12-31 (3), then 2027 which nobody knows yet: Fri 01-01 (4)
    # and Mon 01-04 (5) on weekdays alone, and flagged.
    deadline = calendar.add_working_days(at(2026, 12, 28), 5)
    assert deadline.at == end_of(2027, 1, 4)
    assert deadline.uncertain is True
    # Ending on 12-31 does not touch 2027.
    assert calendar.add_working_days(at(2026, 12, 28), 3).uncertain is False
    assert not calendar.year_known(2027)
    # Hours run through nights and holidays and are never uncertain.
    assert calendar.add_hours(at(2026, 12, 31, 20), 24).uncertain is False


@pytest.mark.django_db
def test_overrides_for_2027_make_deadlines_certain_and_change_them(tree):
    admin = tree.user("administrator")
    do_set_calendar_day(dt.date(2027, 1, 1), False, note="元旦", acting_user=admin)
    assert calendar.year_known(2027)
    # 12-29, 12-30, 12-31 (3), 01-01 off, 01-04 (4), 01-05 (5).
    deadline = calendar.add_working_days(at(2026, 12, 28), 5)
    assert deadline == calendar.Deadline(end_of(2027, 1, 5), False)
    # A second change is seen at once (nothing is cached between calls).
    do_set_calendar_day(dt.date(2027, 1, 1), True, note="改为上班", acting_user=admin)
    assert calendar.add_working_days(at(2026, 12, 28), 5).at == end_of(2027, 1, 4)
    events = AuditEvent.objects.filter(action="core.calendar.set").order_by("seq")
    assert [e.after["is_workday"] for e in events] == [False, True]
    assert events.last().before == {"is_workday": False, "note": "元旦"}


@pytest.mark.django_db
def test_override_of_a_known_year_wins(tree):
    # A local holiday on Tue 02-24: Fri 02-13 + 3 becomes 02-14, 02-25, 02-26.
    do_set_calendar_day(dt.date(2026, 2, 24), False, note="地方假日",
                        acting_user=tree.user("administrator"))
    assert calendar.add_working_days(at(2026, 2, 13), 3).at == end_of(2026, 2, 26)
    assert calendar.working_days_between(at(2026, 2, 13), at(2026, 2, 25)) == 2.0


@pytest.mark.django_db
def test_only_administrators_change_the_calendar(tree):
    for role in ("county_office", "town_secretary", "resident"):
        with pytest.raises(ActionForbidden):
            do_set_calendar_day(dt.date(2027, 1, 1), False, acting_user=tree.user(role))
    with pytest.raises(ActionError):
        do_set_calendar_day(dt.date(2027, 1, 1), False, note="长" * 81,
                            acting_user=tree.user("administrator"))
    assert not CalendarOverride.objects.exists()


@pytest.mark.django_db
def test_several_days_are_all_or_nothing(tree):
    days = [(dt.date(2027, 2, 6), True, "春节调休"), (dt.date(2027, 2, 8), False, "长" * 81)]
    with pytest.raises(ActionError):
        do_set_calendar_days(days, acting_user=tree.user("administrator"))
    assert not CalendarOverride.objects.exists()
    assert do_set_calendar_days(days[:1], acting_user=tree.user("administrator")) == 1
    assert CalendarOverride.objects.get().is_workday is True


# -- through the engine ------------------------------------------------------------------------


def _raise(tree, urgency="normal"):
    from gongzhi.matters.actions import do_raise_matter

    return do_raise_matter(place=tree.grid, title="路灯不亮", text="村口路灯坏了",
                           channel="walk_in", ledger="claim", urgency=urgency,
                           acting_user=tree.user("grid_worker"))


@pytest.mark.django_db
def test_matter_raised_before_spring_festival_gets_the_right_deadline(tree):
    from gongzhi.matters.actions import do_adopt_preset

    do_adopt_preset(tree.county, "anze", acting_user=None)  # 说事: 3 working days
    with mock.patch("django.utils.timezone.now", return_value=at(2026, 2, 13)):
        m = _raise(tree)
        urgent = _raise(tree, urgency="urgent")  # urgent_limit: 2 hours
    assert m.stage == "intake"
    m.refresh_from_db()
    assert m.stage_deadline == end_of(2026, 2, 25)  # 02-14, 02-24, 02-25
    assert m.deadline_uncertain is False
    urgent.refresh_from_db()
    assert urgent.stage_deadline == at(2026, 2, 13, 12)


@pytest.mark.django_db
def test_transition_before_national_day_and_explicit_start(tree):
    from gongzhi.matters import workflow
    from gongzhi.matters.actions import do_adopt_preset

    do_adopt_preset(tree.county, "shiquan", acting_user=None)
    with mock.patch("django.utils.timezone.now", return_value=at(2026, 9, 29)):
        m = _raise(tree)
        m = workflow.do_transition(m, "submit", acting_user=tree.user("village_cadre"))
    # 书记阅批 has 2 working days: Tue 09-29 → 09-30 (1), 10-01..07 off, 10-08 (2).
    assert m.stage == "secretary_review" and m.stage_deadline == end_of(2026, 10, 8)
    wf = workflow.workflow_of(m.workflow)
    # 受理告知, 3 working days from Wed 09-30: 10-08, 10-09, Sat 10-10.
    assert workflow.stage_deadline(m, wf.stage("acceptance_notice"), at(2026, 9, 30)).at == (
        end_of(2026, 10, 10))
    # 快速交办 runs 60 calendar days (信访工作条例), holidays included.
    assert workflow.stage_deadline(m, wf.stage("dispatch"), at(2026, 9, 30)).at == (
        at(2026, 11, 29))


@pytest.mark.django_db
def test_matter_whose_deadline_falls_in_2027_is_flagged_until_overrides_exist(tree):
    from gongzhi.matters.actions import do_adopt_preset

    do_adopt_preset(tree.county, "anze", acting_user=None)
    with mock.patch("django.utils.timezone.now", return_value=at(2026, 12, 30)):
        m = _raise(tree)
    m.refresh_from_db()
    # 12-31 (1), then 2027 on weekdays alone: 01-01 (2), 01-04 (3).
    assert m.stage_deadline == end_of(2027, 1, 4) and m.deadline_uncertain is True
    do_set_calendar_days([(dt.date(2027, 1, 1), False, "元旦")],
                         acting_user=tree.user("administrator"))
    with mock.patch("django.utils.timezone.now", return_value=at(2026, 12, 30)):
        m2 = _raise(tree)
    m2.refresh_from_db()
    # 12-31 (1), 01-01 off, 01-04 (2), 01-05 (3).
    assert m2.stage_deadline == end_of(2027, 1, 5) and m2.deadline_uncertain is False
