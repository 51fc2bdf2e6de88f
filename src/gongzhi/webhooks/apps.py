from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    name = "gongzhi.webhooks"
    label = "webhooks"
    verbose_name = _("事件推送")

    def ready(self) -> None:
        from gongzhi.audit import log
        from gongzhi.core import ui
        from gongzhi.core.registry import register_permission
        from gongzhi.core.scheduling import register_periodic

        from .actions import on_audit_event
        from .delivery import deliver_webhooks
        from .permissions import PERMISSIONS

        for code, label, roles in PERMISSIONS:
            register_permission(code, label, roles)
        log.add_listener(on_audit_event)
        register_periodic(deliver_webhooks, minutes=5)
        ui.register_nav(_("事件推送"), "webhooks:index", "webhooks.view", order=96)
