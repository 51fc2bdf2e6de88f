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

        from gongzhi.core.ui import register_nav

        register_nav(_("流程设置"), "matters_admin:index", "workflows.change", order=90)
        # The matter pages: my tasks, every matter, the secretary's three ledgers. Raising on a
        # resident's behalf is a button on these pages and on the workbench home's panel.
        register_nav(_("我的待办"), "matters:workbench", "matters.handle", order=20)
        register_nav(_("全部事项"), "matters:list", "matters.view", order=22)
        register_nav(_("三本账"), "matters:ledgers", "matters.assign", order=24)
        from gongzhi.core.ui import register_panel

        from .queries import workbench_summary

        # The workbench home: how many matters wait for me.
        register_panel("matters/panels/home_tasks.html", permission="matters.handle",
                       context=workbench_summary, order=10)
