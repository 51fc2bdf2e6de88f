"""Every figure against the hand count of the scenario in ``scenario.py`` (read it first)."""

import pytest
from django.test import Client

from gongzhi.core.calendar import working_days_between
from gongzhi.figures.compute import compute, rank
from gongzhi.matters.actions import matter_settings
from gongzhi.matters.models import Category

from .scenario import APRIL, MARCH, NOW, T, Walker, build

MATTER_SETS = ["matters", "handling_time", "satisfaction", "resolution", "summons"]


@pytest.fixture
def m(tree):
    return build(tree)


def pick(figures, *names):
    return {n: figures[n] for n in names}


def test_march_by_hand(tree, m):
    total = compute("all", tree.county, *MARCH, now=NOW)["total"]
    # Received: A B C D F G H. E was merged into D (not a matter of its own); I is April's.
    # D, escalated to the town, is one matter.
    assert pick(total, "received", "closed", "closed_on_time", "responded_in_time",
                "reached_evaluation", "reopened") == {
        "received": 7,
        "closed": 4,             # A B D F; C closed in April, G and H are open
        "closed_on_time": 3,     # A, D (escalated before its deadline), F (declined); B was late
        "responded_in_time": 5,  # A C D F G; B accepted late, H never accepted
        "reached_evaluation": 4,  # A B C D
        "reopened": 1,           # B
    }
    assert total["completion_rate"] == pytest.approx(4 / 7)
    assert total["on_time_rate"] == pytest.approx(3 / 4)
    assert total["response_rate"] == pytest.approx(5 / 7)
    assert total["reopen_rate"] == pytest.approx(1 / 4)
    # Working days from acceptance to closing: A 3 (3→6 Mar), B 16 (5→27 Mar), D 3 (10→13
    # Mar); F was declined (no outcome) and is left out.
    assert pick(total, "handled", "handling_days") == {"handled": 3, "handling_days": 22}
    assert total["avg_handling_days"] == pytest.approx(22 / 3)
    # Ratings: A 满意, D 满意, B 不满意 then 基本满意 (its last rating in March counts).
    assert pick(total, "satisfied", "basic", "dissatisfied", "no_answer", "answered") == {
        "satisfied": 2, "basic": 1, "dissatisfied": 0, "no_answer": 0, "answered": 3}
    assert total["satisfaction_rate"] == 1.0
    # Return visits reached: A solved, B partly (its last; unsolved before), C unsolved; D's
    # call did not reach the reporter.
    assert pick(total, "reached", "solved", "partly_solved", "unsolved") == {
        "reached": 3, "solved": 1, "partly_solved": 1, "unsolved": 1}
    assert total["resolution_rate"] == pytest.approx(2 / 3)
    # Summonses: A on time, B late, G's department never came (due 27 Mar), G's water bureau
    # not yet due at the end of March.
    assert pick(total, "summoned", "checked_in", "checked_in_on_time", "checked_in_late",
                "missing") == {"summoned": 4, "checked_in": 2, "checked_in_on_time": 1,
                               "checked_in_late": 1, "missing": 1}
    assert total["check_in_rate"] == 0.5
    assert total["on_time_check_in_rate"] == 0.25
    # Now (15 Apr noon): G (due 10 Apr) and H (due 19 Mar) are overdue; I is due at 17:30.
    assert pick(total, "open", "overdue") == {"open": 3, "overdue": 2}


def test_crossing_the_month_and_no_answers(tree, m):
    april = compute(MATTER_SETS, tree.county, *APRIL, now=NOW)["total"]
    # Only I was received in April: C, closed in April, belongs to March's cohort.
    assert pick(april, "received", "closed", "responded_in_time") == {
        "received": 1, "closed": 0, "responded_in_time": 0}
    assert april["completion_rate"] == 0.0
    assert april["on_time_rate"] is None  # nothing closed: no rate, not 0 % nor 100 %
    # C's time to rate ran out: no answer, shown beside a rate that has nobody to count.
    assert pick(april, "answered", "no_answer") == {"answered": 0, "no_answer": 1}
    assert april["satisfaction_rate"] is None

    both = compute(MATTER_SETS, tree.county, MARCH[0], APRIL[1], now=NOW)["total"]
    assert pick(both, "received", "closed", "closed_on_time") == {
        "received": 8, "closed": 5, "closed_on_time": 4}
    # C adds its days, across the 清明 holiday, counted as the calendar counts them.
    c = m["C"]
    c_days = working_days_between(c.accepted_at, c.closed_at)
    assert c_days == 15
    assert pick(both, "handled", "handling_days") == {"handled": 4, "handling_days": 22 + c_days}
    # A matter's last rating in the period counts: C's no answer (April) and the rest.
    assert pick(both, "satisfied", "basic", "dissatisfied", "no_answer", "answered") == {
        "satisfied": 2, "basic": 1, "dissatisfied": 0, "no_answer": 1, "answered": 3}
    # Up to 12 March, B's last rating was 不满意.
    early = compute("satisfaction", tree.county, MARCH[0], T(3, 12, 0))["total"]
    assert pick(early, "satisfied", "dissatisfied", "answered") == {
        "satisfied": 1, "dissatisfied": 1, "answered": 2}
    assert early["satisfaction_rate"] == 0.5


