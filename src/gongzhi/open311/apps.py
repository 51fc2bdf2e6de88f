from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class Open311Config(AppConfig):
    name = "gongzhi.open311"
    label = "open311"
    verbose_name = _("Open311 GeoReport v2")

    def ready(self) -> None:
        from gongzhi.core import ui
        from gongzhi.core.registry import register_permission

        from .permissions import PERMISSIONS

        for code, label, roles in PERMISSIONS:
            register_permission(code, label, roles)
        ui.register_nav(_("Open311 接口"), "open311:settings", "open311.configure", order=85)
