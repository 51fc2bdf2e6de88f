"""Parsing the visit pages' input. Forms only read and shape it; the actions decide."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gongzhi.accounts.roles import Role
from gongzhi.matters.models import Ledger

from .models import VisitKind


class VisitForm(forms.Form):
    household = forms.IntegerField(error_messages={"required": _("请先查找并选择要走访的户。")})
    visited_on = forms.DateField(label=_("走访日期"),
                                 error_messages={"required": _("请填写走访日期。"),
                                                 "invalid": _("请按 年-月-日 填写走访日期。")})
    kind = forms.ChoiceField(label=_("走访类型"), choices=VisitKind.choices,
                             error_messages={"required": _("请选择走访类型。")})
    met = forms.TypedMultipleChoiceField(coerce=int, required=False, choices=())
    nobody_home = forms.BooleanField(required=False)
    notes = forms.CharField(required=False, max_length=4000, label=_("听到的需求和意见"),
                            error_messages={"max_length": _("需求和意见不能超过4000个字。")})
    raise_matter = forms.BooleanField(required=False)
    matter_title = forms.CharField(required=False, max_length=120)
    matter_ledger = forms.ChoiceField(required=False, choices=Ledger.choices)
    matter_category = forms.IntegerField(required=False)

    def __init__(self, *args, member_ids: list[int] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["met"].choices = [(i, i) for i in member_ids or []]
        self.fields["met"].error_messages["invalid_choice"] = _("所选的人员不是这户的在册成员。")
        self.fields["visited_on"].initial = timezone.localdate()
        self.fields["kind"].initial = VisitKind.ROUTINE

    def clean_visited_on(self) -> dt.date:
        day = self.cleaned_data["visited_on"]
        if day > timezone.localdate():
            raise forms.ValidationError(_("走访日期不能晚于今天。"))
        return day

    def clean(self):
        data = super().clean()
        if data.get("nobody_home") and data.get("met"):
            self.add_error("met", _("已勾选“无人在家”，就不能再选择见到的人。"))
        elif not data.get("nobody_home") and not data.get("met") and "met" not in self.errors:
            self.add_error("met", _("请选择见到了哪位家庭成员，或勾选“无人在家”。"))
        if data.get("raise_matter"):
            if not (data.get("matter_title") or "").strip():
                self.add_error("matter_title", _("请为要登记的事项写一个标题。"))
            if not (data.get("notes") or "").strip():
                self.add_error("notes", _("请写下听到的需求，事项内容就用这段话。"))
            if not data.get("matter_ledger"):
                data["matter_ledger"] = Ledger.CLAIM
        return data


class VisitMatterForm(forms.Form):
    title = forms.CharField(max_length=120, error_messages={
        "required": _("请为要登记的事项写一个标题。"),
        "max_length": _("标题不能超过120个字。")})
    text = forms.CharField(required=False, max_length=4000)
    ledger = forms.ChoiceField(choices=Ledger.choices,
                               error_messages={"required": _("请选择台账类别。")})
    category = forms.IntegerField(required=False)
    reporter_person = forms.IntegerField(required=False)


class QuotaForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices, error_messages={"required": _("请选择角色。")})
    place = forms.IntegerField(required=False)
    per_week = forms.IntegerField(min_value=0, max_value=50, error_messages={
        "required": _("请填写每周走访户数。"),
        "min_value": _("每周走访户数应是0到50之间的整数。"),
        "max_value": _("每周走访户数应是0到50之间的整数。"),
        "invalid": _("每周走访户数应是0到50之间的整数。")})


class CoverageForm(forms.Form):
    days = forms.IntegerField(required=False, min_value=1, max_value=366)
    other = forms.IntegerField(required=False, min_value=1, max_value=366)
    special = forms.BooleanField(required=False)
