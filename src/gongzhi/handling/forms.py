"""Parsing what the handling forms post. Choices are limited to the matter's county; the
actions check everything again (a form is a convenience, not the guard)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from gongzhi.accounts.models import User
from gongzhi.matters.models import HandlingMode, Matter, Outcome
from gongzhi.places.models import Organisation

from .models import MediationMethod, MediationOutcome, MediationWay


class MatterForm(forms.Form):
    """A form about one matter: organisation and user choices come from its county."""

    def __init__(self, matter: Matter, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.matter = matter
        orgs = Organisation.objects.filter(county_id=matter.county_id, is_active=True)
        for field in self.fields.values():
            queryset = getattr(field, "queryset", None)
            if queryset is not None and queryset.model is Organisation:
                field.queryset = orgs
            elif queryset is not None and queryset.model is User:
                field.queryset = User.objects.filter(is_active=True)

    def error_text(self) -> str:
        return " ".join(str(e) for errors in self.errors.values() for e in errors)


class AssignForm(MatterForm):
    mode = forms.ChoiceField(label=_("办理方式"), choices=HandlingMode.choices,
                             error_messages={"required": _("请选择办理方式：自办、代办或联办。")})
    responsible_org = forms.ModelChoiceField(Organisation.objects.none(), required=False,
                                             label=_("责任单位"))
    responsible_user = forms.ModelChoiceField(User.objects.none(), required=False,
                                              label=_("责任人"))
    co_orgs = forms.ModelMultipleChoiceField(Organisation.objects.none(), required=False,
                                             label=_("联办单位"))
    due_at = forms.DateTimeField(required=False, label=_("办理期限"))
    instructions = forms.CharField(required=False, label=_("交办意见"))


class SummonForm(MatterForm):
    organisations = forms.ModelMultipleChoiceField(
        Organisation.objects.none(), label=_("召集单位"),
        error_messages={"required": _("请选择要召集的单位。")})
    reason = forms.CharField(required=False, label=_("吹哨事由"))
    urgent = forms.BooleanField(required=False, label=_("紧急"))


class EscalateForm(MatterForm):
    reason = forms.CharField(required=False, label=_("理由"))


class TransferForm(MatterForm):
    organisation = forms.ModelChoiceField(Organisation.objects.none(), label=_("接收单位"),
                                          error_messages={"required": _("请选择接收单位。")})
    reason = forms.CharField(required=False, label=_("理由"))


class MediationForm(MatterForm):
    way = forms.ChoiceField(label=_("评理方式"), choices=MediationWay.choices,
                            error_messages={"required": _("请选择评理方式。")})
    method = forms.ChoiceField(label=_("处置方式"), required=False,
                               choices=[("", "—"), *MediationMethod.choices])
    consent = forms.BooleanField(required=False, label=_("双方同意调解"))
    facts = forms.CharField(required=False, label=_("基本事实"))
    responsibilities = forms.CharField(required=False, label=_("责任认定"))
    work_record = forms.CharField(required=False, label=_("调解过程记录"))
    signed_at = forms.DateField(required=False, label=_("签字日期"))
    outcome = forms.ChoiceField(label=_("结果"), required=False,
                                choices=[("", "—"), *MediationOutcome.choices])
    outcome_reason = forms.CharField(required=False, label=_("说明"))
    transfer_to = forms.ModelChoiceField(Organisation.objects.none(), required=False,
                                         label=_("移交单位"))

    def parties(self) -> list[dict[str, str]]:
        names = self.data.getlist("party_name")
        contacts = self.data.getlist("party_contact")
        contacts += [""] * (len(names) - len(contacts))
        return [{"name": n, "contact": c} for n, c in zip(names, contacts, strict=False)
                if n.strip()]

    def terms(self) -> list[dict[str, str]]:
        whats = self.data.getlist("term_what")
        whos = self.data.getlist("term_who")
        bys = self.data.getlist("term_by")
        size = max(len(whats), len(whos), len(bys), 0)
        rows = []
        for i in range(size):
            row = {"what": whats[i] if i < len(whats) else "",
                   "who": whos[i] if i < len(whos) else "",
                   "by": bys[i] if i < len(bys) else ""}
            if any(v.strip() for v in row.values()):
                rows.append(row)
        return rows


class ResultForm(forms.Form):
    transition = forms.CharField(label=_("流转"))
    outcome = forms.ChoiceField(label=_("办理结果"), choices=Outcome.choices,
                                error_messages={"required": _("请选择办理结果。")})
    outcome_text = forms.CharField(required=False, label=_("办理情况"))
    explanation = forms.CharField(required=False, label=_("向群众的解释"))
    comment = forms.CharField(required=False, label=_("意见"))

    def error_text(self) -> str:
        return " ".join(str(e) for errors in self.errors.values() for e in errors)


class CheckInForm(forms.Form):
    note = forms.CharField(required=False, label=_("报到说明"))


class SummonsActionForm(forms.Form):
    action_taken = forms.CharField(required=False, label=_("处置情况"))
    done = forms.BooleanField(required=False, label=_("处置完毕"))
