from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HandlingConfig(AppConfig):
    name = "gongzhi.handling"
    label = "handling"
    verbose_name = _("办理与吹哨报到")

    def ready(self) -> None:
        from gongzhi.core.registry import register_permission
        from gongzhi.core.ui import register_nav
        from gongzhi.matters.panels import register_panel

        from .panels import handling_panel_context
        from .permissions import PERMISSIONS

        for code, label, roles in PERMISSIONS:
            register_permission(code, label, roles)
        register_panel("handling", "handling/panels/handling.html", handling_panel_context,
                       order=30)
        register_nav(_("待报到"), "handling:summonses", "handling.check_in", order=40)
        register_nav(_("吹哨报到统计"), "handling:stats", "handling.view_stats", order=45)
