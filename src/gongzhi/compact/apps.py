from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CompactConfig(AppConfig):
    name = "gongzhi.compact"
    label = "compact"
    verbose_name = _("村规民约与群众组织")

    def ready(self) -> None:
        from gongzhi.core.registry import register_permission
        from gongzhi.core.ui import register_nav
        from gongzhi.meetings import hooks

        from . import actions
        from .permissions import PERMISSIONS

        for code, label, roles in PERMISSIONS:
            register_permission(code, label, roles)
        # An amendment is decided by its topic's vote and adopted by its resolution.
        hooks.register_decision_hook(actions.on_decision)
        # An association's meetings invite its members.
        hooks.register_invitee_source(actions.association_invitees)
        register_nav(_("村规民约与群众组织"), "compact:index", "compact.view", order=46)
