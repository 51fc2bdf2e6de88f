from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DashboardsConfig(AppConfig):
    name = "gongzhi.dashboards"
    label = "dashboards"
    verbose_name = _("数据看板")

    def ready(self) -> None:
        from gongzhi.core import ui
        from gongzhi.core.registry import register_permission

        from .permissions import PERMISSIONS

        for code, label, roles in PERMISSIONS:
            register_permission(code, label, roles)
        ui.register_nav(_("数据看板"), "dashboards:index", "dashboards.view", order=40)
