from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "gongzhi.notifications"
    label = "notifications"
    verbose_name = _("通知")

    def ready(self) -> None:
        from gongzhi.core import ui
        from gongzhi.core.registry import register_permission
        from gongzhi.core.scheduling import register_periodic
        from gongzhi.matters import workflow

        from . import hooks
        from .outbox import deliver_outbox
        from .permissions import PERMISSIONS

        for code, label, roles in PERMISSIONS:
            register_permission(code, label, roles)
        # The reporter hears when their matter is accepted and when it has a result.
        workflow.register_on_transition(hooks.on_transition)
        # A sweep besides the runs each message schedules for itself.
        register_periodic(deliver_outbox, minutes=5)
        ui.register_nav(_("消息发送"), "notifications:outbox", "notifications.view_outbox",
                        order=95)
