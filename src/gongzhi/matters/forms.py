"""Parsing what the matter pages post. Choices come from the county (residents) or from the
user's scope (staff); the actions check everything again: a form is a convenience, not the
guard. Messages are whole sentences a resident understands."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gongzhi.accounts.models import User
from gongzhi.core.access import has_permission, scope_q
from gongzhi.core.errors import ActionError
from gongzhi.places.models import Organisation, Person, Place, PlaceKind
from gongzhi.places.validators import validate_phone

from .models import Category, Channel, HandlingMode, Ledger, Matter, Outcome, Urgency

LEDGER_HELP = {
    Ledger.SUGGESTION: _("对村里、社区或镇里的工作，对公共事务，提出想法和建议。"),
    Ledger.CLAIM: _("自己或家里遇到的困难、需要解决的问题，如用水用电、道路、补贴、邻里纠纷。"),
    Ledger.COMPLAINT: _("反映干部作风、违规违纪，或单位、个人的违法违规行为。"),
}
URGENCY_HELP = {
    Urgency.NORMAL: _("按正常时限办理。"),
    Urgency.URGENT: _("需要马上处理的急事，如安全隐患、突发困难。"),
    Urgency.SPECIAL: _("情况特殊、需要专门研究的事。"),
}


class PlainErrors:
    def error_text(self) -> str:
        return " ".join(str(e) for errors in self.errors.values() for e in errors)


def category_choices(county_id: int) -> list[tuple[str, str]]:
    """The county's active categories, children indented under their parents."""
    cats = list(Category.objects.filter(county_id=county_id, is_active=True)
                .order_by("sort_order", "pk"))
    by_parent: dict[int | None, list[Category]] = {}
    for c in cats:
        by_parent.setdefault(c.parent_id, []).append(c)
    out: list[tuple[str, str]] = []

    def walk(parent_id, depth):
        for c in by_parent.get(parent_id, []):
            out.append((str(c.pk), "\u3000" * depth + c.name))
            walk(c.pk, depth + 1)

    walk(None, 0)
    return out


