"""Forms of the staff pages: a list's heading and its entries, one per line "名称｜事由"."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from gongzhi.core.access import scope_q
from gongzhi.places.models import Place

from .models import EntryKind, HonourList, ListKind
from .public import BOARD_LEVELS

SEPARATORS = ("｜", "|")


def board_places_for(user, permission: str = "board.change"):
    """Counties, towns and villages where ``user`` holds ``permission``."""
    qs = Place.objects.filter(kind__in=BOARD_LEVELS, is_active=True)
    if not user.is_superuser:
        q = scope_q(user, permission)
        if q is None:
            return qs.none()
        qs = qs.filter(q)
    return qs.order_by("county_id", "town_id", "village_id", "sort_order", "pk")


def parse_entries(text: str, default_kind: str = EntryKind.PERSON) -> list[dict[str, Any]]:
    """Lines "名称｜事由", or "类型｜名称｜事由" with a type such as 个人/户/单位/组织."""
    kinds = {str(label): value for value, label in EntryKind.choices}
    kinds.update({value: value for value in EntryKind.values})
    entries = []
    for number, raw in enumerate((text or "").splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        for sep in SEPARATORS[1:]:
            line = line.replace(sep, SEPARATORS[0])
        parts = [p.strip() for p in line.split(SEPARATORS[0])]
        if len(parts) == 3 and parts[0] in kinds:
            kind, name, reason = kinds[parts[0]], parts[1], parts[2]
        elif len(parts) == 2:
            kind, name, reason = default_kind, parts[0], parts[1]
        else:
            raise ValidationError(_("第 %(n)d 行的格式不对，应写成“名称｜事由”。") % {"n": number})
        entries.append({"kind": kind, "name": name, "reason": reason})
    return entries


def entries_text(entries) -> str:
    labels = dict(EntryKind.choices)
    lines = []
    for e in entries:
        prefix = "" if e.kind == EntryKind.PERSON else f"{labels[e.kind]}｜"
        lines.append(f"{prefix}{e.name}｜{e.reason}")
    return "\n".join(lines)


class HonourListForm(forms.Form):
    place = forms.ModelChoiceField(queryset=Place.objects.none(), label=_lazy("发布地点"))
    kind = forms.ChoiceField(choices=ListKind.choices, label=_lazy("榜单类型"))
    title = forms.CharField(max_length=120, label=_lazy("标题"))
    period_label = forms.CharField(max_length=40, label=_lazy("期别"),
                                   help_text=_lazy("例如“2026年第一季度”"))
    period_start = forms.DateField(label=_lazy("起始日期"),
                                   widget=forms.DateInput(attrs={"type": "date"}))
    period_end = forms.DateField(label=_lazy("截止日期"),
                                 widget=forms.DateInput(attrs={"type": "date"}))
    intro = forms.CharField(required=False, label=_lazy("说明"),
                            widget=forms.Textarea(attrs={"rows": 3}))
    entry_kind = forms.ChoiceField(choices=EntryKind.choices, initial=EntryKind.PERSON,
                                   label=_lazy("条目默认类型"))
    entries = forms.CharField(
        required=False, label=_lazy("名单"), widget=forms.Textarea(attrs={"rows": 10}),
        help_text=_lazy("每行一条，写成“名称｜事由”；类型不同的可写成“户｜名称｜事由”。"
                        "榜单公开发布，不要写电话号码或身份证号。"),
    )

    def __init__(self, user, *args, honour_list: HonourList | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["place"].queryset = board_places_for(user)
        self.fields["place"].label_from_instance = lambda p: f"{p.get_kind_display()} · {p.name}"
        if honour_list is not None:  # the place of an existing list does not change
            del self.fields["place"]

    def clean(self):
        data = super().clean()
        if "entries" in data and not self.errors.get("entries"):
            try:
                data["entry_list"] = parse_entries(data["entries"],
                                                   data.get("entry_kind") or EntryKind.PERSON)
            except ValidationError as exc:
                self.add_error("entries", exc)
        return data

    def error_text(self) -> str:
        return " ".join(str(m) for errors in self.errors.values() for m in errors)


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=300, label=_lazy("原因"))
