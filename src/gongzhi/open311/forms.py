"""Forms of the staff page: a question (Open311 attribute) and a new app key."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Datatype


class QuestionForm(forms.Form):
    category = forms.TypedChoiceField(label=_("事项分类"), coerce=int)
    code = forms.CharField(label=_("编码"), max_length=40,
                           help_text=_("字母、数字、下划线，例如 facility"))
    description = forms.CharField(label=_("问题"), max_length=200)
    datatype = forms.ChoiceField(label=_("类型"), choices=Datatype.choices)
    required = forms.BooleanField(label=_("必填"), required=False)
    variable = forms.BooleanField(label=_("需要填写"), required=False, initial=True)
    datatype_description = forms.CharField(label=_("填写说明"), max_length=200, required=False)
    order = forms.IntegerField(label=_("顺序"), min_value=1, initial=1)
    values = forms.CharField(label=_("选项"), required=False, widget=forms.Textarea(attrs={
        "rows": 4}), help_text=_("单选或多选题每行一项，写作“编码=名称”，例如 road=道路"))
    is_active = forms.BooleanField(label=_("启用"), required=False, initial=True,
                                   help_text=_("不勾选则不再询问（也会隐藏模板里同编码的问题）"))

    def __init__(self, *args, categories=(), **kwargs):
        super().__init__(*args, **kwargs)
        self._categories = {c.pk: c for c in categories}
        self.fields["category"].choices = [(c.pk, c.name) for c in categories]

    def clean_category(self):
        return self._categories[self.cleaned_data["category"]]

    def clean_values(self):
        out = []
        for line in (self.cleaned_data.get("values") or "").splitlines():
            line = line.strip()
            if not line:
                continue
            key, sep, name = line.partition("=")
            if not sep:
                raise forms.ValidationError(_("选项“%(l)s”须写作“编码=名称”。") % {"l": line})
            out.append({"key": key.strip(), "name": name.strip()})
        return out


class KeyForm(forms.Form):
    name = forms.CharField(label=_("应用名称"), max_length=80)
