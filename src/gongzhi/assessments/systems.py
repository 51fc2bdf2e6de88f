"""Indicator systems: the figures an indicator may use, presets, and checking a system before
it is saved.

A version's **policy** (defaults in :data:`DEFAULT_POLICY`):

================  ===========================================================================
``min_volume``    units whose volume is below it are listed but not ranked (default: the
                  figures' own minimum, ``figures.compute.DEFAULT_MIN_VOLUME``)
``volume``        the counts summed as a unit's volume: matters received (``received``) for
                  places and cadres; matters received plus summonses (``summoned``) for
                  departments
``no_data``       an indicator with nothing to divide: ``exclude`` (left out, the other weights
                  scaled up), ``zero`` or ``full``
``grades``        ``{"excellent": 90, "pass": 75, "basic": 60}``: the lowest final score of
                  优秀, 合格 and 基本合格; below ``basic`` is 不合格
``max_bonus``     the most a unit may gain (and ``max_deduction`` lose) from approved
                  adjustments in one round, each adjustment being 1 to 10
``points_share``  ``{"share": 0.6, "basis": "best", "per": "household"}``: in a *year* round of
                  grids, villages or towns, the share of the final score that comes from the
                  households' earned points (0: none)
``cadre_roles``   for cadre systems: the roles whose holders are assessed
================  ===========================================================================
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from importlib import resources
from typing import Any

from django.utils.translation import gettext as _

from gongzhi.accounts.roles import Role
from gongzhi.core.errors import ActionError
from gongzhi.figures.compute import DEFAULT_MIN_VOLUME
from gongzhi.figures.registry import FIGURE_SETS, RATIOS

from .models import PLACE_UNIT_KINDS, Source, UnitKind

PRESETS = ("fuyuan_grid", "fuyuan_village", "jiesu_town", "jiesu_department", "cadre")
MAX_INDICATORS = 60
NO_DATA = ("exclude", "zero", "full")
BASES = ("best", "average")
CADRE_ROLES = [Role.GRID_WORKER, Role.VILLAGE_CADRE, Role.VILLAGE_SECRETARY, Role.TOWN_STAFF,
               Role.TOWN_SECRETARY]

DEFAULT_POLICY: dict[str, Any] = {
    "min_volume": DEFAULT_MIN_VOLUME,
    "no_data": "exclude",
    "grades": {"excellent": 90, "pass": 75, "basic": 60},
    "max_bonus": 10,
    "max_deduction": 10,
    "points_share": {"share": 0, "basis": "best", "per": "household"},
}


# ---------------------------------------------------------------------------------------------
# The figures an indicator may use


@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    higher_is_better: bool
    unit: str  # "rate" (a fraction), "count", "working_days", "points"
    sets: tuple[str, ...]  # the figure sets to compute (none for points)
    place_only: bool = False

    @property
    def is_rate(self) -> bool:
        return self.unit == "rate"


OVERDUE = "overdue_count"
POINTS = "points"


def figure_catalogue() -> dict[str, Figure]:
    """Every ratio registered with the figures app (办结率, 按期办结率, 响应率, 满意率, 解决率,
    重办率, 报到率, 及时报到率, 平均办理用时, and whatever an app registers later, such as
    visits), the overdue count, and the households' points."""
    out: dict[str, Figure] = {}
    for key, ratio in RATIOS.items():
        names = set(ratio.numerator) | set(ratio.denominator)
        sets = tuple(s.key for s in FIGURE_SETS.values() if names & set(s.counts))
        out[key] = Figure(key, ratio.name, ratio.higher_is_better, ratio.unit, sets)
    out[OVERDUE] = Figure(OVERDUE, "超期事项数", False, "count", ("overdue",))
    out[POINTS] = Figure(POINTS, "户均积分", True, "points", (), place_only=True)
    return out


def figure_label(key: str) -> str:
    figure = figure_catalogue().get(key)
    return figure.label if figure else key


# ---------------------------------------------------------------------------------------------
# Presets


def load_preset(key: str) -> dict[str, Any]:
    if key not in PRESETS:
        raise ActionError(_("未知的考核模板：%(k)s。") % {"k": key})
    text = resources.files("gongzhi.assessments.presets").joinpath(f"{key}.json").read_text(
        "utf-8")
    return json.loads(text)


def preset_choices() -> list[tuple[str, str]]:
    return [(key, load_preset(key)["name"]) for key in PRESETS]


# ---------------------------------------------------------------------------------------------
# Checking a system


def _decimal(value: Any, message: str) -> Decimal:
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError, TypeError) as exc:
        raise ActionError(message) from exc
    if not number.is_finite():
        raise ActionError(message)
    return number


def _int(value: Any, message: str, low: int, high: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError) as exc:
        raise ActionError(message) from exc
    if not low <= number <= high:
        raise ActionError(message)
    return number


