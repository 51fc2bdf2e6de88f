from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VolunteersConfig(AppConfig):
    name = "gongzhi.volunteers"
    label = "volunteers"
    verbose_name = _("志愿服务")

    def ready(self) -> None:
        from gongzhi.core import ui
        from gongzhi.core.registry import register_permission

        from . import figures
        from .permissions import PERMISSIONS

        for code, label, roles in PERMISSIONS:
            register_permission(code, label, roles)
        figures.register()
        ui.register_nav(_("志愿服务"), "volunteers:index", "volunteers.take_part", order=74)
        ui.register_nav(_("志愿服务工作台"), "volunteers:workbench", "volunteers.manage",
                        order=75)
