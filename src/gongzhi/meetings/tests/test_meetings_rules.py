"""The rules as pure functions: quorum, decision, schedule dates, holiday policy, progress; and
the scheduled job (generation on National Day 2026, idempotency, agenda freezing)."""

from __future__ import annotations

import datetime as dt
import io
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.utils import timezone

from gongzhi.meetings import actions
from gongzhi.meetings.kinds import (
    MORE_THAN_HALF,
    SHUOSHI,
    TWO_THIRDS,
    VILLAGER_REPS,
    VILLAGERS,
    ensure_kinds,
    quorum_needed,
    quorum_reached,
    vote_passes,
)
from gongzhi.meetings.models import Meeting, MeetingStatus, MemberGroup
from gongzhi.meetings.progress import resolution_progress
from gongzhi.meetings.scheduling import (
    apply_holiday_policy,
    freeze_due_agendas,
    generate_meetings,
    schedule_dates,
)
from gongzhi.notifications.models import Notification

from .meeting_helpers import villager_reps


@pytest.mark.parametrize(("quorum", "invited", "needed"), [
    (TWO_THIRDS, 30, 20), (TWO_THIRDS, 31, 21), (TWO_THIRDS, 3, 2),
    (MORE_THAN_HALF, 10, 6), (MORE_THAN_HALF, 9, 5), (MORE_THAN_HALF, 1, 1),
    (None, 10, 0), (TWO_THIRDS, 0, 1),
])
def test_quorum_needed(quorum, invited, needed):
    assert quorum_needed(quorum, invited) == needed
    if quorum:
        assert quorum_reached(quorum, invited, needed)
        assert not quorum_reached(quorum, invited, needed - 1)


def test_decision_rules():
    # More than half of those present (村民代表会议: 20 present → 11 needed).
    assert vote_passes("majority_present", 11, 20, 30)
    assert not vote_passes("majority_present", 10, 20, 30)
    assert vote_passes("two_thirds_present", 14, 21, 30)
    assert not vote_passes("two_thirds_present", 13, 21, 30)
    assert vote_passes("majority_members", 16, 20, 30)
    assert not vote_passes("majority_members", 15, 20, 30)


def test_builtin_kinds_follow_the_law(db, tree):
    kinds = ensure_kinds(tree.county)
    assert kinds[VILLAGER_REPS].quorum == TWO_THIRDS
    assert kinds[VILLAGER_REPS].decision == "majority_present"
    assert kinds[VILLAGERS].quorum == MORE_THAN_HALF
    assert not kinds[VILLAGER_REPS].allows_consensus
    assert kinds["sunshine"].quorum is None
    assert {k.name for k in kinds.values()} >= {
        "说事议事会", "协商议事会", "村民代表会议", "村民会议", "党员大会", "两委会议",
        "三委联席会议", "三务三资阳光报告会"}
    assert len(ensure_kinds(tree.county)) == len(kinds)  # idempotent


@pytest.mark.django_db  # the calendar reads the locality's overrides
def test_schedule_dates_month_ends_and_holidays():
    # The 30th of February is its last day; 2028 is a leap year.
    feb = schedule_dates([15, 30], "keep", dt.date(2026, 2, 1), dt.date(2026, 2, 28))
    assert feb == [dt.date(2026, 2, 15), dt.date(2026, 2, 28)]
    assert schedule_dates([30], "keep", dt.date(2028, 2, 1),
                          dt.date(2028, 2, 29)) == [dt.date(2028, 2, 29)]
    assert schedule_dates([31], "keep", dt.date(2026, 4, 1),
                          dt.date(2026, 4, 30)) == [dt.date(2026, 4, 30)]
    # National Day 2026: 1–7 October are holidays; the 8th is a working day.
    national_day = dt.date(2026, 10, 1)
    assert apply_holiday_policy(national_day, "next") == dt.date(2026, 10, 8)
    assert apply_holiday_policy(national_day, "previous") == dt.date(2026, 9, 30)
    assert apply_holiday_policy(national_day, "keep") == national_day
    assert apply_holiday_policy(dt.date(2026, 10, 15), "next") == dt.date(2026, 10, 15)


