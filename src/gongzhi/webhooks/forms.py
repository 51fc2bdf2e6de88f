from django import forms
from django.utils.translation import gettext_lazy as _

from .models import EventType


class SubscriptionForm(forms.Form):
    url = forms.CharField(label=_("接收地址"), max_length=500,
                          widget=forms.URLInput(attrs={"placeholder": "https://"}))
    event_types = forms.MultipleChoiceField(label=_("事件类型"), choices=EventType.choices,
                                            widget=forms.CheckboxSelectMultiple)
    description = forms.CharField(label=_("说明"), max_length=200, required=False)
    is_active = forms.BooleanField(label=_("启用"), required=False, initial=True)