def test_breakdowns_add_up(tree, m):
    def rows(group_by, sets=MATTER_SETS, scope=tree.county):
        result = compute(sets, scope, *MARCH, group_by=group_by, now=NOW)
        for name in ("received", "closed", "answered", "summoned", "handling_days"):
            if name in result["total"]:
                assert sum(r[name] for r in result["rows"]) == result["total"][name]
        return {r["label"]: r for r in result["rows"]}, result

    whole = compute(MATTER_SETS, tree.county, *MARCH, now=NOW)["total"]
    towns, result = rows("children")
    assert result["group_by"] == "town"
    assert result["total"] == whole
    assert list(towns) == ["城关镇", "八里镇"]
    assert pick(towns["城关镇"], "received", "closed", "closed_on_time", "responded_in_time") == {
        "received": 6, "closed": 3, "closed_on_time": 2, "responded_in_time": 4}
    assert pick(towns["八里镇"], "received", "closed", "completion_rate") == {
        "received": 1, "closed": 1, "completion_rate": 1.0}
    # Each town's row is that town's own figures.
    for town in (tree.town, tree.other_town):
        own = compute(MATTER_SETS, town, *MARCH, now=NOW)["total"]
        assert {k: v for k, v in towns[town.name].items() if k in own} == own

    # A league of towns: the town with one matter, all closed, is listed but not ranked.
    league = rank(result["rows"], "completion_rate", min_volume=2)
    assert [(r["label"], r["rank"], r["value"]) for r in league] == [
        ("城关镇", 1, 0.5), ("八里镇", None, 1.0)]

    villages, _ = rows("village")
    # H was raised at the town itself: no village (last, key None).
    assert [(label, r["received"]) for label, r in villages.items()] == [
        ("高城寨村", 5), ("东关社区", 1), ("未指定", 1)]
    assert villages["未指定"]["key"] is None
    assert pick(villages["高城寨村"], "satisfied", "basic", "reached", "summoned") == {
        "satisfied": 2, "basic": 1, "reached": 3, "summoned": 4}

    grids, result = rows("children", scope=tree.village)
    assert result["group_by"] == "grid"
    # The merged duplicate E is not counted in its grid; escalated D is, once.
    assert [(label, r["received"]) for label, r in grids.items()] == [
        ("第一网格", 4), ("第二网格", 1)]
    assert result["total"] == compute(MATTER_SETS, tree.village, *MARCH, now=NOW)["total"]

    ledgers, _ = rows("ledger")
    assert [(label, r["received"]) for label, r in ledgers.items()] == [
        ("意见建议", 2), ("利益诉求", 4), ("投诉举报", 1)]
    # The complaint is counted like the rest: late, reopened, 基本满意.
    assert pick(ledgers["投诉举报"], "closed", "closed_on_time", "reopened", "basic") == {
        "closed": 1, "closed_on_time": 0, "reopened": 1, "basic": 1}

    channels, _ = rows("channel")
    assert [(r["key"], r["received"]) for r in channels.values()] == [
        ("walk_in", 3), ("wechat", 2), ("hotline12345", 1), ("superior", 1)]

    categories, _ = rows("category")
    infrastructure = Category.objects.get(county=tree.county, code="infrastructure")
    assert [(r["key"], r["received"]) for r in categories.values()] == [(infrastructure.pk, 7)]

    # Departments: the matters a unit is responsible for, and the summonses it received.
    departments, _ = rows("department")
    assert pick(departments["县供电公司"], "received", "closed", "summoned", "checked_in",
                "checked_in_on_time", "missing") == {
        "received": 1, "closed": 1, "summoned": 3, "checked_in": 2, "checked_in_on_time": 1,
        "missing": 1}
    assert pick(departments["县水务局"], "received", "summoned", "checked_in") == {
        "received": 0, "summoned": 1, "checked_in": 0}
    assert departments["未指定"]["received"] == 6

    cadres, _ = rows("cadre", sets=["matters", "satisfaction"])
    cadre = tree.user("village_cadre")
    assert pick(cadres[str(cadre)], "key", "received", "closed_on_time", "satisfied") == {
        "key": cadre.pk, "received": 1, "closed_on_time": 1, "satisfied": 1}

    # The snapshot breaks down too: overdue by village, now.
    overdue, _ = rows("village", sets="overdue")
    assert [(r["open"], r["overdue"]) for r in overdue.values()] == [(2, 1), (0, 0), (1, 1)]


