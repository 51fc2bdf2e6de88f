"""Forms of the assessment pages. They parse input only; every rule is checked by the actions
(``systems.clean_indicators`` and ``clean_policy``).

On the pages, rates (办结率 ...) are written as percentages — a floor of 60 means 60 % — and
stored as the fractions the figures app uses (0.6).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from gongzhi.accounts.roles import Role

from .models import AdjustmentKind, PeriodKind, Source, UnitKind
from .scoring import plain
from .systems import figure_catalogue, preset_choices


def error_text(form: forms.BaseForm) -> str:
    messages = []
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        for e in errors:
            messages.append(f"{label}：{e}" if label else str(e))
    return " ".join(messages)


class PresetForm(forms.Form):
    county = forms.TypedChoiceField(label=_("县（区）"), coerce=int)
    preset = forms.ChoiceField(label=_("模板"))
    name = forms.CharField(label=_("名称（可不填）"), max_length=120, required=False)

    def __init__(self, *args, counties=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["county"].choices = [(c.pk, c.name) for c in counties]
        self.fields["preset"].choices = preset_choices()


class RoundForm(forms.Form):
    system = forms.TypedChoiceField(label=_("指标体系"), coerce=int)
    scope = forms.TypedChoiceField(label=_("范围"), coerce=int)
    period_kind = forms.ChoiceField(label=_("周期"), choices=PeriodKind.choices)
    year = forms.IntegerField(label=_("年度"), min_value=2000, max_value=2100)
    quarter = forms.TypedChoiceField(label=_("季度"), coerce=int, required=False, empty_value=None,
                                     choices=[("", "—"), (1, _("第一季度")), (2, _("第二季度")),
                                              (3, _("第三季度")), (4, _("第四季度"))])

    def __init__(self, *args, systems=(), places=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["system"].choices = [
            (s.pk, f"{s.name}（{s.get_unit_kind_display()}）") for s in systems]
        self.fields["scope"].choices = [(p.pk, p.full_name()) for p in places]


class ScoreForm(forms.Form):
    score = forms.DecimalField(label=_("得分"), min_value=0, max_value=100, decimal_places=2)
    evidence = forms.CharField(label=_("评分依据"), max_length=2000,
                               widget=forms.Textarea(attrs={"rows": 2}))


class AdjustmentForm(forms.Form):
    kind = forms.ChoiceField(label=_("类型"), choices=AdjustmentKind.choices)
    points = forms.IntegerField(label=_("分值"), min_value=1, max_value=10)
    reason = forms.CharField(label=_("事由"), max_length=500,
                             widget=forms.Textarea(attrs={"rows": 2}))


class DecisionForm(forms.Form):
    note = forms.CharField(label=_("审批意见"), max_length=300, required=False)


# ---------------------------------------------------------------------------------------------
# Editing a system


class PolicyForm(forms.Form):
    min_volume = forms.IntegerField(label=_("参与排名的最低业务量"), min_value=0, max_value=10000,
                                    help_text=_("业务量不足的对象列出但不排名"))
    no_data = forms.ChoiceField(label=_("无数据的指标"), choices=[
        ("exclude", _("不计入，其余指标按权重折算")), ("zero", _("计0分")), ("full", _("计满分"))])
    excellent = forms.DecimalField(label=_("优秀分数线"), min_value=0, max_value=100)
    passing = forms.DecimalField(label=_("合格分数线"), min_value=0, max_value=100)
    basic = forms.DecimalField(label=_("基本合格分数线"), min_value=0, max_value=100)
    max_bonus = forms.IntegerField(label=_("加分上限"), min_value=0, max_value=10)
    max_deduction = forms.IntegerField(label=_("扣分上限"), min_value=0, max_value=10)
    points_share = forms.DecimalField(label=_("年度考核中户积分占比（%）"), min_value=0,
                                      max_value=99, decimal_places=1, required=False,
                                      help_text=_("富源：60。0 或空为不计"))
    points_basis = forms.ChoiceField(label=_("积分得分基准"), choices=[
        ("best", _("最高者得100分")), ("average", _("平均水平得80分"))])
    points_per = forms.ChoiceField(label=_("积分按"), choices=[
        ("household", _("户均积分")), ("total", _("积分总数"))])
    cadre_roles = forms.MultipleChoiceField(
        label=_("参加考核的干部角色"), required=False, widget=forms.CheckboxSelectMultiple,
        choices=[(r.value, r.label) for r in Role])
    note = forms.CharField(label=_("修订说明"), max_length=300, required=False)

    def __init__(self, *args, unit_kind: str, **kwargs):
        super().__init__(*args, **kwargs)
        if unit_kind != UnitKind.CADRE:
            del self.fields["cadre_roles"]
        if unit_kind not in (UnitKind.GRID, UnitKind.VILLAGE, UnitKind.TOWN):
            for name in ("points_share", "points_basis", "points_per"):
                del self.fields[name]

    @staticmethod
    def initial_from(policy: dict[str, Any]) -> dict[str, Any]:
        share = policy.get("points_share", {})
        grades = policy.get("grades", {})
        return {"min_volume": policy.get("min_volume"), "no_data": policy.get("no_data"),
                "excellent": plain(grades.get("excellent")), "passing": plain(grades.get("pass")),
                "basic": plain(grades.get("basic")), "max_bonus": policy.get("max_bonus"),
                "max_deduction": policy.get("max_deduction"),
                "points_share": plain(Decimal(str(share.get("share", 0))) * 100),
                "points_basis": share.get("basis", "best"),
                "points_per": share.get("per", "household"),
                "cadre_roles": policy.get("cadre_roles", [])}

    def policy(self, old: dict[str, Any]) -> dict[str, Any]:
        d = self.cleaned_data
        policy = dict(old)
        policy.update({"min_volume": d["min_volume"], "no_data": d["no_data"],
                       "grades": {"excellent": d["excellent"], "pass": d["passing"],
                                  "basic": d["basic"]},
                       "max_bonus": d["max_bonus"], "max_deduction": d["max_deduction"]})
        if "points_share" in d:
            policy["points_share"] = {"share": (d["points_share"] or Decimal(0)) / 100,
                                      "basis": d["points_basis"], "per": d["points_per"]}
        if "cadre_roles" in d:
            policy["cadre_roles"] = d["cadre_roles"]
        return policy


RULE_KINDS = [("", "—"), ("linear", _("线性：起分值到满分值")),
              ("thresholds", _("分档")), ("relative", _("相对：与其他对象比较"))]
STEP = re.compile(r"^(>=|≥|<=|≤)\s*(-?\d+(?:\.\d+)?)\s*%?\s*[:：]\s*(\d+(?:\.\d+)?)$")


class IndicatorForm(forms.Form):
    code = forms.CharField(label=_("编号"), max_length=20, required=False)
    category = forms.CharField(label=_("指标类别"), max_length=60, required=False)
    name = forms.CharField(label=_("指标"), max_length=120, required=False)
    weight = forms.DecimalField(label=_("权重"), required=False, decimal_places=2)
    source = forms.ChoiceField(label=_("来源"), choices=[("", "—"), *Source.choices],
                               required=False)
    figure = forms.ChoiceField(label=_("统计指标"), required=False)
    rule_kind = forms.ChoiceField(label=_("计分规则"), choices=RULE_KINDS, required=False)
    floor = forms.DecimalField(label=_("起分值（0分）"), required=False,
                               help_text=_("比率按百分数填写，如 60 表示60%"))
    target = forms.DecimalField(label=_("满分值（100分）"), required=False)
    steps = forms.CharField(label=_("分档"), max_length=300, required=False,
                            help_text=_("如 ≥95:100, ≥90:80；越少越好的用 ≤0:100, ≤2:60"))
    otherwise = forms.DecimalField(label=_("其余得分"), required=False, min_value=0,
                                   max_value=100)
    basis = forms.ChoiceField(label=_("相对基准"), choices=[
        ("best", _("最高者得100分")), ("average", _("平均水平得80分"))], required=False)
    description = forms.CharField(label=_("评分标准"), max_length=500, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["figure"].choices = [("", "—")] + [
            (f.key, f.label) for f in figure_catalogue().values()]

    def is_blank(self) -> bool:
        d = getattr(self, "cleaned_data", {})
        return not any(d.get(k) for k in ("code", "category", "name", "weight"))

    @staticmethod
    def initial_from(item: dict[str, Any]) -> dict[str, Any]:
        figure = figure_catalogue().get(item.get("figure") or "")
        scale = Decimal(100) if figure is not None and figure.is_rate else Decimal(1)
        rule = item.get("rule") or {}

        def shown(v):
            return plain(Decimal(str(v)) * scale)

        initial = {"code": item["code"], "category": item["category"], "name": item["name"],
                   "weight": plain(item["weight"]), "source": item["source"],
                   "figure": item.get("figure", ""), "rule_kind": rule.get("kind", ""),
                   "description": item.get("description", "")}
        if rule.get("kind") == "linear":
            initial.update(floor=shown(rule["floor"]), target=shown(rule["target"]))
        elif rule.get("kind") == "thresholds":
            parts = [(f"≥{shown(s['min'])}" if "min" in s else f"≤{shown(s['max'])}")
                     + f":{plain(s['score'])}" for s in rule["steps"]]
            initial.update(steps=", ".join(parts), otherwise=plain(rule.get("otherwise", 0)))
        elif rule.get("kind") == "relative":
            initial["basis"] = rule.get("basis", "best")
        return initial

    def item(self) -> dict[str, Any]:
        """The indicator in the preset format; the actions check it."""
        d = self.cleaned_data
        figure = figure_catalogue().get(d["figure"] or "")
        scale = Decimal(100) if figure is not None and figure.is_rate else Decimal(1)

        def stored(v):
            return None if v is None else float(Decimal(v) / scale)

        rule: dict[str, Any] = {"kind": d["rule_kind"]} if d["rule_kind"] else {}
        if d["rule_kind"] == "linear":
            rule.update(floor=stored(d["floor"]), target=stored(d["target"]))
        elif d["rule_kind"] == "thresholds":
            steps = []
            for part in re.split(r"[,，;；\n]", d["steps"] or ""):
                part = part.strip()
                if not part:
                    continue
                match = STEP.match(part)
                if not match:
                    raise forms.ValidationError(
                        _("分档“%(p)s”写法不对，应写成 ≥95:100 或 ≤2:60。") % {"p": part})
                op, value, score = match.groups()
                steps.append({("min" if op in (">=", "≥") else "max"): stored(value),
                              "score": float(score)})
            rule.update(steps=steps, otherwise=float(d["otherwise"] or 0))
        elif d["rule_kind"] == "relative":
            rule["basis"] = d["basis"] or "best"
        return {"code": d["code"], "category": d["category"], "name": d["name"],
                "weight": d["weight"], "source": d["source"], "figure": d["figure"],
                "rule": rule, "description": d["description"]}


IndicatorFormSet = forms.formset_factory(IndicatorForm, extra=2, can_delete=True,
                                         max_num=60, validate_max=True)
