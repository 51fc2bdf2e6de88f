"""The first quarter of 2025 in two villages, walked through the matters, handling, evaluation
and points actions at fixed times; the tests compute rounds over it and check every score by
hand.

高城寨村 (town 城关镇), default workflow (intake 1 working day, handling 10):

- M1 (第一网格): raised 3 Mar 9:00, accepted 10:00, the village cadre responsible; 县供电公司
  summoned 10:30, checks in 11:00 (on time); done 5 Mar, fed back; 满意 6 Mar. Closed on time.
- M2 (第二网格): raised 3 Mar 9:30, accepted 5 Mar 9:00 (late: due 4 Mar 17:30), the village
  secretary responsible; 县供电公司 and 县水务局 summoned 10:00, both check in by 12:00 (on
  time); done 10 Mar; 基本满意 11 Mar. Closed, handled on time.
- M3 (第一网格): raised 10 Mar, accepted, the village cadre responsible; 县水务局 summoned
  11:00, checks in 12 Mar 9:00 (late: due 11 Mar 11:00); done 12 Mar; 不满意 13 Mar → handled
  again, due 27 Mar 17:30; done 31 Mar 9:00 (late); 满意 31 Mar 15:00. Closed, not on time.
- M4 (第一网格): raised 20 Mar, accepted, the village cadre responsible; 县水务局 summoned
  11:00, never checks in. Still being handled on 31 Mar.

So 高城寨村: received 4, closed 3 (办结率 75%), on time 2 of 3 (按期办结率 66.7%), answered 3,
satisfied or basic 3 (满意率 100%). Summonses: 县供电公司 2, both on time; 县水务局 3: one on
time, one late, one missing (报到率 2/3, 及时报到率 1/3).

东关社区 (town 八里镇): N1 raised 4 Mar, accepted, done 6 Mar, 满意 7 Mar (received 1, all
rates 100%).

Points (default rules, recorded by a collector and approved by a reviewer): 张建国家 +5 +5,
王桂兰家 +2 (高城寨村: 12 points, 2 households, 6 per household); 赵志强家 +5 (东关社区: 5 points,
1 household, 5 per household).
"""

from __future__ import annotations

import datetime as dt

from gongzhi.accounts.actions import do_create_user, do_grant_role
from gongzhi.figures.tests.scenario import T, Walker, at
from gongzhi.handling.actions import do_assign
from gongzhi.matters.actions import matter_settings
from gongzhi.places.actions import do_create_organisation
from gongzhi.points import actions as points_actions
from gongzhi.points import ledger
from gongzhi.points.rules import current_version
from gongzhi.testing import PASSWORD

Q1 = (dt.date(2025, 1, 1), dt.date(2025, 3, 31))


def _assign(w: Walker, matter, when, user_role: str):
    with at(when):
        do_assign(matter, acting_user=w.user("village_secretary"), mode="self",
                  responsible_user=w.user(user_role))


