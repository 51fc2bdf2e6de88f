"""The rollups give the numbers the rows give: over the hand-counted scenario, over random
walks of matters through the actions, and after a rebuild."""

import random

import pytest
from django.core.management import call_command

from gongzhi.evaluation.actions import expire_evaluations
from gongzhi.figures import rollups
from gongzhi.figures.compute import compute
from gongzhi.figures.models import MatterRollup, RatingRollup
from gongzhi.matters.actions import do_merge_matters, matter_settings

from .scenario import APRIL, MARCH, NOW, T, Walker, at, build, fresh

KEPT = ["matters", "handling_time", "satisfaction", "resolution"]
DAY = T(3, 2, 0) - T(3, 1, 0)
PERIODS = [MARCH, (MARCH[0], APRIL[1]), (T(2, 1, 0), T(6, 1, 0))]


def same(tree, scope, start, end, group_by=None):
    kept = compute(KEPT, scope, start, end, group_by=group_by, now=NOW)
    raw = compute(KEPT, scope, start, end, group_by=group_by, now=NOW, source="raw")
    assert kept["rows"] == raw["rows"], (scope, start, end, group_by)
    assert kept["total"] == raw["total"], (scope, start, end, group_by)
    return kept


def questions(tree):
    for start, end in PERIODS:
        for scope, groups in [
            (tree.county, [None, "children", "village", "grid", "ledger", "channel",
                           "category", "department", "month", "quarter"]),
            (tree.town, [None, "children", "grid", "department", "month"]),
            (tree.village, [None, "children", "ledger", "category"]),
            (tree.grid, [None, "month"]),
        ]:
            for group_by in groups:
                yield scope, start, end, group_by


def table():
    """The rollups' rows with something in them, as plain data."""
    out = set()
    for model in (MatterRollup, RatingRollup):
        for row in model.objects.values():
            row.pop("id")
            if any(row[c] for c in model.COUNTS):
                out.add((model.__name__, *sorted(row.items())))
    return out


def test_the_scenario_from_the_rollups(tree, django_assert_num_queries):
    build(tree)
    for question in questions(tree):
        same(tree, *question)
    # The hand counts of test_figures, from the rollups.
    total = compute(KEPT, tree.county, *MARCH, now=NOW)["total"]
    assert (total["received"], total["closed"], total["closed_on_time"],
            total["responded_in_time"], total["reached_evaluation"], total["reopened"]) == (
        7, 4, 3, 5, 4, 1)
    assert (total["handled"], total["handling_days"]) == (3, 22)
    assert (total["satisfied"], total["basic"], total["answered"], total["reached"]) == (
        2, 1, 3, 3)
    april = compute(KEPT, tree.county, *APRIL, now=NOW)["total"]
    assert (april["received"], april["no_answer"]) == (1, 1)
    # One query per set and one for the labels; no calendar.
    with django_assert_num_queries(4 + 1):
        compute(KEPT, tree.county, *MARCH, group_by="village", now=NOW)
    # A period that is not whole months, or a filter, is counted from the rows (and agrees).
    day = compute(KEPT, tree.county, T(3, 5, 0), T(3, 20, 0), now=NOW)
    assert day["total"] == compute(KEPT, tree.county, T(3, 5, 0), T(3, 20, 0), now=NOW,
                                   source="raw")["total"]

    # Rebuilding gives the same rows, however often; so does the command.
    kept = table()
    assert kept
    MatterRollup.objects.all().delete()
    RatingRollup.objects.all().delete()
    rollups.rebuild(tree.county.pk)
    assert table() == kept
    rollups.rebuild(tree.county.pk)
    assert table() == kept
    MatterRollup.objects.filter(level="village").delete()
    call_command("figures", "rebuild-rollups", "--county", str(tree.county.pk))
    assert table() == kept


@pytest.mark.parametrize("seed", [1, 2])
def test_random_walks_agree(tree, seed):
    """Matters raised at random moments of February to May, taken random ways through the
    workflow (accepted or declined, handled, rated 满意, 基本满意 or 不满意 and handled again,
    left unanswered, called back, merged, escalated), then every question asked both ways."""
    rng = random.Random(seed)
    matter_settings(tree.county)
    w = Walker(tree)
    places = [tree.grid, tree.grid2, tree.village, tree.other_grid]
    raised = []
    for _ in range(8):
        when = T(rng.choice([2, 3, 4]), rng.randint(1, 28), rng.randint(8, 17))
        place = rng.choice(places)
        by = "county_office" if place == tree.other_grid else "village_cadre"
        matter = w.raise_(when, place=place, ledger=rng.choice(["claim", "suggestion"]),
                          channel=rng.choice(["walk_in", "wechat"]), by=by)
        staff = "county_office" if place == tree.other_grid else "village_secretary"
        step = rng.random()
        if step < 0.15:
            raised.append(matter)
            continue
        when = when.replace(hour=min(when.hour + 1, 20))
        if step < 0.25:
            w.step(matter, "decline", when, by=staff, comment="不属于受理范围。")
            continue
        later = T(when.month, when.day, 0) + rng.choice([0, 1, 3]) * DAY
        matter = w.step(matter, "accept", later.replace(hour=10), by=staff)
        if rng.random() < 0.2:
            raised.append(matter)
            continue
        done = later + rng.randint(1, 20) * DAY
        matter = w.feedback(w.result(matter, done.replace(hour=10), by=staff),
                            done.replace(hour=11), by=staff)
        for round_ in range(2):
            choice = rng.random()
            rated = done + rng.randint(1, 3) * DAY
            if choice < 0.2:
                break  # nobody rates it: expired below
            outcome = "dissatisfied" if round_ == 0 and choice < 0.45 else rng.choice(
                ["satisfied", "basic"])
            matter = w.rate(matter, rated.replace(hour=9), outcome)
            if rng.random() < 0.6 and place != tree.other_grid:
                w.call(matter, rated.replace(hour=15), resolved=rng.choice(["yes", "partly", "no"]))
            if outcome != "dissatisfied":
                break
            done = rated + rng.randint(1, 12) * DAY
            matter = w.feedback(w.result(matter, done.replace(hour=10), by=staff),
                                done.replace(hour=11), by=staff)
        raised.append(fresh(matter))
    with at(T(5, 20, 9)):
        expire_evaluations(T(5, 20, 9))
    open_ones = [m for m in raised if not fresh(m).is_closed and m.place_id == tree.grid.pk]
    if len(open_ones) >= 2:
        with at(T(5, 21, 9)):
            do_merge_matters(fresh(open_ones[0]), fresh(open_ones[1]),
                             acting_user=w.user("village_secretary"))
    for scope, start, end, group_by in questions(tree):
        same(tree, scope, start, end, group_by)
    kept = table()
    rollups.rebuild(tree.county.pk)
    assert table() == kept