def default_policy(unit_kind: str) -> dict[str, Any]:
    policy = json.loads(json.dumps(DEFAULT_POLICY))
    policy["volume"] = (["received", "summoned"] if unit_kind == UnitKind.DEPARTMENT
                        else ["received"])
    if unit_kind == UnitKind.CADRE:
        policy["cadre_roles"] = [str(r) for r in CADRE_ROLES]
    return policy


def clean_policy(policy: dict[str, Any] | None, unit_kind: str) -> dict[str, Any]:
    base = default_policy(unit_kind)
    given = dict(policy or {})
    merged = {**base, **given}
    merged["grades"] = {**base["grades"], **(given.get("grades") or {})}
    merged["points_share"] = {**base["points_share"], **(given.get("points_share") or {})}
    merged["min_volume"] = _int(merged["min_volume"], _("最低业务量应为0至10000的整数。"),
                                0, 10000)
    if merged["no_data"] not in NO_DATA:
        raise ActionError(_("无数据指标的处理方式不正确。"))
    grades = {}
    for key in ("excellent", "pass", "basic"):
        grades[key] = float(_decimal(merged["grades"][key], _("等次分数线应为数字。")))
    if not 100 >= grades["excellent"] > grades["pass"] > grades["basic"] >= 0:
        raise ActionError(_("等次分数线应满足：100 ≥ 优秀 > 合格 > 基本合格 ≥ 0。"))
    merged["grades"] = grades
    merged["max_bonus"] = _int(merged["max_bonus"], _("加分上限应为0至10分。"), 0, 10)
    merged["max_deduction"] = _int(merged["max_deduction"], _("扣分上限应为0至10分。"), 0, 10)
    share = merged["points_share"]
    value = _decimal(share.get("share", 0), _("积分占比应为0至1之间的数。"))
    if not 0 <= value < 1:
        raise ActionError(_("积分占比应为0至1之间的数（0.6 表示60%）。"))
    if value and unit_kind not in PLACE_UNIT_KINDS:
        raise ActionError(_("只有网格、村（社区）和镇（街道）的考核可以计入户积分。"))
    if share.get("basis") not in BASES:
        raise ActionError(_("积分得分的基准只能是最高分或平均分。"))
    if share.get("per") not in ("household", "total"):
        raise ActionError(_("积分只能按户均或总分计算。"))
    merged["points_share"] = {"share": float(value), "basis": share["basis"],
                              "per": share["per"]}
    volume = merged.get("volume") or base["volume"]
    known = {c for s in FIGURE_SETS.values() for c in s.counts}
    if not isinstance(volume, list) or not set(volume) <= known:
        raise ActionError(_("业务量只能由已定义的统计数相加。"))
    merged["volume"] = volume
    if unit_kind == UnitKind.CADRE:
        roles = [r for r in merged.get("cadre_roles") or [] if r]
        if not roles or not set(roles) <= set(Role.values):
            raise ActionError(_("请选择哪些角色的人员参加干部考核。"))
        merged["cadre_roles"] = roles
    else:
        merged.pop("cadre_roles", None)
    return merged


def clean_rule(rule: dict[str, Any], figure: Figure, n: int) -> dict[str, Any]:
    kind = (rule or {}).get("kind")
    bad = _("第 %(n)d 项指标的计分规则不完整。") % {"n": n}
    if kind == "linear":
        floor = _decimal(rule.get("floor"), bad)
        target = _decimal(rule.get("target"), bad)
        if floor == target:
            raise ActionError(_("第 %(n)d 项指标的起分值和满分值不能相同。") % {"n": n})
        return {"kind": "linear", "floor": float(floor), "target": float(target)}
    if kind == "thresholds":
        steps = []
        for step in rule.get("steps") or []:
            score = _decimal(step.get("score"), bad)
            if not 0 <= score <= 100:
                raise ActionError(_("第 %(n)d 项指标的档次得分应在0至100之间。") % {"n": n})
            if "min" in step:
                steps.append({"min": float(_decimal(step["min"], bad)), "score": float(score)})
            elif "max" in step:
                steps.append({"max": float(_decimal(step["max"], bad)), "score": float(score)})
            else:
                raise ActionError(bad)
        if not steps:
            raise ActionError(_("第 %(n)d 项指标至少要有一个分档。") % {"n": n})
        otherwise = _decimal(rule.get("otherwise", 0), bad)
        if not 0 <= otherwise <= 100:
            raise ActionError(_("第 %(n)d 项指标的档次得分应在0至100之间。") % {"n": n})
        return {"kind": "thresholds", "steps": steps, "otherwise": float(otherwise)}
    if kind == "relative":
        if not figure.higher_is_better:
            raise ActionError(_("第 %(n)d 项指标越低越好，不能按相对最高分计分。") % {"n": n})
        basis = rule.get("basis", "best")
        if basis not in BASES:
            raise ActionError(bad)
        return {"kind": "relative", "basis": basis}
    raise ActionError(_("第 %(n)d 项指标要选择计分规则：线性、分档或相对。") % {"n": n})


