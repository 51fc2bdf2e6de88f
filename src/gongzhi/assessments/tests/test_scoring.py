"""The pure scoring functions, and checking a system before it is saved."""

from __future__ import annotations

from decimal import Decimal

import pytest

from gongzhi.assessments import scoring
from gongzhi.assessments.systems import PRESETS, clean_indicators, clean_policy, load_preset
from gongzhi.core.errors import ActionError

D = Decimal


def test_linear_rules_both_ways():
    up = {"kind": "linear", "floor": 0.5, "target": 1.0}
    assert scoring.rule_score(up, 0.4) == D("0.00")
    assert scoring.rule_score(up, 0.75) == D("50.00")
    assert scoring.rule_score(up, 2 / 3) == D("33.33")
    assert scoring.rule_score(up, 1.0) == D("100.00")
    assert scoring.rule_score(up, None) is None
    down = {"kind": "linear", "floor": 10, "target": 0}  # 超期数: fewer is better
    assert scoring.rule_score(down, 0) == D("100.00")
    assert scoring.rule_score(down, 4) == D("60.00")
    assert scoring.rule_score(down, 12) == D("0.00")


def test_threshold_rules():
    rule = {"kind": "thresholds", "steps": [{"max": 0, "score": 100}, {"max": 2, "score": 60}],
            "otherwise": 0}
    assert [scoring.rule_score(rule, v) for v in (0, 1, 2, 3)] == [
        D("100.00"), D("60.00"), D("60.00"), D("0.00")]
    rule = {"kind": "thresholds", "steps": [{"min": 0.95, "score": 100}, {"min": 0.9,
                                                                          "score": 80}]}
    assert [scoring.rule_score(rule, v) for v in (0.96, 0.9, 0.5)] == [
        D("100.00"), D("80.00"), D("0.00")]


def test_relative_scores():
    assert scoring.relative_scores({1: 6.0, 2: 5.0, 3: None}, "best") == {
        1: D("100.00"), 2: D("83.33"), 3: None}
    assert scoring.relative_scores({1: 6.0, 2: 2.0}, "average") == {
        1: D("100.00"), 2: D("40.00")}  # 80 × 6/4 = 120 → 100; 80 × 2/4 = 40
    assert scoring.relative_scores({1: 0.0, 2: -3.0}, "best") == {1: D("0.00"), 2: D("0.00")}


def test_weighted_and_no_data():
    parts = [(D(50), D(80)), (D(30), None), (D(20), D(100))]
    assert scoring.weighted(parts, "exclude") == D("85.71")  # (4000 + 2000) ÷ 70
    assert scoring.weighted(parts, "zero") == D("60.00")
    assert scoring.weighted(parts, "full") == D("90.00")
    assert scoring.weighted([(D(100), None)], "exclude") is None


def test_combine_grade_and_league():
    assert scoring.combine(D("78.58"), share=D("0.6"), points_score=D(100)) == (
        D("91.43"), D("91.43"))
    assert scoring.combine(D("78.58"), bonus=3, deduction=1) == (D("78.58"), D("80.58"))
    assert scoring.combine(None, bonus=3) == (None, None)
    bands = {"excellent": 90, "pass": 75, "basic": 60}
    assert [scoring.grade_of(D(s), bands) for s in (90, 89.99, 75, 60, 59.99)] == [
        "excellent", "pass", "pass", "basic", "fail"]
    rows = [{"label": "甲", "score": D(80), "volume": 12},
            {"label": "乙", "score": D(90), "volume": 10},
            {"label": "丙", "score": D(80), "volume": 30},
            {"label": "丁", "score": D(99), "volume": 2},
            {"label": "戊", "score": D(70), "volume": 11},
            {"label": "己", "score": None, "volume": 40}]
    league = scoring.league(rows, min_volume=10)
    assert [(r["label"], r["rank"]) for r in league] == [
        ("乙", 1), ("丙", 2), ("甲", 2), ("戊", 4), ("己", None), ("丁", None)]


def test_presets_are_valid():
    for key in PRESETS:
        preset = load_preset(key)
        clean_indicators(preset["indicators"], preset["unit_kind"])
        clean_policy(preset.get("policy"), preset["unit_kind"])
    village = load_preset("fuyuan_village")
    assert len({i["category"] for i in village["indicators"]}) == 7
    assert village["policy"]["points_share"]["share"] == 0.6
    grid = load_preset("fuyuan_grid")
    assert len({i["category"] for i in grid["indicators"]}) == 6


@pytest.mark.parametrize(("change", "message"), [
    ({"weight": 25}, "权重之和应为100，现在是 105"),
    ({"figure": "visits", "source": "computed"}, "统计指标 visits 不存在"),
    ({"figure": "points", "source": "computed", "rule": {"kind": "relative"}},
     "户积分只能用于"),
    ({"figure": "overdue_count", "source": "computed", "rule": {"kind": "relative"}},
     "越低越好"),
    ({"source": "computed", "figure": "completion_rate",
      "rule": {"kind": "linear", "floor": 1, "target": 1}}, "不能相同"),
])
def test_indicators_refused(change, message):
    items = load_preset("jiesu_department")["indicators"]
    items = [{**items[0], **change}, *items[1:]]
    with pytest.raises(ActionError, match=message):
        clean_indicators(items, "department")


def test_policy_refused():
    with pytest.raises(ActionError, match="优秀 > 合格"):
        clean_policy({"grades": {"excellent": 70, "pass": 75, "basic": 60}}, "village")
    with pytest.raises(ActionError, match="只有网格"):
        clean_policy({"points_share": {"share": 0.6}}, "department")
    assert clean_policy({}, "cadre")["cadre_roles"][0] == "grid_worker"
