from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HandlingConfig(AppConfig):
    name = "gongzhi.handling"
    label = "handling"
    verbose_name = _("办理与吹哨报到")
