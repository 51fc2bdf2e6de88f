from django import forms
from django.utils.translation import gettext_lazy as _

from .models import LANGUAGE_CHOICES


class PreferenceForm(forms.Form):
    language = forms.ChoiceField(label=_("消息语言"), choices=LANGUAGE_CHOICES)
    quiet_start = forms.TimeField(label=_("免打扰开始"), widget=forms.TimeInput(
        attrs={"type": "time"}, format="%H:%M"))
    quiet_end = forms.TimeField(label=_("免打扰结束"), widget=forms.TimeInput(
        attrs={"type": "time"}, format="%H:%M"),
        help_text=_("这段时间内不发短信和微信，紧急事项除外。开始与结束相同表示不设免打扰。"))
    opt_out_sms = forms.BooleanField(label=_("不接收短信"), required=False)
    opt_out_wechat = forms.BooleanField(label=_("不接收微信消息"), required=False)
    opt_out_email = forms.BooleanField(label=_("不接收电子邮件"), required=False)
    opt_out_all = forms.BooleanField(label=_("不接收任何消息"), required=False)

    @classmethod
    def initial_for(cls, pref) -> dict:
        if pref is None:
            return {"language": "zh-hans", "quiet_start": "22:00", "quiet_end": "08:00"}
        return {name: getattr(pref, name) for name in cls.base_fields}
