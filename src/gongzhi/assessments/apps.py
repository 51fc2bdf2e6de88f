from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssessmentsConfig(AppConfig):
    name = "gongzhi.assessments"
    label = "assessments"
    verbose_name = _("考核")

    def ready(self) -> None:
        from gongzhi.core.registry import register_permission
        from gongzhi.core.ui import register_nav, register_panel

        from . import panels
        from .permissions import PERMISSIONS

        for code, label, roles in PERMISSIONS:
            register_permission(code, label, roles)
        register_nav(_("考核"), "assessments:index", "assessments.view", order=80)
        # A cadre's or a department's own result sheets, on the workbench.
        register_panel("assessments/panels/home.html", context=panels.home_panel, order=80)
