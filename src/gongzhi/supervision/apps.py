from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupervisionConfig(AppConfig):
    name = "gongzhi.supervision"
    label = "supervision"
    verbose_name = _("督办")

    def ready(self) -> None:
        from gongzhi.core.registry import register_permission
        from gongzhi.core.scheduling import register_periodic
        from gongzhi.core.ui import register_nav
        from gongzhi.matters import workflow
        from gongzhi.matters.panels import register_panel

        from . import actions, panels
        from .permissions import PERMISSIONS, SUPERVISE
        from .tasks import scan_deadlines_task

        for code, label, roles in PERMISSIONS:
            register_permission(code, label, roles)
        workflow.register_on_transition(actions.mark_stage_left)
        workflow.register_on_enter("closed", actions.close_items_of_closed_matter)
        workflow.register_on_enter("supervision", actions.open_stage_item)
        register_panel("supervision", "supervision/panels/matter.html", panels.matter_panel,
                       order=60)
        register_nav(_("督办"), "supervision:items", SUPERVISE, order=40)
        register_periodic(scan_deadlines_task, minutes=10)
