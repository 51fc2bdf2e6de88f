from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HotlineConfig(AppConfig):
    name = "gongzhi.hotline"
    label = "hotline"
    verbose_name = _("12345热线对接")

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from gongzhi.core import ui
        from gongzhi.core.registry import register_permission
        from gongzhi.core.scheduling import register_periodic
        from gongzhi.evaluation.models import ReturnVisit
        from gongzhi.matters import workflow
        from gongzhi.matters.panels import register_panel

        from . import actions, panels
        from .delivery import deliver_hotline_outbox
        from .permissions import PERMISSIONS

        for code, label, roles in PERMISSIONS:
            register_permission(code, label, roles)
        # 签收 and 办结反馈 follow the matter's transitions; 回访 follows the return visit.
        workflow.register_on_transition(actions.on_transition)
        post_save.connect(actions.on_return_visit, sender=ReturnVisit,
                          dispatch_uid="hotline.return_visit")
        register_panel("hotline", "hotline/panels/matter.html", panels.matter_panel, order=12)
        # Retries with backoff: due messages are picked up every minute.
        register_periodic(deliver_hotline_outbox, minutes=1)
        ui.register_nav(_("12345热线"), "hotline:index", "hotline.view_log", order=85)
