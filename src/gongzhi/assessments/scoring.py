"""Scoring, as pure functions: no query, no clock. ``actions.py`` feeds them what the figures
and the assessors said; ``docs/assessments.md`` says the same in words.

- :func:`rule_score` turns a figure's value into 0..100 by the indicator's rule;
- :func:`relative_scores` scores a figure against the other units of the round (the points
  share, and rules of kind ``relative``);
- :func:`weighted` sums indicator scores by weight;
- :func:`combine` applies the points share, then bonus and deduction;
- :func:`grade_of` finds the grade band; :func:`league` ranks a round.

Every score is rounded to two decimals (half up) as soon as it is made, and each later step
starts from the rounded numbers, so a sheet adds up by hand.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

HUNDRED = Decimal(100)
CENT = Decimal("0.01")

GRADES = (("excellent", "优秀"), ("pass", "合格"), ("basic", "基本合格"), ("fail", "不合格"))
GRADE_LABELS = dict(GRADES)


def q2(value: Decimal | float | int) -> Decimal:
    """Two decimals, half up."""
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def plain(value: Decimal | float | int | None) -> str:
    """A number without trailing zeros: 15, 12.5, 33.33; "—" for None."""
    if value is None:
        return "—"
    text = f"{Decimal(str(value)):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def clamp(value: Decimal, low: Decimal = Decimal(0), high: Decimal = HUNDRED) -> Decimal:
    return max(low, min(high, value))


def rule_score(rule: Mapping[str, Any], value: float | None) -> Decimal | None:
    """A figure's value as a score of 0..100; None when there is no value.

    - ``{"kind": "linear", "floor": f, "target": t}``: 0 at or beyond ``floor``, 100 at or
      beyond ``target``, in proportion between. With ``floor > target`` lower is better
      (超期数: floor 5, target 0).
    - ``{"kind": "thresholds", "steps": [{"min": 0.95, "score": 100}, ...], "otherwise": 0}``:
      the first step the value meets (``min``: value ≥ min; ``max``: value ≤ max) gives the
      score, else ``otherwise``.
    """
    if value is None:
        return None
    kind = rule.get("kind")
    v = Decimal(str(value))
    if kind == "linear":
        floor, target = Decimal(str(rule["floor"])), Decimal(str(rule["target"]))
        return q2(clamp((v - floor) / (target - floor) * HUNDRED))
    if kind == "thresholds":
        for step in rule.get("steps", []):
            if "min" in step and v >= Decimal(str(step["min"])):
                return q2(step["score"])
            if "max" in step and v <= Decimal(str(step["max"])):
                return q2(step["score"])
        return q2(rule.get("otherwise", 0))
    raise ValueError(f"not a rule of a single value: {kind}")


def relative_scores(values: Mapping[Any, float | None], basis: str) -> dict[Any, Decimal | None]:
    """Scores against the round's other units, higher values better.

    - ``best``: ``100 × value ÷ the best value`` (the best unit scores 100);
    - ``average``: ``80 × value ÷ the average value``, at most 100 (the average unit scores 80).

    Negative values score 0; units without a value score None; when the best (or the average)
    is not above zero, everyone with a value scores 0.
    """
    present = {k: Decimal(str(v)) for k, v in values.items() if v is not None}
    if basis == "best":
        ref, scale = (max(present.values()) if present else Decimal(0)), HUNDRED
    elif basis == "average":
        ref = sum(present.values()) / len(present) if present else Decimal(0)
        scale = Decimal(80)
    else:
        raise ValueError(f"unknown basis: {basis}")
    out: dict[Any, Decimal | None] = dict.fromkeys(values)
    for key, v in present.items():
        out[key] = q2(clamp(scale * v / ref)) if ref > 0 else q2(0)
    return out


def weighted(parts: Iterable[tuple[Decimal, Decimal | None]], no_data: str = "exclude"
             ) -> Decimal | None:
    """Σ weight × score ÷ Σ weight, over ``(weight, score)`` pairs.

    A score of None (nothing to divide, or a manual score not yet entered) is, by the policy
    ``no_data``: ``exclude`` — left out, the other weights scaled up to 100; ``zero`` — 0;
    ``full`` — 100. None when nothing is left.
    """
    total_w, total = Decimal(0), Decimal(0)
    for weight, score in parts:
        if score is None:
            if no_data == "exclude":
                continue
            score = HUNDRED if no_data == "full" else Decimal(0)
        total_w += weight
        total += weight * score
    if not total_w:
        return None
    return q2(total / total_w)


def combine(indicator_score: Decimal | None, *, share: Decimal = Decimal(0),
            points_score: Decimal | None = None, bonus: int = 0, deduction: int = 0
            ) -> tuple[Decimal | None, Decimal | None]:
    """``(base, final)``: base = (1 − share) × indicator score + share × points score (a unit
    without a points score counts 0 there); final = base + bonus − deduction. None without an
    indicator score."""
    if indicator_score is None:
        return None, None
    base = indicator_score
    if share:
        base = q2((1 - share) * indicator_score + share * (points_score or Decimal(0)))
    return base, q2(base + bonus - deduction)


def grade_of(score: Decimal | None, bands: Mapping[str, Any]) -> str:
    """The grade key (excellent, pass, basic, fail) whose minimum ``score`` reaches; "" for
    None. ``bands`` = ``{"excellent": 90, "pass": 75, "basic": 60}``."""
    if score is None:
        return ""
    for key in ("excellent", "pass", "basic"):
        if score >= Decimal(str(bands[key])):
            return key
    return "fail"


def league(rows: Sequence[Mapping[str, Any]], min_volume: int) -> list[dict[str, Any]]:
    """Ranks by ``score`` (high first), the rule of :func:`gongzhi.figures.compute.rank`.

    A row is ranked when it has a score and its ``volume`` is at least ``min_volume`` (and at
    least 1). Equal scores share a rank and the next rank skips (1, 2, 2, 4); among equals the
    larger volume is listed first. The rest follow with ``rank`` None, largest volume first.
    Each row comes back as a copy with ``rank`` and ``ranked``.
    """
    out = [{**r, "ranked": r["score"] is not None and r["volume"] >= max(min_volume, 1),
            "rank": None} for r in rows]
    ranked = sorted((r for r in out if r["ranked"]),
                    key=lambda r: (-r["score"], -r["volume"], str(r.get("label", ""))))
    for i, row in enumerate(ranked):
        same = i and ranked[i - 1]["score"] == row["score"]
        row["rank"] = ranked[i - 1]["rank"] if same else i + 1
    rest = sorted((r for r in out if not r["ranked"]),
                  key=lambda r: (-r["volume"], str(r.get("label", ""))))
    return ranked + rest
