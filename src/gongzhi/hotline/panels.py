"""The 12345 panel on a matter's page: the hotline's order, its deadline, 催办 and 回访, and
the 退单 form for those who may use it."""

from __future__ import annotations

from gongzhi.core.access import has_permission

from .models import HotlineOrder, OrderStatus


def matter_panel(request, matter) -> dict | None:
    order = HotlineOrder.objects.filter(matter=matter).first()
    if order is None:
        return None
    may_return = (order.status == OrderStatus.OPEN and not matter.is_closed
                  and has_permission(request.user, "hotline.dispute", matter.place))
    return {"hotline_order": order, "hotline_may_return": may_return}
