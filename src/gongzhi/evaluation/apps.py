from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EvaluationConfig(AppConfig):
    name = "gongzhi.evaluation"
    label = "evaluation"
    verbose_name = _("评价")

    def ready(self) -> None:
        from gongzhi.core.registry import register_permission
        from gongzhi.matters import workflow
        from gongzhi.matters.panels import register_panel
        from gongzhi.supervision.scan import register_scan_step

        from . import actions, panels
        from .permissions import PERMISSIONS

        for code, label, roles in PERMISSIONS:
            register_permission(code, label, roles)
        workflow.register_on_enter("evaluation", actions.on_enter_evaluation)
        workflow.register_on_transition(actions.cancel_stale_requests)
        register_panel("evaluation", "evaluation/panels/matter.html", panels.matter_panel,
                       order=70)
        # Runs with every deadline scan (the scheduler and `gongzhi supervise scan`).
        register_scan_step("evaluations", actions.expire_evaluations)
