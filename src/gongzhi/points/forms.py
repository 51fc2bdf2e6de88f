"""Forms of the points pages. They parse input only; every rule is checked by the actions."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gongzhi.accounts.roles import Role

from .models import CapPeriod, RankingUnit, YearEndPolicy
from .rules import PRESETS, load_preset


def error_text(form: forms.BaseForm) -> str:
    messages = []
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        for e in errors:
            messages.append(f"{label}：{e}" if label else str(e))
    return " ".join(messages)


class DeedForm(forms.Form):
    rule = forms.TypedChoiceField(label=_("积分项目"), coerce=int)
    occurred_on = forms.DateField(label=_("发生日期"), widget=forms.DateInput(
        attrs={"type": "date"}, format="%Y-%m-%d"))
    occurred_time = forms.TimeField(label=_("时间"), required=False, widget=forms.TimeInput(
        attrs={"type": "time"}, format="%H:%M"))
    location = forms.CharField(label=_("地点"), max_length=200)
    reason = forms.CharField(label=_("事由"), max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, rules=(), **kwargs):
        kwargs.setdefault("initial", {}).setdefault("occurred_on", timezone.localdate())
        super().__init__(*args, **kwargs)
        self.fields["rule"].choices = [
            (r.pk, f"{r.category} · {r.description}（{r.points:+d}）") for r in rules]


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", _("认定")), ("reject", _("不予认定"))])
    reason = forms.CharField(label=_("审核意见"), max_length=300, required=False)


class CorrectionForm(forms.Form):
    amount = forms.IntegerField(label=_("更正分值"), help_text=_("加分填正数，减分填负数"))
    reason = forms.CharField(label=_("理由"), max_length=200)
    original = forms.IntegerField(label=_("被更正的记录编号"), required=False)
    key = forms.CharField(widget=forms.HiddenInput, max_length=80)


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("理由"), max_length=300)


class RankingForm(forms.Form):
    place = forms.TypedChoiceField(label=_("范围"), coerce=int)
    year = forms.IntegerField(label=_("年度"), min_value=2000, max_value=2100)
    quarter = forms.TypedChoiceField(label=_("季度"), coerce=int,
                                     choices=[(1, _("第一季度")), (2, _("第二季度")),
                                              (3, _("第三季度")), (4, _("第四季度"))])
    unit = forms.ChoiceField(label=_("排名对象"), choices=RankingUnit.choices)
    klass = forms.CharField(label=_("类别（按个人排名时）"), required=False, max_length=32)

    def __init__(self, *args, places=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["place"].choices = [(p.pk, p.full_name()) for p in places]


class RulesPolicyForm(forms.Form):
    year_end = forms.ChoiceField(label=_("年末政策"), choices=YearEndPolicy.choices)
    notice_days = forms.IntegerField(label=_("排名公示天数"), min_value=1, max_value=60)
    public_label = forms.ChoiceField(label=_("公示时户的名称"), choices=[
        ("both", _("门牌号 + 户主姓氏（张**）")), ("masked_name", _("仅户主姓氏（张**）")),
        ("door", _("仅门牌号"))])
    shop_name = forms.CharField(label=_("积分超市名称"), max_length=60)
    stars = forms.CharField(label=_("星级标准"), required=False, max_length=300,
                            help_text=_("每行或用逗号分隔：星级:年度积分，如 1:20, 2:40, 3:60"))
    classes = forms.CharField(label=_("计分类别"), required=False,
                              widget=forms.Textarea(attrs={"rows": 4}),
                              help_text=_("每行一个：编码|名称|household 或 person；"
                                          "household 为按户计分"))
    note = forms.CharField(label=_("修订说明"), max_length=300, required=False)

    def clean_stars(self):
        out = []
        text = self.cleaned_data["stars"].replace("，", ",").replace("：", ":").replace("\n", ",")
        for part in text.split(","):
            part = part.strip()
            if not part:
                continue
            try:
                stars, minimum = (int(x) for x in part.split(":"))
            except ValueError as exc:
                raise forms.ValidationError(_("请写成 星级:积分，例如 1:20。")) from exc
            out.append({"stars": stars, "min": minimum})
        return out

    def clean_classes(self):
        out = []
        for line in self.cleaned_data["classes"].splitlines():
            line = line.strip().replace("｜", "|")
            if not line:
                continue
            parts = [p.strip() for p in line.split("|")]
            if len(parts) != 3:
                raise forms.ValidationError(_("每行写成 编码|名称|household 或 person。"))
            out.append({"key": parts[0], "label": parts[1], "subject": parts[2]})
        return out


ROLE_CHOICES = [(r.value, r.label) for r in Role]


class RuleItemForm(forms.Form):
    code = forms.CharField(label=_("编号"), max_length=20, required=False)
    klass = forms.ChoiceField(label=_("适用对象"))
    category = forms.CharField(label=_("类别"), max_length=60, required=False)
    description = forms.CharField(label=_("内容"), max_length=300, required=False)
    points = forms.IntegerField(label=_("分值"), required=False)
    evidence = forms.BooleanField(label=_("须附佐证"), required=False)
    cap_period = forms.ChoiceField(label=_("上限周期"), required=False,
                                   choices=[("", "—"), *CapPeriod.choices])
    cap_count = forms.IntegerField(label=_("次数上限"), required=False, min_value=1)
    cap_points = forms.IntegerField(label=_("分数上限"), required=False, min_value=1)
    recorders = forms.MultipleChoiceField(label=_("可记录角色"), required=False,
                                          choices=ROLE_CHOICES,
                                          widget=forms.CheckboxSelectMultiple)
    remove = forms.BooleanField(label=_("删除"), required=False)

    def __init__(self, *args, classes=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["klass"].choices = [(c["key"], c["label"]) for c in classes]

    def item(self) -> dict | None:
        d = self.cleaned_data
        if d.get("remove") or not (d.get("code") or d.get("description")):
            return None
        return {"code": d["code"], "klass": d["klass"], "category": d["category"],
                "description": d["description"], "points": d["points"],
                "evidence": d["evidence"],
                "cap": {"period": d["cap_period"], "count": d["cap_count"],
                        "points": d["cap_points"]},
                "recorders": d["recorders"]}


class BaseItemFormSet(forms.BaseFormSet):
    def __init__(self, *args, classes=(), **kwargs):
        self.classes = classes
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index):
        return {**super().get_form_kwargs(index), "classes": self.classes}


ItemFormSet = forms.formset_factory(RuleItemForm, formset=BaseItemFormSet, extra=3,
                                    max_num=300, validate_max=True)


class PresetForm(forms.Form):
    preset = forms.ChoiceField(label=_("积分模板"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["preset"].choices = [(k, load_preset(k)["name"]) for k in PRESETS]


class ShopForm(forms.Form):
    village = forms.TypedChoiceField(label=_("村（社区）"), coerce=int)
    name = forms.CharField(label=_("名称"), max_length=120, required=False,
                           help_text=_("不填则用积分细则中的名称"))
    notes = forms.CharField(label=_("说明"), max_length=300, required=False)

    def __init__(self, *args, villages=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["village"].choices = [(v.pk, v.full_name()) for v in villages]


class GoodForm(forms.Form):
    name = forms.CharField(label=_("商品名称"), max_length=120)
    unit = forms.CharField(label=_("单位"), max_length=10, initial="件")
    price = forms.IntegerField(label=_("兑换积分"), min_value=1, max_value=100000)
    is_active = forms.BooleanField(label=_("上架"), required=False, initial=True)


class StockForm(forms.Form):
    quantity = forms.IntegerField(label=_("数量"))
    kind = forms.ChoiceField(label=_("类型"), choices=[("stock_in", _("入库")),
                                                       ("adjustment", _("盘点调整"))])
    note = forms.CharField(label=_("备注"), max_length=200, required=False)
    key = forms.CharField(widget=forms.HiddenInput, max_length=80)


class ObjectionForm(forms.Form):
    text = forms.CharField(label=_("异议内容"), max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 3}))
    row = forms.IntegerField(required=False, widget=forms.HiddenInput)


class AnswerForm(forms.Form):
    answer = forms.CharField(label=_("答复"), max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 2}))
