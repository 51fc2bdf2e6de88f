from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MeetingsConfig(AppConfig):
    name = "gongzhi.meetings"
    label = "meetings"
    verbose_name = _("议事")

    def ready(self) -> None:
        from gongzhi.core.registry import register_permission
        from gongzhi.core.scheduling import register_periodic
        from gongzhi.core.ui import register_nav
        from gongzhi.matters.panels import register_panel

        from . import panels
        from .disclosure import register_public_affairs
        from .permissions import PERMISSIONS
        from .scheduling import meetings_schedule_task

        for code, label, roles in PERMISSIONS:
            register_permission(code, label, roles)
        register_nav(_("议事会议"), "meetings:list", "meetings.view", order=40)
        register_nav(_("议题征集"), "meetings:topics", "meetings.second", order=41)
        register_panel("meetings", "meetings/panels/matter.html", panels.matter_panel, order=40)
        register_periodic(meetings_schedule_task, minutes=60)
        register_public_affairs()  # 四议两公开, 三务公开: nav entries and reminders