@pytest.mark.django_db
def test_generate_meetings_on_national_day_is_idempotent_and_notifies(tree):
    kinds = ensure_kinds(tree.county)
    res = tree.user("resident")
    villager_reps(tree, 3, with_user=res)
    sec = tree.user("village_secretary")
    schedule = actions.do_create_schedule(
        tree.village, kinds[SHUOSHI], acting_user=sec, title="说事议事日", days_of_month=[1, 15],
        time=dt.time(9, 0), location="村委会", holiday_policy="next")
    now = timezone.make_aware(dt.datetime(2026, 9, 20, 8, 0))
    created = generate_meetings(dt.date(2026, 10, 31), now=now)
    days = sorted(timezone.localtime(m.starts_at).date() for m in created)
    assert days == [dt.date(2026, 10, 8), dt.date(2026, 10, 15)]
    moved = next(m for m in created if m.starts_at.date() == dt.date(2026, 10, 8))
    assert timezone.localtime(moved.starts_at).time() == dt.time(9, 0)
    assert moved.freeze_at == moved.starts_at - dt.timedelta(days=10)
    assert moved.invited_count == 3 and moved.invitations.count() == 3
    assert moved.schedule_id == schedule.pk
    assert generate_meetings(dt.date(2026, 10, 31), now=now) == []
    assert Meeting.objects.filter(schedule=schedule).count() == 2
    assert Notification.objects.filter(user=res, event="meetings.notice").count() == 2

    # The job freezes each agenda when its time comes (and only then).
    assert freeze_due_agendas(moved.freeze_at - dt.timedelta(minutes=1)) == []
    frozen = freeze_due_agendas(moved.freeze_at + dt.timedelta(minutes=1))
    assert [m.pk for m in frozen] == [moved.pk]
    moved.refresh_from_db()
    assert moved.status == MeetingStatus.FROZEN
    assert Notification.objects.filter(user=res, event="meetings.agenda").count() == 1


@pytest.mark.django_db
def test_command_creates_only_future_meetings(tree):
    kinds = ensure_kinds(tree.county)
    actions.do_add_member(tree.village, MemberGroup.COMMITTEE, acting_user=None, name="委员甲")
    actions.do_create_schedule(tree.village, kinds["two_committees"], acting_user=None,
                               title="两委例会", days_of_month=[1, 10, 20, 28],
                               time=dt.time(15, 0))
    until = timezone.localdate() + dt.timedelta(days=40)
    out = io.StringIO()
    call_command("meetings", "schedule", "--until", until.isoformat(), stdout=out)
    meetings = list(Meeting.objects.all())
    assert meetings and all(m.starts_at > timezone.now() for m in meetings)
    assert f'"created": {len(meetings)}' in out.getvalue()
    call_command("meetings", "schedule", "--until", until.isoformat(), stdout=out)
    assert Meeting.objects.count() == len(meetings)


def _matter(kind, closed=False):
    stages = [{"key": "intake", "kind": "intake", "name": "登记受理"},
              {"key": "handling", "kind": "handling", "name": "办理"},
              {"key": "feedback", "kind": "feedback", "name": "结果反馈"},
              {"key": "evaluation", "kind": "evaluation", "name": "群众评价"},
              {"key": "closed", "kind": "closed", "name": "办结归档"}]
    stage = next(s for s in stages if s["kind"] == kind)
    return SimpleNamespace(workflow=SimpleNamespace(definition={"stages": stages}),
                           stage=stage["key"], stage_kind=kind, is_closed=closed,
                           merged_into_id=None, merged_into=None)


def test_resolution_progress_is_a_pure_function():
    none = resolution_progress(SimpleNamespace(matter=None))
    assert none.percent == 0 and [m.done for m in none.milestones] == [True, False]
    p = resolution_progress(SimpleNamespace(matter=_matter("handling")))
    assert p.percent == 25 and p.stage_name == "办理"
    assert [m.name for m in p.milestones] == ["会议决议", "登记受理", "办理", "结果反馈",
                                              "群众评价", "办结归档"]
    assert [m.done for m in p.milestones] == [True, True, False, False, False, False]
    assert p.milestones[2].current
    assert resolution_progress(SimpleNamespace(matter=_matter("evaluation"))).percent == 75
    done = resolution_progress(SimpleNamespace(matter=_matter("closed", closed=True)))
    assert done.percent == 100 and all(m.done for m in done.milestones)
