"""The figures of a bulletin (通报): overdue matters by unit over one period.

A stage visit is *overdue* from its deadline until the matter leaves the stage. It belongs to a
period when that interval overlaps the period. Its unit is the organisation responsible for the
matter, or else the place whose queue it waits in (the village, town or county), as the scan
last saw them. The figures come from the scan's :class:`~.models.DeadlineWatch` rows, and from
matters that are overdue right now even if no scan has run since.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.matters.models import Matter
from gongzhi.matters.workflow import workflow_of
from gongzhi.places.models import Place

from .models import DeadlineWatch, PeriodKind, RecordKind, SupervisionItem, SupervisionRecord

PASSIVE_KINDS = ("evaluation", "disclosure", "closed")


def period_bounds(kind: str, day: dt.date) -> tuple[dt.date, dt.date]:
    """[start, end) of the week (Monday first), month or quarter containing ``day``."""
    if kind == PeriodKind.WEEK:
        start = day - dt.timedelta(days=day.weekday())
        return start, start + dt.timedelta(days=7)
    if kind == PeriodKind.MONTH:
        start = day.replace(day=1)
    else:
        start = dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    months = 1 if kind == PeriodKind.MONTH else 3
    month = start.month - 1 + months
    return start, dt.date(start.year + month // 12, month % 12 + 1, 1)


def period_label(kind: str, start: dt.date, end: dt.date) -> str:
    if kind == PeriodKind.WEEK:
        year, week, _weekday = start.isocalendar()
        last = end - dt.timedelta(days=1)
        return _("%(y)d年第%(w)d周（%(m1)d月%(d1)d日至%(m2)d月%(d2)d日）") % {
            "y": year, "w": week, "m1": start.month, "d1": start.day, "m2": last.month,
            "d2": last.day}
    if kind == PeriodKind.MONTH:
        return _("%(y)d年%(m)d月") % {"y": start.year, "m": start.month}
    return _("%(y)d年第%(q)d季度") % {"y": start.year, "q": (start.month - 1) // 3 + 1}


def title(place: Place, kind: str, start: dt.date, end: dt.date) -> str:
    return _("%(place)s%(period)s督办通报") % {"place": place.name,
                                              "period": period_label(kind, start, end)}


def _aware(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min),
                               timezone.get_current_timezone())


def _unit(org, place) -> tuple[str, str, str]:
    if org is not None:
        return f"org:{org.pk}", org.name, "organisation"
    return f"place:{place.pk}", place.name, "place"


def _entry_for(item: SupervisionItem, keys: list[tuple] | None) -> tuple | None:
    """The overdue entry an item belongs to: the one of its deadline, else the last deadline of
    its stage visit that had passed when it was opened."""
    if not keys:
        return None
    for key in keys:
        if key[3] == item.deadline:
            return key
    passed = [k for k in keys if k[3] <= item.opened_at]
    return max(passed, key=lambda k: k[3]) if passed else min(keys, key=lambda k: k[3])


def figures(place: Place, start: dt.date, end: dt.date, *, now: dt.datetime) -> dict[str, Any]:
    """Overdue stage visits under ``place`` overlapping [start, end), grouped by unit."""
    start_at, end_at = _aware(start), _aware(end)
    horizon = min(end_at, now)
    scope = place.scope_q("matter__")
    visits: dict[tuple, dict[str, Any]] = {}

    watches = (DeadlineWatch.objects.filter(scope, deadline__lt=horizon)
               .exclude(left_at__isnull=False, left_at__lte=start_at)
               .select_related("matter", "responsible_org", "queue_place"))
    for w in watches:
        left = w.left(w.matter)
        until = min(left, horizon) if left else horizon
        if w.deadline >= until or until <= start_at:
            continue  # left the stage in time, or before the period began
        visits[(w.matter_id, w.stage, w.stage_entered_at, w.deadline)] = {
            "matter": w.matter, "stage": w.stage, "stage_name": w.stage_name,
            "stage_entered_at": w.stage_entered_at, "deadline": w.deadline, "left": left,
            "until": until, "unit": _unit(w.responsible_org, w.queue_place),
        }
    current = (Matter.objects.open().filter(place.scope_q(), stage_deadline__lt=horizon)
               .exclude(stage_kind__in=PASSIVE_KINDS)
               .select_related("responsible_org", "queue_place", "workflow"))
    current = list(current)
    watched = set(DeadlineWatch.objects.filter(matter__in=[m.pk for m in current]).values_list(
        "matter_id", "stage", "stage_entered_at", "deadline"))
    for m in current:
        key = (m.pk, m.stage, m.stage_entered_at, m.stage_deadline)
        if key in visits or key in watched:
            continue  # counted above, or watched and found not overdue in the period
        try:
            stage_name = workflow_of(m.workflow).stage(m.stage).get("name", m.stage)
        except KeyError:
            stage_name = m.stage
        visits[key] = {
            "matter": m, "stage": m.stage, "stage_name": stage_name,
            "stage_entered_at": m.stage_entered_at, "deadline": m.stage_deadline, "left": None,
            "until": horizon, "unit": _unit(m.responsible_org, m.queue_place),
        }

    matter_ids = {k[0] for k in visits}
    by_visit: dict[tuple, list[tuple]] = defaultdict(list)
    for key in visits:
        by_visit[key[:3]].append(key)
    levels: dict[tuple, int] = {}
    item_entry: dict[int, tuple] = {}
    opened_in_period: set[int] = set()
    for item in SupervisionItem.objects.filter(matter_id__in=matter_ids).only(
        "id", "matter_id", "stage", "stage_entered_at", "level", "opened_at", "deadline",
    ):
        key = _entry_for(item, by_visit.get((item.matter_id, item.stage, item.stage_entered_at)))
        if key is None:
            continue
        item_entry[item.pk] = key
        levels[key] = max(levels.get(key, -1), item.level)
        if start_at <= item.opened_at < end_at:
            opened_in_period.add(item.pk)
    talks_by_visit: dict[tuple, int] = defaultdict(int)
    for item_id in SupervisionRecord.objects.filter(
        item_id__in=list(item_entry), kind=RecordKind.TALK, at__gte=start_at, at__lt=end_at,
    ).values_list("item_id", flat=True):
        talks_by_visit[item_entry[item_id]] += 1
    supervised_by_visit: dict[tuple, int] = defaultdict(int)
    for item_id in opened_in_period:
        supervised_by_visit[item_entry[item_id]] += 1

    units: dict[str, dict[str, Any]] = {}
    for key, v in sorted(visits.items(), key=lambda kv: (kv[1]["deadline"], kv[0][0])):
        unit_key, name, kind = v["unit"]
        unit = units.setdefault(unit_key, {
            "key": unit_key, "name": name, "kind": kind, "matters": [], "_ids": set(),
            "_new": set(), "_still": set(), "supervised": 0, "talks": 0,
        })
        m = v["matter"]
        still = v["left"] is None or v["left"] >= end_at
        new = start_at <= v["deadline"] < end_at
        unit["_ids"].add(m.pk)
        if new:
            unit["_new"].add(m.pk)
        if still:
            unit["_still"].add(m.pk)
        unit["supervised"] += supervised_by_visit[key]
        unit["talks"] += talks_by_visit[key]
        unit["matters"].append({
            "id": m.pk, "tracking_code": m.tracking_code, "title": m.title,
            "stage": v["stage"], "stage_name": v["stage_name"],
            "deadline": v["deadline"].isoformat(),
            "deadline_local": timezone.localtime(v["deadline"]).strftime("%Y-%m-%d %H:%M"),
            "days_overdue": round((v["until"] - v["deadline"]).total_seconds() / 86400, 1),
            "still_overdue": still, "new_in_period": new,
            "level": levels.get(key),
        })
    out_units = []
    for unit in units.values():
        unit["overdue"] = len(unit.pop("_ids"))
        unit["new_overdue"] = len(unit.pop("_new"))
        unit["still_overdue"] = len(unit.pop("_still"))
        out_units.append(unit)
    out_units.sort(key=lambda u: (-u["overdue"], -u["still_overdue"], u["name"], u["key"]))
    still_total = {m["id"] for u in out_units for m in u["matters"] if m["still_overdue"]}
    new_total = {m["id"] for u in out_units for m in u["matters"] if m["new_in_period"]}
    return {
        "place": {"id": place.pk, "name": place.name, "kind": place.kind},
        "period": {"start": start.isoformat(), "end": (end - dt.timedelta(days=1)).isoformat()},
        "generated_at": now.isoformat(),
        "totals": {
            "units": len(out_units),
            "overdue": len(matter_ids),
            "new_overdue": len(new_total),
            "still_overdue": len(still_total),
            "supervised": sum(u["supervised"] for u in out_units),
            "talks": sum(u["talks"] for u in out_units),
        },
        "units": out_units,
    }