def clean_indicators(indicators: list[dict[str, Any]], unit_kind: str) -> list[dict[str, Any]]:
    """Indicators as given (the preset format), checked; raises ActionError with a sentence.
    The weights must add up to 100."""
    if not indicators:
        raise ActionError(_("指标体系至少要有一项指标。"))
    if len(indicators) > MAX_INDICATORS:
        raise ActionError(_("指标体系最多 %(n)d 项指标。") % {"n": MAX_INDICATORS})
    catalogue = figure_catalogue()
    cleaned, codes, total = [], set(), Decimal(0)
    for n, item in enumerate(indicators, start=1):
        code = str(item.get("code") or "").strip()
        category = str(item.get("category") or "").strip()
        name = str(item.get("name") or "").strip()
        description = str(item.get("description") or "").strip()
        if not code or not category or not name:
            raise ActionError(_("第 %(n)d 项指标缺少编号、类别或名称。") % {"n": n})
        if len(code) > 20 or len(category) > 60 or len(name) > 120 or len(description) > 500:
            raise ActionError(_("第 %(n)d 项指标过长：编号不超过20字，类别不超过60字，"
                                "名称不超过120字，评分标准不超过500字。") % {"n": n})
        if code in codes:
            raise ActionError(_("指标编号 %(c)s 重复。") % {"c": code})
        codes.add(code)
        weight = _decimal(item.get("weight"), _("第 %(n)d 项指标的权重必须是数字。") % {"n": n})
        if not 0 < weight <= 100 or weight != weight.quantize(Decimal("0.01")):
            raise ActionError(_("第 %(n)d 项指标的权重应大于0、不超过100，最多两位小数。")
                              % {"n": n})
        total += weight
        source = item.get("source")
        if source == Source.MANUAL:
            figure_key, rule = "", {}
        elif source == Source.COMPUTED:
            figure_key = str(item.get("figure") or "")
            figure = catalogue.get(figure_key)
            if figure is None:
                raise ActionError(_("第 %(n)d 项指标的统计指标 %(f)s 不存在。")
                                  % {"n": n, "f": figure_key or "—"})
            if figure.place_only and unit_kind not in PLACE_UNIT_KINDS:
                raise ActionError(_("第 %(n)d 项指标：户积分只能用于网格、村（社区）和镇（街道）"
                                    "的考核。") % {"n": n})
            rule = clean_rule(item.get("rule") or {}, figure, n)
        else:
            raise ActionError(_("第 %(n)d 项指标要选择来源：系统计算或人工评分。") % {"n": n})
        cleaned.append({"code": code, "category": category, "name": name,
                        "weight": str(weight.quantize(Decimal("0.01"))), "source": source,
                        "figure": figure_key, "rule": rule, "description": description})
    if total != 100:
        raise ActionError(_("各项指标权重之和应为100，现在是 %(t)s。")
                          % {"t": f"{total.normalize():f}"})
    return cleaned


def indicator_dict(indicator) -> dict[str, Any]:
    """A saved :class:`Indicator` in the preset format (to copy it into a new version)."""
    return {"code": indicator.code, "category": indicator.category, "name": indicator.name,
            "weight": str(indicator.weight), "source": indicator.source,
            "figure": indicator.figure, "rule": indicator.rule,
            "description": indicator.description}


def describe_rule(indicator) -> str:
    """The rule in words, for pages and the workbook."""
    if indicator.source == Source.MANUAL:
        return _("人工评分（0–100分，须写明依据）")
    figure = figure_catalogue().get(indicator.figure)
    rule = indicator.rule or {}

    def show(v: float) -> str:
        if figure is not None and figure.is_rate:
            return f"{v * 100:g}%"
        return f"{v:g}"

    kind = rule.get("kind")
    if kind == "linear":
        return _("%(floor)s 及以下得0分，%(target)s 及以上得100分，之间按比例") % {
            "floor": show(rule["floor"]), "target": show(rule["target"])}
    if kind == "thresholds":
        parts = []
        for step in rule["steps"]:
            if "min" in step:
                parts.append(f"≥{show(step['min'])}: {step['score']:g}")
            else:
                parts.append(f"≤{show(step['max'])}: {step['score']:g}")
        return _("分档：%(steps)s；其余 %(other)s 分") % {
            "steps": "，".join(parts), "other": f"{rule.get('otherwise', 0):g}"}
    if kind == "relative":
        if rule.get("basis") == "average":
            return _("相对计分：平均水平得80分，最高100分")
        return _("相对计分：最高者得100分，其余按比例")
    return "—"
