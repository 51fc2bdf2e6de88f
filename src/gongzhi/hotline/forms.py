from __future__ import annotations

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy


def parse_category_map(text: str) -> dict[str, str]:
    """``热线分类=本地编码``, one a line."""
    out: dict[str, str] = {}
    for n, line in enumerate((text or "").splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        name, sep, code = line.partition("=")
        if not sep or not name.strip() or not code.strip():
            raise forms.ValidationError(
                _("分类对照第%(n)d行应写成“热线分类=本地分类编码”。") % {"n": n})
        out[name.strip()] = code.strip()
    return out


def format_category_map(mapping: dict[str, str]) -> str:
    return "\n".join(f"{k}={v}" for k, v in mapping.items())


class ConnectionForm(forms.Form):
    name = forms.CharField(label=_lazy("名称"), max_length=80)
    outbound_url = forms.CharField(label=_lazy("热线接收地址"), max_length=300, required=False)
    default_place = forms.IntegerField(label=_lazy("默认承办地点"))
    category_map = forms.CharField(label=_lazy("分类对照"), required=False,
                                   widget=forms.Textarea(attrs={"rows": 5}))
    is_active = forms.BooleanField(label=_lazy("启用"), required=False, initial=True)

    def clean_category_map(self) -> dict[str, str]:
        return parse_category_map(self.cleaned_data.get("category_map", ""))


class ReturnForm(forms.Form):
    reason = forms.CharField(label=_lazy("退单理由"), max_length=500,
                             widget=forms.Textarea(attrs={"rows": 3}))
