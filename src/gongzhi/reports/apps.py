from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "gongzhi.reports"
    label = "reports"
    verbose_name = _("台账与报表")

    def ready(self) -> None:
        from gongzhi.core import ui
        from gongzhi.core.registry import register_permission
        from gongzhi.core.scheduling import register_periodic

        from . import kinds
        from .permissions import PERMISSIONS
        from .tasks import expire_exports_task

        for code, label, roles in PERMISSIONS:
            register_permission(code, label, roles)
        kinds.register_builtin()
        register_periodic(expire_exports_task, minutes=60)
        ui.register_nav(_("报表"), "reports:index", "reports.export", order=80)
