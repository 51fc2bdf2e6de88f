"""The board panel on the matter page: whether the matter is on the public board, and for
holders of ``matters.publish`` the buttons to publish it or take it off."""

from __future__ import annotations

from django.urls import reverse

from gongzhi.core.access import has_permission

from .models import Withdrawal


def matter_panel(request, matter) -> dict | None:
    can_publish = has_permission(request.user, "matters.publish", matter.place)
    if not matter.is_public and not can_publish:
        return None
    board_place_id = matter.village_id or matter.town_id or matter.county_id
    return {
        "board_can_publish": can_publish and not matter.merged_into_id,
        "board_url": reverse("board:matter", args=[board_place_id, matter.pk])
        if matter.is_public else "",
        "board_withdrawals": list(Withdrawal.objects.filter(matter=matter)[:5]),
        "board_publish_url": reverse("board:matter_publish", args=[matter.pk]),
    }
