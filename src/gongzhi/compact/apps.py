from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CompactConfig(AppConfig):
    name = "gongzhi.compact"
    label = "compact"
    verbose_name = _("村规民约与群众组织")