class RaiseForm(PlainErrors, forms.Form):
    """我要说事: what a resident fills in on a phone. ``county`` fixes the places and categories."""

    town = forms.IntegerField(required=False)
    village = forms.IntegerField(error_messages={
        "required": _("请选择事情所在的村（社区）。"),
        "invalid": _("请选择事情所在的村（社区）。")})
    grid = forms.IntegerField(required=False)
    category = forms.ChoiceField(label=_("事情类别"), error_messages={
        "required": _("请选择事情的类别；拿不准可以选“其他”。"),
        "invalid_choice": _("请选择事情的类别；拿不准可以选“其他”。")})
    ledger = forms.ChoiceField(label=_("反映的是"), choices=Ledger.choices, error_messages={
        "required": _("请选择您反映的是意见建议、利益诉求还是投诉举报。"),
        "invalid_choice": _("请选择您反映的是意见建议、利益诉求还是投诉举报。")})
    urgency = forms.ChoiceField(label=_("紧急程度"), choices=Urgency.choices,
                                initial=Urgency.NORMAL, error_messages={
                                    "required": _("请选择紧急程度。"),
                                    "invalid_choice": _("请选择紧急程度。")})
    title = forms.CharField(label=_("一句话说明什么事"), max_length=120, error_messages={
        "required": _("请用一句话写明是什么事。"),
        "max_length": _("标题不能超过120个字，详细情况请写在下面。")})
    text = forms.CharField(label=_("详细情况"), max_length=5000, widget=forms.Textarea,
                           error_messages={
                               "required": _("请把事情说清楚：在哪里、什么情况、希望怎么解决。"),
                               "max_length": _("详细情况不能超过5000字。")})
    is_anonymous = forms.BooleanField(label=_("匿名反映"), required=False)
    name = forms.CharField(label=_("您的姓名"), max_length=60, required=False)
    phone = forms.CharField(label=_("手机号码"), max_length=20, required=False)
    same_as = forms.IntegerField(required=False)

    def __init__(self, county: Place, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.county = county
        self.fields["category"].choices = [("", _("请选择")), *category_choices(county.pk)]
        self.place: Place | None = None

    # The place: a village (or community) of this county, and optionally one of its grids.
    def villages(self):
        return Place.objects.filter(county=self.county, kind=PlaceKind.VILLAGE, is_active=True)

    def clean_village(self) -> Place:
        village = self.villages().filter(pk=self.cleaned_data["village"]).first()
        if village is None:
            raise forms.ValidationError(_("请选择事情所在的村（社区）。"))
        return village

    def clean_grid(self) -> Place | None:
        grid_id = self.cleaned_data.get("grid")
        if not grid_id:
            return None
        return Place.objects.filter(pk=grid_id, kind=PlaceKind.GRID, is_active=True,
                                    county=self.county).first()

    def clean_category(self) -> Category:
        return Category.objects.get(pk=int(self.cleaned_data["category"]))

    def clean_phone(self) -> str:
        phone = (self.cleaned_data.get("phone") or "").strip()
        if not phone:
            return ""
        try:
            return validate_phone(phone)
        except ActionError as exc:
            raise forms.ValidationError(_("手机号码格式不正确，请填写11位手机号。")) from exc

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        village, grid = data.get("village"), data.get("grid")
        if village is not None:
            if grid is not None and grid.village_id != village.pk:
                self.add_error("grid", _("所选网格不在这个村（社区）。"))
            self.place = grid if grid is not None and grid.village_id == village.pk else village
        self.clean_reporter(data)
        return data

    def clean_reporter(self, data: dict[str, Any]) -> None:
        if data.get("is_anonymous"):
            data["name"], data["phone"] = "", ""
            return
        if not (data.get("name") or "").strip():
            self.add_error("name", _(
                "请留下您的姓名，方便回复您；不想留名可以勾选“匿名反映”。"))
        if not data.get("phone") and "phone" not in self.errors:
            self.add_error("phone", _(
                "请留下手机号码，办理结果会告诉您；不想留可以勾选“匿名反映”。"))

    def channel(self, via: str) -> str:
        return Channel.WECHAT if via == "wechat" else Channel.WEB

    def same_as_matter(self) -> Matter | None:
        """The open matter the resident said is theirs too (a hint for staff; never a merge)."""
        same = self.cleaned_data.get("same_as")
        if not same or self.place is None:
            return None
        return (Matter.objects.open().filter(pk=same, county=self.county)
                .exclude(ledger=Ledger.COMPLAINT).first())


class StaffRaiseForm(RaiseForm):
    """代群众登记: the resident's form, plus channel, a registered person, the accused."""

    channel_choice = forms.ChoiceField(label=_("来源渠道"), choices=Channel.choices,
                                       error_messages={"required": _("请选择来源渠道。")})
    reporter_person = forms.IntegerField(required=False)
    place_is_household = forms.BooleanField(label=_("事项发生在反映人家中"), required=False)
    accused_organisation = forms.ModelChoiceField(Organisation.objects.none(), required=False,
                                                  label=_("被投诉单位"))
    accused_user = forms.ModelChoiceField(User.objects.none(), required=False,
                                          label=_("被投诉人"))
    merge_into = forms.IntegerField(required=False)

    def __init__(self, county: Place, user, *args, **kwargs) -> None:
        super().__init__(county, *args, **kwargs)
        self.user = user
        self.fields["accused_organisation"].queryset = Organisation.objects.filter(
            county=county, is_active=True).order_by("kind", "name")
        self.fields["accused_user"].queryset = User.objects.filter(
            county=county, is_active=True).order_by("username")
        self.fields["channel_choice"].initial = Channel.WALK_IN

    def villages(self):
        return raise_villages(self.user, self.county)

    def clean_reporter_person(self) -> Person | None:
        pid = self.cleaned_data.get("reporter_person")
        if not pid:
            return None
        person = (Person.objects.restrict(self.user, "view")
                  .filter(pk=pid, county=self.county).first())
        if person is None:
            raise forms.ValidationError(_("找不到所选的群众，请重新查找。"))
        return person

    def clean_reporter(self, data: dict[str, Any]) -> None:
        if data.get("is_anonymous"):
            data["name"], data["phone"], data["reporter_person"] = "", "", None
            return
        if not data.get("reporter_person") and not (data.get("name") or "").strip():
            self.add_error("name", _(
                "请选择已登记的群众，或填写反映人姓名；对方不愿留名请勾选“匿名反映”。"))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        person = data.get("reporter_person")
        if data.get("place_is_household"):
            if person is None or not person.household_id:
                self.add_error("place_is_household", _("所选群众没有登记所在户，请改选网格。"))
            else:
                self.place = Place.objects.get(pk=person.household_id)
        if self.place is not None and not has_permission(self.user, "matters.raise", self.place):
            self.add_error("village", _("您不能在这里登记事项，请选择您负责的村（社区）或网格。"))
        if data.get("ledger") != Ledger.COMPLAINT:
            data["accused_organisation"], data["accused_user"] = None, None
        return data

    def merge_target(self) -> Matter | None:
        """The open matter to merge into, if the user may merge here (else an error)."""
        target_id = self.cleaned_data.get("merge_into")
        if not target_id or self.place is None:
            return None
        if not has_permission(self.user, "matters.merge", self.place):
            raise ActionError(_("您没有合并事项的权限，请不要选择“并入已有事项”。"))
        target = Matter.objects.restrict(self.user, "view").open().filter(pk=target_id).first()
        if target is None:
            raise ActionError(_("要并入的事项不存在或已办结。"))
        return target


def raise_villages(user, county: Place):
    """Villages in ``county`` where the user may raise matters (at the village or a grid of it)."""
    qs = Place.objects.filter(county=county, kind=PlaceKind.VILLAGE, is_active=True)
    if user.is_superuser:
        return qs
    q = scope_q(user, "matters.raise")
    if q is None:
        return qs.none()
    ids = Place.objects.filter(q, county=county).exclude(village__isnull=True).values("village_id")
    return qs.filter(pk__in=ids)


class NoteForm(PlainErrors, forms.Form):
    text = forms.CharField(max_length=5000, error_messages={"required": _("请填写进展内容。")})
    is_public = forms.BooleanField(required=False)


class TransitionForm(PlainErrors, forms.Form):
    """One transition's inputs; only the fields it requires are shown, all are parsed."""

    transition = forms.CharField(max_length=40)
    comment = forms.CharField(required=False, max_length=5000)
    outcome = forms.ChoiceField(required=False, choices=[("", "—"), *Outcome.choices])
    outcome_text = forms.CharField(required=False, max_length=5000)
    explanation = forms.CharField(required=False, max_length=5000)
    handling_mode = forms.ChoiceField(required=False, choices=[("", "—"), *HandlingMode.choices])
    responsible_user = forms.ModelChoiceField(User.objects.none(), required=False)
    responsible_org = forms.ModelChoiceField(Organisation.objects.none(), required=False)
    due_at = forms.DateTimeField(required=False, input_formats=["%Y-%m-%dT%H:%M",
                                                                "%Y-%m-%d %H:%M", "%Y-%m-%d"],
                                 error_messages={"invalid": _("期限的日期格式不正确。")})
    category = forms.ModelChoiceField(Category.objects.none(), required=False)

    def __init__(self, matter: Matter, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.matter = matter
        self.fields["responsible_org"].queryset = Organisation.objects.filter(
            county_id=matter.county_id, is_active=True)
        self.fields["responsible_user"].queryset = User.objects.filter(
            county_id=matter.county_id, is_active=True)
        self.fields["category"].queryset = Category.objects.filter(
            county_id=matter.county_id, is_active=True)

    def clean_due_at(self):
        due = self.cleaned_data.get("due_at")
        if due is not None and timezone.is_naive(due):
            due = timezone.make_aware(due)
        return due

    def engine_fields(self) -> dict[str, Any]:
        names = ("outcome", "outcome_text", "explanation", "handling_mode", "responsible_user",
                 "responsible_org", "due_at", "category")
        return {n: self.cleaned_data.get(n) for n in names
                if self.cleaned_data.get(n) not in (None, "")}


class BulkAssignForm(PlainErrors, forms.Form):
    mode = forms.ChoiceField(choices=HandlingMode.choices, error_messages={
        "required": _("请选择办理方式：自办、代办或联办。"),
        "invalid_choice": _("请选择办理方式：自办、代办或联办。")})
    responsible_org = forms.ModelChoiceField(Organisation.objects.none(), required=False)
    responsible_user = forms.ModelChoiceField(User.objects.none(), required=False)
    due_at = forms.DateTimeField(required=False, input_formats=["%Y-%m-%dT%H:%M",
                                                                "%Y-%m-%d %H:%M", "%Y-%m-%d"],
                                 error_messages={"invalid": _("期限的日期格式不正确。")})
    instructions = forms.CharField(required=False, max_length=2000)

    def __init__(self, county_ids: set[int], *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["responsible_org"].queryset = Organisation.objects.filter(
            county_id__in=county_ids, is_active=True)
        self.fields["responsible_user"].queryset = User.objects.filter(
            county_id__in=county_ids, is_active=True)

    def clean_due_at(self):
        due = self.cleaned_data.get("due_at")
        if due is not None and timezone.is_naive(due):
            due = timezone.make_aware(due)
        return due
