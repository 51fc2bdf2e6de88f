"""The supervision panel on the matter page: items, their records, and (for supervisors) a way
to put the matter under supervision."""

from __future__ import annotations

from django.utils import timezone

from gongzhi.core.access import has_permission

from .models import ItemStatus, SupervisionItem, SupervisionRecord


def matter_panel(request, matter) -> dict | None:
    user = request.user
    items = list(SupervisionItem.objects.restrict(user, "view").filter(matter=matter)
                 .order_by("opened_at", "id"))
    can_supervise = has_permission(user, "matters.supervise", matter.place)
    if not items and not can_supervise:
        return None
    records = SupervisionRecord.objects.filter(item__in=items).select_related(
        "by", "talked_to_user").order_by("at", "id")
    by_item: dict[int, list] = {}
    for rec in records:
        by_item.setdefault(rec.item_id, []).append(rec)
    rows = [{"item": i, "records": by_item.get(i.pk, []),
             "level_label": i.level_label if i.level_role else ""}
            for i in items]
    return {
        "supervision_rows": rows,
        "supervision_can_open": can_supervise and not matter.is_closed and not any(
            i.status == ItemStatus.OPEN and not i.automatic for i in items),
        "supervision_can_supervise": can_supervise,
        "supervision_overdue": matter.is_overdue(timezone.now()),
    }
