"""The request form of the 报表 page (the API takes the same fields)."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .kinds import ordered
from .periods import KINDS as PERIOD_KINDS

PERIOD_LABELS = {"year": _("年度"), "quarter": _("季度"), "month": _("月度"),
                 "custom": _("自定义日期")}


class ExportForm(forms.Form):
    kind = forms.ChoiceField(label=_("台账或报表"))
    place = forms.TypedChoiceField(label=_("地点"), coerce=int)
    period = forms.ChoiceField(label=_("统计周期"),
                               choices=[(k, PERIOD_LABELS[k]) for k in PERIOD_KINDS])
    year = forms.IntegerField(label=_("年份"), required=False, min_value=2000, max_value=2100)
    number = forms.IntegerField(label=_("季度或月份"), required=False, min_value=1,
                                max_value=12)
    start = forms.DateField(label=_("开始日期"), required=False)
    last = forms.DateField(label=_("结束日期"), required=False)

    def __init__(self, *args, kinds=None, places=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(k.key, k.label) for k in (kinds or ordered())]
        self.fields["place"].choices = [(p.pk, label) for p, label in places]
        self.fields["year"].initial = timezone.localdate().year
