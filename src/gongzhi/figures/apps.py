from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FiguresConfig(AppConfig):
    name = "gongzhi.figures"
    label = "figures"
    verbose_name = _("统计指标")

    def ready(self) -> None:
        from django.db.models.signals import post_save, pre_save

        from gongzhi.evaluation.models import Evaluation, EvaluationRequest, ReturnVisit
        from gongzhi.matters.models import Matter

        from . import clock, rollups, sets

        # Every path that moves a matter's stage or deadline saves the matter: the engine's
        # transitions, raising, merging, assignment with a due date, escalation.
        post_save.connect(clock.on_matter_saved, sender=Matter,
                          dispatch_uid="figures.clock.on_matter_saved")
        # The rollups follow the matter after its clock (the clock is part of what they count),
        # and every request to rate, rating and return visit (docs/adr/0006-figure-rollups.md).
        pre_save.connect(rollups.on_matter_pre_save, sender=Matter,
                         dispatch_uid="figures.rollups.matter_pre")
        post_save.connect(rollups.on_matter_post_save, sender=Matter,
                          dispatch_uid="figures.rollups.matter_post")
        for model in (EvaluationRequest, Evaluation, ReturnVisit):
            pre_save.connect(rollups.on_voice_pre_save, sender=model,
                             dispatch_uid=f"figures.rollups.{model.__name__}_pre")
            post_save.connect(rollups.on_voice_post_save, sender=model,
                              dispatch_uid=f"figures.rollups.{model.__name__}_post")
        sets.register_builtin()
