"""League tables and periods: no database needed."""

import pytest

from gongzhi.figures.compute import percent, periods, rank

from .scenario import T

ROWS = [
    {"key": 1, "label": "甲村", "received": 20, "closed": 19},  # 95 %
    {"key": 2, "label": "乙村", "received": 10, "closed": 9},   # 90 %
    {"key": 3, "label": "丙村", "received": 2, "closed": 2},    # 100 %, but two matters
    {"key": 4, "label": "丁村", "received": 30, "closed": 27},  # 90 %
    {"key": 5, "label": "戊村", "received": 0, "closed": 0},    # nothing to divide
]


def test_minimum_volume_lists_but_does_not_rank():
    league = rank(ROWS, "completion_rate", min_volume=5)
    assert [(r["label"], r["rank"], r["ranked"], r["volume"]) for r in league] == [
        ("甲村", 1, True, 20),
        ("丁村", 2, True, 30),   # ties share a rank; the larger volume is listed first
        ("乙村", 2, True, 10),
        ("丙村", None, False, 2),  # 100 % of two matters does not top the league
        ("戊村", None, False, 0),
    ]
    assert league[0]["value"] == pytest.approx(0.95)
    assert ROWS[0].get("rank") is None  # the rows given are not changed
    # With no minimum, the small village leads, and the next rank skips after a tie.
    assert [(r["label"], r["rank"]) for r in rank(ROWS, "completion_rate", min_volume=0)] == [
        ("丙村", 1), ("甲村", 2), ("丁村", 3), ("乙村", 3), ("戊村", None)]


def test_lower_is_better_for_reopening_and_handling_time():
    rows = [{"label": "甲", "reopened": 1, "reached_evaluation": 10},
            {"label": "乙", "reopened": 3, "reached_evaluation": 10},
            {"label": "丙", "reopened": 0, "reached_evaluation": 10}]
    assert [r["label"] for r in rank(rows, "reopen_rate", min_volume=10)] == ["丙", "甲", "乙"]
    days = [{"label": "甲", "handling_days": 50, "handled": 10},
            {"label": "乙", "handling_days": 20, "handled": 10}]
    assert [r["label"] for r in rank(days, "avg_handling_days")] == ["乙", "甲"]
    with pytest.raises(ValueError):
        rank(rows, "happiness")


def test_periods_follow_the_calendar_and_clip():
    months = periods(T(3, 15, 0), T(5, 10, 0), "month")
    assert [(b.key, b.label) for b in months] == [
        ("2025-03-01", "2025年3月"), ("2025-04-01", "2025年4月"), ("2025-05-01", "2025年5月")]
    assert (months[0].start, months[0].end) == (T(3, 15, 0), T(4, 1, 0))
    assert (months[-1].start, months[-1].end) == (T(5, 1, 0), T(5, 10, 0))
    quarters = periods(T(1, 1, 0), T(1, 1, 0, year=2026), "quarter")
    assert [b.label for b in quarters] == ["2025年第1季度", "2025年第2季度", "2025年第3季度",
                                           "2025年第4季度"]
    weeks = periods(T(3, 5, 0), T(3, 17, 0), "week")  # Wednesday to a Monday
    assert [b.key for b in weeks] == ["2025-03-03", "2025-03-10"]
    assert [b.key for b in periods(T(3, 5, 0), T(3, 5, 12), "year")] == ["2025-01-01"]
    assert (percent(None), percent(0.9975), percent(1.0, 0)) == ("—", "99.8%", "100%")
