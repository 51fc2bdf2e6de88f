"""The visit figures against a hand count (definitions in ``visits/figures.py`` and
``docs/figures.md``). Now is Wednesday 12 March 2025, 10:00.

The village has 8 households: 门牌1号 (first grid; a disabled member), 2号 (second grid; a
lonely elder) and 11–16号 (first grid; 16号 has a left-behind child) — 3 special households.

- 网格员 (quota 5, first grid): 3 Mar 1号, 4 Mar 11号, 5 Mar 12号, 8 Mar 13号, Sunday 9 Mar
  14号 (week of 3 Mar: 5 households, met); 10 Mar 1号, 11 Mar 11号, 12 Mar 12号 twice (week of
  10 Mar: 3 households, behind). 9 visits.
- 村两委干部 (quota 5, the village): 6 Mar 2号 and 15号. 2 visits.
- 村书记 (quota 0 at the village: none): 5 Mar 14号. 1 visit.
- 县联系办 visits the other town on 4 Mar (not the village's).

March 1–16 in the village: 12 visits, 7 households (1, 2, 11–15号) of 8, 2 special ones
(1号, 2号) of 3. Quota weeks ending in the period and begun by now: 24 Feb–2 Mar, 3–9 Mar,
10–16 Mar; two cadres with a quota → 6 cadre-weeks, met once (the grid worker, 3–9 Mar).
"""

import datetime as dt

import pytest

from gongzhi.figures.compute import compute, rank
from gongzhi.visits.actions import do_set_visit_quota

from .conftest import TZ, D, visit

NOW = dt.datetime(2025, 3, 12, 10, tzinfo=TZ)


def T(month, day, hour=0):
    return dt.datetime(2025, month, day, hour, tzinfo=TZ)


@pytest.fixture
def scenario(village, today):
    t = village
    e = t.extra
    gw, vc, vs = t.user("grid_worker"), t.user("village_cadre"), t.user("village_secretary")
    for home, day in [(t.household, D(3, 3)), (e[0], D(3, 4)), (e[1], D(3, 5)), (e[2], D(3, 8)),
                      (e[3], D(3, 9)), (t.household, D(3, 10)), (e[0], D(3, 11)),
                      (e[1], D(3, 12)), (e[1], D(3, 12))]:
        visit(gw, home, day)
    visit(vc, t.household2, D(3, 6))
    visit(vc, e[4], D(3, 6))
    visit(vs, e[3], D(3, 5))
    visit(t.user("county_office"), t.other_household, D(3, 4))
    do_set_visit_quota(t.county, "village_secretary", 0, acting_user=t.user("administrator"),
                       place=t.village)
    return t


def test_visits_and_coverage_by_hand(scenario):
    t = scenario
    total = compute("visits", t.village, T(3, 1), T(3, 17), now=NOW)["total"]
    assert total == {
        "visits": 12, "households_visited": 7, "special_households_visited": 2,
        "households": 8, "special_households": 3,
        "coverage_rate": pytest.approx(7 / 8), "special_coverage_rate": pytest.approx(2 / 3),
    }
    # A day belongs to the period when its midnight does: [5 Mar 00:00, 5 Mar 12:00) counts
    # the visits of 5 March (12号 by the grid worker, 14号 by the secretary).
    assert compute("visits", t.village, T(3, 5), T(3, 5, 12))["total"]["visits"] == 2
    assert compute("visits", t.village, T(3, 5, 12), T(3, 6))["total"]["visits"] == 0


def test_quota_by_hand(scenario):
    t = scenario
    total = compute("visit_quota", t.village, T(3, 1), T(3, 17), now=NOW)["total"]
    assert total == {"quota_weeks": 6, "quota_weeks_met": 1,
                     "quota_rate": pytest.approx(1 / 6)}
    # One week: cadres meeting their quota ÷ cadres with one.
    week = compute("visit_quota", t.village, T(3, 3), T(3, 10), now=NOW)["total"]
    assert (week["quota_weeks"], week["quota_weeks_met"], week["quota_rate"]) == (2, 1, 0.5)
    # This week runs: counted with its visits so far. Next week has not begun: not counted.
    assert compute("visit_quota", t.village, T(3, 10), T(3, 24), now=NOW)["total"][
        "quota_weeks"] == 2
    # A week that ends after the period belongs to the next one (3–9 March is not February's).
    assert compute("visit_quota", t.village, T(2, 1), T(3, 8), now=NOW)["total"][
        "quota_weeks"] == 2 * 5  # the weeks ending 2, 9, 16, 23 Feb and 2 Mar
    # The county: the town's staff and secretary have the default quota and did not visit.
    county = compute("visit_quota", t.county, T(3, 3), T(3, 10), now=NOW)["total"]
    assert (county["quota_weeks"], county["quota_weeks_met"]) == (4, 1)


def test_breakdowns_add_up(scenario):
    t = scenario
    rows = {r["label"]: r for r in compute(["visits", "visit_quota"], t.village, T(3, 1),
                                           T(3, 17), group_by="grid", now=NOW)["rows"]}
    first, second, none = rows["第一网格"], rows["第二网格"], rows["未指定"]
    assert (first["visits"], first["households_visited"], first["households"]) == (11, 6, 7)
    assert (second["visits"], second["households_visited"], second["households"]) == (1, 1, 1)
    assert second["special_coverage_rate"] == 1.0
    # The grid worker's quota belongs to the first grid; the village cadre's to no grid.
    assert (first["quota_weeks"], first["quota_weeks_met"]) == (3, 1)
    assert (none["quota_weeks"], none["quota_weeks_met"], none["visits"]) == (3, 0, 0)

    by_cadre = {r["key"]: r for r in compute(["visits", "visit_quota"], t.village, T(3, 1),
                                             T(3, 17), group_by="cadre", now=NOW)["rows"]}
    gw, vc = by_cadre[t.user("grid_worker").pk], by_cadre[t.user("village_cadre").pk]
    assert (gw["visits"], gw["households_visited"], gw["quota_rate"]) == (9, 5, pytest.approx(
        1 / 3))
    assert (vc["visits"], vc["quota_weeks_met"], vc["coverage_rate"]) == (2, 0, None)
    assert by_cadre[t.user("village_secretary").pk]["quota_weeks"] == 0
    league = rank(by_cadre.values(), "quota_rate", min_volume=3)
    assert league[0]["key"] == t.user("grid_worker").pk and league[0]["rank"] == 1

    weeks = compute(["visits", "visit_quota"], t.village, T(3, 3), T(3, 17), group_by="week",
                    now=NOW)["rows"]
    assert [(w["visits"], w["quota_weeks"], w["quota_weeks_met"]) for w in weeks] == [
        (8, 2, 1), (4, 2, 0)]


def test_other_dimensions_are_empty_not_errors(scenario):
    t = scenario
    ledger = compute("all", t.county, T(3, 1), T(3, 17), group_by="ledger", now=NOW)
    assert sum(r["visits"] for r in ledger["rows"]) == 0
    filtered = compute("visits", t.village, T(3, 1), T(3, 17), filters={"ledger": "claim"})
    assert filtered["total"]["visits"] == 0 and filtered["total"]["coverage_rate"] is None


def test_query_count(scenario, django_assert_num_queries):
    t = scenario
    # visits: the visits and the households; the quota: grants, quota rows, weekly counts;
    # and one for the row labels.
    with django_assert_num_queries(6):
        compute(["visits", "visit_quota"], t.county, T(3, 1), T(3, 17), group_by="village",
                now=NOW)
