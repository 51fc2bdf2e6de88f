from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PointsConfig(AppConfig):
    name = "gongzhi.points"
    label = "points"
    verbose_name = _("积分")

    def ready(self) -> None:
        from gongzhi.core.registry import register_permission
        from gongzhi.core.scheduling import register_periodic
        from gongzhi.core.ui import register_nav, register_panel

        from . import panels
        from .permissions import PERMISSIONS
        from .tasks import finalise_rankings_task

        for code, label, roles in PERMISSIONS:
            register_permission(code, label, roles)
        register_nav(_("积分"), "points:index", "points.view", order=70)
        register_nav(_("积分超市"), "points:shops", "points.shop", order=72)
        register_panel("points/panels/home.html", permission="points.view",
                       context=panels.home_panel, order=70)
        # Published rankings whose notice period is over (objections answered) become final:
        # hourly with `gongzhi scheduler`, or by hand (`gongzhi points finalise`).
        register_periodic(finalise_rankings_task, minutes=60)
