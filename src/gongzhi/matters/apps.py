from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MattersConfig(AppConfig):
    name = "gongzhi.matters"
    label = "matters"
    verbose_name = _("事项")

    def ready(self) -> None:
        from gongzhi.core.registry import register_permission

        from .permissions import PERMISSIONS

        for code, label, roles in PERMISSIONS:
            register_permission(code, label, roles)
