from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FiguresConfig(AppConfig):
    name = "gongzhi.figures"
    label = "figures"
    verbose_name = _("统计指标")

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from gongzhi.matters.models import Matter

        from . import clock, sets

        # Every path that moves a matter's stage or deadline saves the matter: the engine's
        # transitions, raising, merging, assignment with a due date, escalation.
        post_save.connect(clock.on_matter_saved, sender=Matter,
                          dispatch_uid="figures.clock.on_matter_saved")
        sets.register_builtin()
