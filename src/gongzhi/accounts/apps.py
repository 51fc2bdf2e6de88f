from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "gongzhi.accounts"
    label = "accounts"
    verbose_name = _("账号与权限")

    def ready(self) -> None:
        from gongzhi.core.registry import register_permission

        from .roles import FOUNDATION_PERMISSIONS

        for code, label, roles in FOUNDATION_PERMISSIONS:
            register_permission(code, label, roles)
