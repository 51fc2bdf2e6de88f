from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VisitsConfig(AppConfig):
    name = "gongzhi.visits"
    label = "visits"
    verbose_name = _("入户走访")

    def ready(self) -> None:
        from gongzhi.core import ui
        from gongzhi.core.registry import register_permission
        from gongzhi.matters import panels as matter_panels

        from . import figures, panels
        from .permissions import PERMISSIONS

        for code, label, roles in PERMISSIONS:
            register_permission(code, label, roles)
        figures.register()
        # The matter page says where a matter raised on a visit came from.
        matter_panels.register_panel("visits", "visits/panels/matter.html", panels.matter_panel,
                                     order=15)
        # The workbench: my visits this week against my quota.
        ui.register_panel("visits/panels/home.html", permission="visits.record",
                          context=panels.home_panel, order=30)
        ui.register_nav(_("入户走访"), "visits:index", "visits.view", order=30)
