"""Departments assessed on their check-ins (报到) and cadres on the matters they were
responsible for, over HTTP, with the result sheets the seeds tie to pay and annual review.

Departments (preset 部门接诉即办与报到考核; minimum volume set to 2). Neither unit was
responsible for a matter, so 响应率, 解决率, 办结率 and 满意率 have nothing to divide and are left
out (``no_data: exclude``); the score is 报到率 and 及时报到率 (weights 15 and 15), linear from
50% (0) to 100% (100):

- 县供电公司: summoned 2, both on time: 100 and 100 → 100.00, 优秀, rank 1.
- 县水务局: summoned 3, one on time, one late, one missing: 报到率 2/3 → 33.33, 及时报到率 1/3 →
  0; (15 × 33.33 + 15 × 0) ÷ 30 = 16.665 → 16.67, 不合格, rank 2.

Cadres of 高城寨村 (preset 干部办理事项考核; minimum volume 1). C1 办结率 25 and C2 按期办结率 25
linear from 50%; C3 满意率 30 from 60%; C4 重办率 10 linear from 30% (0) down to 0 (100);
C5 入户走访 10, scored by hand:

- the village cadre (M1, M3, M4): 办结率 2/3 → 33.33; 按期 1/2 → 0; 满意 2/2 → 100; 重办 1/2 → 0;
  走访 80: (25 × 33.33 + 30 × 100 + 10 × 80) ÷ 100 = 46.3325 → 46.33, 不合格, rank 2.
- the village secretary (M2): 100, 100, 100, 重办 0 → 100; 走访 90 → 99.00, 优秀, rank 1.
- the grid worker, responsible for nothing: only 走访 70 → 70.00, 基本合格, volume 0: not ranked.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from gongzhi.assessments import actions
from gongzhi.assessments.models import AssessmentRound, IndicatorSystem
from gongzhi.core.errors import ActionError
from gongzhi.testing import login_client

from .helpers import edit_data, error_of, result_of, scores_of
from .scenario import build_matters

D = Decimal


def _adopt(tree, preset: str, **policy) -> IndicatorSystem:
    office = login_client(tree.user("county_office"))
    assert office.post("/assessments/systems/adopt/", {
        "county": tree.county.pk, "preset": preset}).status_code == 302
    system = IndicatorSystem.objects.get(preset=preset)
    r = office.post(f"/assessments/systems/{system.pk}/edit/",
                    edit_data(system.current(), **policy))
    assert r.status_code == 302, error_of(r)
    return system


def _round(tree, system, scope) -> AssessmentRound:
    office = login_client(tree.user("county_office"))
    r = office.post("/assessments/rounds/new/", {"system": system.pk, "scope": scope.pk,
                                                 "period_kind": "quarter", "year": "2025",
                                                 "quarter": "1"})
    assert r.status_code == 302
    rnd = AssessmentRound.objects.get(system=system)
    assert office.post(f"/assessments/rounds/{rnd.pk}/compute/").status_code == 302
    return rnd


def test_departments_assessed_on_check_ins(tree):
    build_matters(tree)
    system = _adopt(tree, "jiesu_department", min_volume="2")
    rnd = _round(tree, system, tree.county)
    power, water = result_of(rnd, "县供电公司"), result_of(rnd, "县水务局")
    assert (power.volume, water.volume) == (2, 3)
    assert scores_of(power) == {"D1": None, "D2": None, "D3": None, "D4": None,
                                "D5": D("100.00"), "D6": D("100.00")}
    assert scores_of(water) == {"D1": None, "D2": None, "D3": None, "D4": None,
                                "D5": D("33.33"), "D6": D("0.00")}
    assert water.counts["checked_in_late"] == 1 and water.counts["missing"] == 1
    assert (power.final_score, power.grade, power.rank) == (D("100.00"), "excellent", 1)
    assert (water.final_score, water.grade, water.rank) == (D("16.67"), "fail", 2)
    assert power.complete and water.complete  # nothing to score by hand

    # Each department's staff see their own sheet, not the other's.
    liaison = login_client(tree.user("department_liaison"))
    home = liaison.get("/").content.decode()
    assert "我的考核结果" in home and f'href="/assessments/results/{power.pk}/"' in home
    assert f"/assessments/results/{water.pk}/" not in home
    sheet = liaison.get(f"/assessments/results/{power.pk}/")
    assert sheet.status_code == 200 and "优秀" in sheet.content.decode()
    assert liaison.get(f"/assessments/results/{water.pk}/").status_code == 404
    assert liaison.get("/assessments/").status_code == 200
    page = login_client(tree.user("water_liaison")).get(
        f"/assessments/results/{water.pk}/").content.decode()
    assert "不合格" in page and "16.67" in page and "66.7%" in page

    # The county office may finalise: nothing is pending.
    office = login_client(tree.user("county_office"))
    assert office.post(f"/assessments/rounds/{rnd.pk}/finalise/").status_code == 302


def test_cadres_assessed_on_their_matters(tree):
    build_matters(tree)
    system = _adopt(tree, "cadre", min_volume="1")
    rnd = _round(tree, system, tree.village)
    cadre = result_of(rnd, "村（社区）两委干部")
    secretary = result_of(rnd, "村（社区）书记")
    worker = result_of(rnd, "网格员")
    assert (cadre.volume, secretary.volume, worker.volume) == (3, 1, 0)
    assert (cadre.place, worker.place) == (tree.village, tree.grid)
    assert scores_of(cadre) == {"C1": D("33.33"), "C2": D("0.00"), "C3": D("100.00"),
                                "C4": D("0.00"), "C5": None}

    # Town staff score the visits; a round with a score missing cannot be finalised.
    staff = login_client(tree.user("town_staff"))
    c5 = rnd.version.indicators.get(code="C5")
    for result, score in ((cadre, "80"), (secretary, "90")):
        r = staff.post(f"/assessments/results/{result.pk}/scores/{c5.pk}/",
                       {"score": score, "evidence": "走访记录本第3册"})
        assert r.status_code == 302
    office = login_client(tree.user("county_office"))
    r = office.post(f"/assessments/rounds/{rnd.pk}/finalise/")
    assert r.status_code == 400 and "没有录齐" in error_of(r)
    staff.post(f"/assessments/results/{worker.pk}/scores/{c5.pk}/",
               {"score": "70", "evidence": "走访记录本第4册"})

    for r in (cadre, secretary, worker):
        r.refresh_from_db()
    assert (cadre.final_score, cadre.grade, cadre.rank) == (D("46.33"), "fail", 2)
    assert (secretary.final_score, secretary.grade, secretary.rank) == (D("99.00"),
                                                                        "excellent", 1)
    assert (worker.final_score, worker.grade, worker.ranked) == (D("70.00"), "basic", False)

    # A cadre sees their own sheet; the grid worker does not see the village cadre's.
    grid_worker = login_client(tree.user("grid_worker"))
    assert grid_worker.get(f"/assessments/results/{worker.pk}/").status_code == 200
    assert grid_worker.get(f"/assessments/results/{cadre.pk}/").status_code == 404
    sheet = login_client(tree.user("village_cadre")).get(
        f"/assessments/results/{cadre.pk}/").content.decode()
    assert "46.33" in sheet and "不合格" in sheet and "走访记录本第3册" in sheet
    assert office.post(f"/assessments/rounds/{rnd.pk}/finalise/").status_code == 302


def test_bonus_cap_and_rounds_refused(tree):
    """Approved bonuses stop at the policy's cap; a round must fit its system."""
    system = actions.do_adopt_system(tree.county, "fuyuan_grid", acting_user=None)
    office, supervisor = tree.user("county_office"), tree.user("supervisor")
    with pytest.raises(ActionError):  # grids lie under a village, not beside it
        actions.do_create_round(system, tree.grid, period_kind="quarter", year=2025,
                                quarter=1, acting_user=office)
    with pytest.raises(ActionError):  # not begun
        actions.do_create_round(system, tree.county, period_kind="year", year=2099,
                                acting_user=office)
    rnd = actions.do_create_round(system, tree.village, period_kind="quarter", year=2025,
                                  quarter=2, acting_user=office)
    with pytest.raises(ActionError):  # the same round twice
        actions.do_create_round(system, tree.village, period_kind="quarter", year=2025,
                                quarter=2, acting_user=office)
    actions.do_compute_round(rnd, acting_user=office)
    grid = rnd.results.get(place=tree.grid)
    first = actions.do_request_adjustment(grid, kind="bonus", points=8, reason="先行先试",
                                          acting_user=office)
    second = actions.do_request_adjustment(grid, kind="bonus", points=3, reason="重大荣誉",
                                           acting_user=office)
    actions.do_decide_adjustment(first, approve=True, acting_user=supervisor)
    with pytest.raises(ActionError, match="不能超过 10 分"):
        actions.do_decide_adjustment(second, approve=True, acting_user=supervisor)
    grid.refresh_from_db()
    assert grid.bonus == 8
