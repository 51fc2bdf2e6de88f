from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "gongzhi.core"
    label = "core"
    verbose_name = _("基础")

    def ready(self) -> None:
        from .registry import register_permission

        register_permission("calendar.change", _("调整工作日历"), ("administrator",))
