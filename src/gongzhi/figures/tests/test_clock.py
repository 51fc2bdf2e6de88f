"""The matter clock: which deadlines a matter met, through every path that moves one."""

import datetime as dt

import pytest

from gongzhi.figures import rollups
from gongzhi.figures.compute import compute
from gongzhi.figures.models import MatterClock
from gongzhi.handling.actions import do_assign, do_escalate
from gongzhi.matters.actions import matter_settings

from .scenario import MARCH, T, Walker, at, fresh


@pytest.fixture
def w(tree):
    matter_settings(tree.county)
    return Walker(tree)


def close(w, matter, result_at, *, by="village_secretary"):
    matter = w.feedback(w.result(matter, result_at, by=by), result_at + dt.timedelta(hours=1),
                        by=by)
    return w.rate(matter, result_at + dt.timedelta(days=1), "satisfied")


def on_time(tree):
    total = compute("matters", tree.county, *MARCH)["total"]
    return total["closed"], total["closed_on_time"], total["responded_in_time"]


def test_a_fresh_clock_after_the_deadline_passed_does_not_undo_lateness(tree, w):
    matter = w.step(w.raise_(T(3, 3, 9)), "accept", T(3, 3, 10))  # handling due 17 Mar 17:30
    with at(T(3, 18, 9)):  # overdue, escalated: the town gets a fresh ten working days
        do_escalate(matter, acting_user=w.user("village_secretary"), reason="村里解决不了。")
    clock = MatterClock.objects.get(matter=matter)
    assert clock.late and clock.deadline > T(3, 31, 0)
    close(w, matter, T(3, 19, 10), by="town_secretary")  # well within the town's deadline
    clock.refresh_from_db()
    assert (clock.handling_visits, clock.late_handling_visits) == (1, 1)
    assert on_time(tree) == (1, 0, 1)


def test_an_extension_granted_in_time_counts(tree, w):
    matter = w.step(w.raise_(T(3, 3, 9)), "accept", T(3, 3, 10))  # handling due 17 Mar 17:30
    with at(T(3, 10, 9)):  # before the deadline: a new due date, 28 March
        do_assign(matter, acting_user=w.user("village_secretary"), mode="self",
                  responsible_user=w.user("village_cadre"), due_at=T(3, 28, 17, 30))
    assert MatterClock.objects.get(matter=matter).deadline == T(3, 28, 17, 30)
    close(w, matter, T(3, 25, 10))  # after the first deadline, before the extended one
    assert on_time(tree) == (1, 1, 1)


def test_the_first_stage_is_late_when_its_deadline_passed_before_it_moved(tree, w):
    matter = w.raise_(T(3, 3, 9))  # intake due 4 Mar 17:30
    with at(T(3, 5, 9)):  # the village passes it up, late: a fresh intake limit at the town
        do_escalate(matter, acting_user=w.user("village_secretary"), reason="需镇里受理。")
    w.step(matter, "accept", T(3, 5, 10), by="town_secretary")
    clock = MatterClock.objects.get(matter=matter)
    assert (clock.response_late, clock.response_deadline.date()) == (True, dt.date(2025, 3, 6))
    assert on_time(tree) == (0, 0, 0)


def test_saves_that_move_no_deadline_cost_nothing(tree, w, django_assert_num_queries):
    matter = w.raise_(T(3, 3, 9))
    matter.title = "村口路灯不亮"
    with django_assert_num_queries(1):
        matter.save(update_fields=["title", "updated_at"])


def test_a_matter_without_a_clock_is_followed_from_its_next_step(tree, w):
    matter = w.step(w.raise_(T(3, 3, 9)), "accept", T(3, 3, 10))
    MatterClock.objects.all().delete()  # as if written in bulk, without its clock
    rollups.rebuild(tree.county.pk)  # as bulk loaders do
    close(w, matter, T(3, 5, 10))
    clock = MatterClock.objects.get(matter=matter)
    # Followed from the result on: its acceptance and handling were not seen, so it is
    # counted closed, but neither answered nor closed in time.
    assert (clock.from_start, clock.response_late, clock.stage) == (False, None, "closed")
    assert fresh(matter).is_closed
    assert on_time(tree) == (1, 0, 0)
