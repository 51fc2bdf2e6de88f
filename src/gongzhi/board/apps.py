from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BoardConfig(AppConfig):
    name = "gongzhi.board"
    label = "board"
    verbose_name = _("公示")

    def ready(self) -> None:
        from gongzhi.core.registry import register_permission
        from gongzhi.core.ui import register_nav
        from gongzhi.matters import workflow
        from gongzhi.matters.panels import register_panel

        from . import actions, panels
        from .permissions import PERMISSIONS

        for code, label, roles in PERMISSIONS:
            register_permission(code, label, roles)
        # 晒: a stage of kind disclosure publishes; closing publishes where the policy says so.
        workflow.register_on_enter("disclosure", actions.on_enter_disclosure)
        workflow.register_on_enter("closed", actions.on_enter_closed)
        register_panel("board", "board/panels/matter.html", panels.matter_panel, order=90)
        register_nav(_("红黑榜"), "board:manage_lists", "board.view", order=60)
        register_nav(_("公示栏"), "board:index", None, order=65)