def build_matters(tree) -> dict[str, object]:
    matter_settings(tree.county)
    w = Walker(tree)
    water = do_create_organisation(tree.county, acting_user=None, kind="department",
                                   name="县水务局", category="水务")
    water_liaison = do_create_user("u_water", acting_user=None, password=PASSWORD,
                                   display_name="水务联络员", county=tree.county,
                                   organisation=water)
    do_grant_role(water_liaison, "department_liaison", tree.county, acting_user=None)
    tree.users["water_liaison"] = water_liaison
    m: dict[str, object] = {"water": water}

    def water_check_in(summons, when):
        from gongzhi.handling.actions import do_check_in

        with at(when):
            return do_check_in(summons, acting_user=water_liaison)

    # M1: on time everywhere.
    m1 = w.raise_(T(3, 3, 9))
    m1 = w.step(m1, "accept", T(3, 3, 10))
    _assign(w, m1, T(3, 3, 10, 15), "village_cadre")
    w.check_in(w.summon(m1, T(3, 3, 10, 30), tree.department), T(3, 3, 11))
    m1 = w.feedback(w.result(m1, T(3, 5, 10)), T(3, 5, 11))
    m["M1"] = w.rate(m1, T(3, 6, 9), "satisfied")

    # M2: accepted late, handled on time, 基本满意; two units summoned, both on time.
    m2 = w.raise_(T(3, 3, 9, 30), place=tree.grid2)
    m2 = w.step(m2, "accept", T(3, 5, 9))
    _assign(w, m2, T(3, 5, 9, 15), "village_secretary")
    with at(T(3, 5, 10)):
        from gongzhi.handling.actions import do_summon

        s_power, s_water = do_summon(m2, [tree.department, water],
                                     acting_user=w.user("village_secretary"),
                                     reason="需要部门到场。")
    w.check_in(s_power, T(3, 5, 11))
    water_check_in(s_water, T(3, 5, 12))
    m2 = w.feedback(w.result(m2, T(3, 10, 10)), T(3, 10, 11))
    m["M2"] = w.rate(m2, T(3, 11, 9), "basic")

    # M3: 不满意, handled again late, then 满意; the water bureau checks in late.
    m3 = w.raise_(T(3, 10, 9), title="井盖松动")
    m3 = w.step(m3, "accept", T(3, 10, 10))
    _assign(w, m3, T(3, 10, 10, 15), "village_cadre")
    water_check_in(w.summon(m3, T(3, 10, 11), water), T(3, 12, 9))
    m3 = w.feedback(w.result(m3, T(3, 12, 10)), T(3, 12, 11))
    m3 = w.rate(m3, T(3, 13, 9), "dissatisfied")
    m3 = w.feedback(w.result(m3, T(3, 31, 9)), T(3, 31, 10))
    m["M3"] = w.rate(m3, T(3, 31, 15), "satisfied")

    # M4: still being handled; the water bureau never checks in.
    m4 = w.raise_(T(3, 20, 9), title="自来水浑浊")
    m4 = w.step(m4, "accept", T(3, 20, 10))
    _assign(w, m4, T(3, 20, 10, 15), "village_cadre")
    m["s_missing"] = w.summon(m4, T(3, 20, 11), water)
    m["M4"] = m4

    # N1 in 东关社区: everything on time, 满意.
    n1 = w.raise_(T(3, 4, 9), place=tree.other_grid, by="county_office", title="路灯不亮")
    n1 = w.step(n1, "accept", T(3, 4, 10), by="county_office")
    n1 = w.feedback(w.result(n1, T(3, 6, 10), by="county_office"), T(3, 6, 11),
                    by="county_office")
    m["N1"] = w.rate(n1, T(3, 7, 9), "satisfied")
    return m


def build_points(tree) -> None:
    points_actions.do_adopt_rules(tree.county, "default", acting_user=None)
    reviewer2 = do_create_user("u_reviewer2", acting_user=None, password=PASSWORD,
                               display_name="东关积分审核员", county=tree.county)
    do_grant_role(reviewer2, "points_reviewer", tree.other_village, acting_user=None)
    cadre, reviewer = tree.user("village_cadre"), tree.user("points_reviewer")
    admin = tree.user("administrator")
    rules = {i.code: i for i in current_version(tree.village).items.all()}
    deeds = [
        (tree.household, "A02", dt.date(2025, 3, 10), cadre, reviewer),
        (tree.household, "A02", dt.date(2025, 3, 20), cadre, reviewer),
        (tree.household2, "A04", dt.date(2025, 3, 12), cadre, reviewer),
        (tree.other_household, "A02", dt.date(2025, 3, 15), admin, reviewer2),
    ]
    for household, code, day, by, approver in deeds:
        claim = points_actions.do_record_deed(
            ledger.household_account(household.place), rules[code], occurred_on=day,
            location="村委会", reason="测试", acting_user=by)
        points_actions.do_approve_claim(claim, acting_user=approver)
