"""The board's section of co-building projects and the village compact (``board/place.html``)."""

from django import template

register = template.Library()


@register.inclusion_tag("cobuilding/partials/board_section.html")
def cobuilding_board(place):
    from gongzhi.compact.models import Compact

    from ..views import public_projects_of

    return {"place": place, "projects": list(public_projects_of(place)[:6]),
            "has_compact": place.kind == "village"
            and Compact.objects.filter(village_id=place.pk).exists()}