def test_by_month_and_filters(tree, m):
    result = compute(["matters", "satisfaction"], tree.county, MARCH[0], APRIL[1],
                     group_by="month", now=NOW)
    march, april = result["rows"]
    assert (march["key"], march["label"], april["label"]) == ("2025-03-01", "2025年3月",
                                                             "2025年4月")
    # Each month's row is that month's own figures; the total is the two months' cohort.
    assert {k: march[k] for k in result["total"]} == compute(
        ["matters", "satisfaction"], tree.county, *MARCH, now=NOW)["total"]
    assert (march["closed"], april["closed"], result["total"]["closed"]) == (4, 0, 5)
    assert (march["received"], april["received"], result["total"]["received"]) == (7, 1, 8)
    assert april["no_answer"] == 1
    with pytest.raises(ValueError):
        compute("overdue", tree.county, *MARCH, group_by="month")

    complaints = compute(MATTER_SETS, tree.county, *MARCH, filters={"ledger": "complaint"},
                         now=NOW)["total"]
    assert pick(complaints, "received", "closed", "closed_on_time", "responded_in_time",
                "reopened", "basic", "partly_solved", "summoned", "checked_in_late") == {
        "received": 1, "closed": 1, "closed_on_time": 0, "responded_in_time": 0,
        "reopened": 1, "basic": 1, "partly_solved": 1, "summoned": 1, "checked_in_late": 1}
    water = compute("summons", tree.county, *MARCH, filters={"department": m["water"]},
                    now=NOW)["total"]
    assert (water["summoned"], water["checked_in"]) == (1, 0)
    # Before the water bureau's deadline passes it is waiting, not missing; after, missing.
    later = compute("summons", tree.county, MARCH[0], APRIL[1], now=NOW)["total"]
    assert later["missing"] == 2


def test_bad_questions_are_refused(tree):
    with pytest.raises(ValueError):
        compute("matters", tree.village, *MARCH, group_by="town")  # above the scope
    with pytest.raises(ValueError):
        compute("no_such_set", tree.county, *MARCH)  # not registered
    with pytest.raises(ValueError):
        compute("matters", tree.county, *MARCH, filters={"colour": "red"})
    with pytest.raises(ValueError):
        compute("matters", tree.county, APRIL[0], MARCH[0])
    with pytest.raises(ValueError):
        compute("matters", tree.county, MARCH[0], T(12, 31, 0), group_by="day")  # > 120 days


def test_query_count_does_not_grow(tree, django_assert_num_queries):
    w = Walker(tree)
    build_some(w, 1)
    # One query per set, one for the calendar's overrides (one year), one for the labels;
    # the visit figures add two (visits, households) and three (grants, quotas, weekly counts);
    # volunteers (activities, orders) and co-building (projects, contributions, needs) one each.
    # (Counted from the rows; test_rollups.py counts the queries of the rollups.)
    with django_assert_num_queries(8 + 5 + 2 + 3):
        compute("all", tree.county, *MARCH, group_by="village", now=NOW, source="raw")
    build_some(w, 6)
    with django_assert_num_queries(8 + 5 + 2 + 3):
        result = compute("all", tree.county, *MARCH, group_by="village", now=NOW,
                         source="raw")
    assert result["total"]["handled"] == 7
    # By month: one query per set for each month and for the whole period (5 × 3), and the
    # calendar's overrides where matters were handled (March and the whole period).
    with django_assert_num_queries(5 * 3 + 2):
        compute(["matters", "handling_time", "satisfaction", "resolution", "summons"],
                tree.county, MARCH[0], APRIL[1], group_by="month", now=NOW, source="raw")


def build_some(w: Walker, n: int) -> None:
    matter_settings(w.tree.county)
    for i in range(n):
        matter = w.raise_(T(3, 3 + i, 9), place=w.tree.grid2 if i % 2 else w.tree.grid)
        matter = w.step(matter, "accept", T(3, 3 + i, 10))
        matter = w.feedback(w.result(matter, T(3, 4 + i, 10)), T(3, 4 + i, 11))
        w.rate(matter, T(3, 5 + i, 9), "satisfied")


def test_the_public_board_shows_the_same_figures(tree, m):
    """The board's API asks the figures: one source of truth, over HTTP."""
    response = Client().get(f"/api/v1/public/boards/{tree.village.pk}",
                            {"start": "2025-03-01", "end": "2025-04-01"})
    assert response.status_code == 200
    summary = response.json()["summary"]
    own = compute(["matters", "satisfaction"], tree.village, *MARCH)["total"]
    # The village's cohort: A B C D G (F is the other town's, H the town's, E merged).
    assert summary == {
        "received": 5, "closed": 3, "closed_rate": own["completion_rate"], "answered": 3,
        "satisfied": 3, "dissatisfied": 0, "no_answer": 0, "satisfaction_rate": 1.0,
    }
    assert own["received"] == 5 and summary["closed_rate"] == pytest.approx(3 / 5)
