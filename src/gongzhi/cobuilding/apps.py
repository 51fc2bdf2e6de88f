from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CobuildingConfig(AppConfig):
    name = "gongzhi.cobuilding"
    label = "cobuilding"
    verbose_name = _("共驻共建")

    def ready(self) -> None:
        from gongzhi.core.registry import register_permission
        from gongzhi.core.ui import register_nav

        from . import figures
        from .permissions import PERMISSIONS

        for code, label, roles in PERMISSIONS:
            register_permission(code, label, roles)
        figures.register()
        register_nav(_("共驻共建"), "cobuilding:index", "cobuilding.view", order=47)
