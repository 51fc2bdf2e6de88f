"""Supervisors' pages: open items by level and unit, overdue matters, an item with its records
(site checks, surveys, meetings, 约谈) and its closing, manual supervision, and bulletins.

Every page needs ``matters.supervise`` somewhere (403 otherwise); every object named in a
request is loaded through ``restrict`` (404 outside the user's places). A published bulletin is
readable by staff who may see matters there. Views parse, call one action, render.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gongzhi.accounts.roles import Role
from gongzhi.core.access import grants_with, has_permission
from gongzhi.matters.actions import matter_settings
from gongzhi.matters.models import Matter
from gongzhi.matters.workflow import workflow_of
from gongzhi.places.models import Place, PlaceKind

from . import actions, recipients
from .models import (
    Bulletin,
    ItemStatus,
    PeriodKind,
    Reason,
    RecordKind,
    SupervisionItem,
)

PAGE_SIZE = 50
PERMISSION = "matters.supervise"


def _require_supervisor(user) -> None:
    if not has_permission(user, PERMISSION):
        raise PermissionDenied(_("您没有督办权限。"))


def _error_text(exc: ValidationError) -> str:
    return " ".join(str(m) for m in exc.messages)


def _unit_of(matter: Matter) -> tuple[str, str]:
    if matter.responsible_org_id:
        return f"org:{matter.responsible_org_id}", matter.responsible_org.name
    return f"place:{matter.queue_place_id}", matter.queue_place.name


def _unit_q(unit: str, prefix: str = "matter__") -> Q | None:
    kind, _sep, pk = unit.partition(":")
    if not pk.isdigit():
        return None
    if kind == "org":
        return Q(**{f"{prefix}responsible_org_id": int(pk)})
    if kind == "place":
        return Q(**{f"{prefix}responsible_org__isnull": True, f"{prefix}queue_place_id": int(pk)})
    return None


@login_required
def items(request):
    """Supervision items by level and unit; open ones first."""
    user = request.user
    _require_supervisor(user)
    qs = SupervisionItem.objects.restrict(user, "supervise").select_related(
        "matter", "matter__responsible_org", "matter__queue_place")
    status = request.GET.get("status", ItemStatus.OPEN)
    if status in ItemStatus.values:
        qs = qs.filter(status=status)
    open_qs = SupervisionItem.objects.restrict(user, "supervise").filter(status=ItemStatus.OPEN)
    by_level = Counter(open_qs.values_list("level", flat=True))
    units = Counter()
    unit_names: dict[str, str] = {}
    for item in open_qs.select_related("matter__responsible_org", "matter__queue_place").only(
        "id", "matter__responsible_org_id", "matter__responsible_org__name",
        "matter__queue_place_id", "matter__queue_place__name",
    ):
        key, name = _unit_of(item.matter)
        units[key] += 1
        unit_names[key] = name
    level = request.GET.get("level", "")
    if level.isdigit():
        qs = qs.filter(level=int(level))
    unit = request.GET.get("unit", "")
    unit_q = _unit_q(unit) if unit else None
    if unit_q is not None:
        qs = qs.filter(unit_q)
    page = Paginator(qs.order_by("status", "-level", "deadline", "-id"), PAGE_SIZE).get_page(
        request.GET.get("page"))
    rows = [{"item": i, "unit": _unit_of(i.matter)[1],
             "level_label": i.level_label if i.level_role else "",
             "overdue": i.matter.is_overdue()} for i in page]
    return render(request, "supervision/items.html", {
        "page": page, "rows": rows, "status": status, "level": level, "unit": unit,
        "statuses": ItemStatus.choices,
        "levels": [{"level": lv, "count": n} for lv, n in sorted(by_level.items())],
        "units": sorted(({"key": k, "name": unit_names[k], "count": n}
                         for k, n in units.items()), key=lambda u: (-u["count"], u["name"])),
        "open_total": sum(by_level.values()),
    })


@login_required
def overdue(request):
    """Open matters past their stage deadline, in the places the user supervises."""
    user = request.user
    _require_supervisor(user)
    now = timezone.now()
    qs = (Matter.objects.restrict(user, "supervise").open()
          .filter(stage_deadline__lt=now).exclude(stage_kind__in=("evaluation", "disclosure"))
          .select_related("responsible_org", "queue_place", "workflow"))
    unit = request.GET.get("unit", "")
    unit_q = _unit_q(unit, prefix="") if unit else None
    if unit_q is not None:
        qs = qs.filter(unit_q)
    page = Paginator(qs.order_by("stage_deadline", "pk"), PAGE_SIZE).get_page(
        request.GET.get("page"))
    open_items = {}
    for item in SupervisionItem.objects.filter(
        matter_id__in=[m.pk for m in page], status=ItemStatus.OPEN,
    ).order_by("level"):
        open_items[item.matter_id] = item
    rows = []
    for m in page:
        try:
            stage_name = workflow_of(m.workflow).stage(m.stage).get("name", m.stage)
        except KeyError:
            stage_name = m.stage
        rows.append({
            "matter": m, "stage_name": stage_name, "unit": _unit_of(m)[1],
            "days": round((now - m.stage_deadline).total_seconds() / 86400, 1),
            "item": open_items.get(m.pk), "url": recipients.matter_url(m),
        })
    return render(request, "supervision/overdue.html", {"page": page, "rows": rows,
                                                         "unit": unit})


def _talk_candidates(matter: Matter):
    people = recipients.responsible_users(matter)
    people += [u for u in recipients.queue_staff(matter) if u not in people]
    return people


@login_required
def item(request, item_id: int):
    user = request.user
    _require_supervisor(user)
    obj = get_object_or_404(
        SupervisionItem.objects.restrict(user, "supervise").select_related(
            "matter", "matter__responsible_org", "matter__queue_place", "matter__responsible_user",
            "opened_by", "closed_by"),
        pk=item_id,
    )
    records = obj.records.select_related("by", "talked_to_user", "event").prefetch_related(
        "event__files")
    others = SupervisionItem.objects.filter(matter=obj.matter).exclude(pk=obj.pk).order_by(
        "opened_at")
    return render(request, "supervision/item.html", {
        "item": obj, "matter": obj.matter, "records": records, "others": others,
        "unit": _unit_of(obj.matter)[1], "matter_url": recipients.matter_url(obj.matter),
        "level_label": obj.level_label if obj.level_role else "",
        "record_kinds": RecordKind.choices, "talk_candidates": _talk_candidates(obj.matter),
        "now": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
    })


def _parse_local(value: str) -> dt.datetime | None:
    value = (value or "").strip()
    if not value:
        return None
    parsed = parse_datetime(value)
    if parsed is None:
        raise ValidationError(_("时间格式不正确。"))
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, timezone.get_current_timezone())
    return parsed


@login_required
@require_POST
def add_record(request, item_id: int):
    user = request.user
    _require_supervisor(user)
    obj = get_object_or_404(SupervisionItem.objects.restrict(user, "supervise")
                            .select_related("matter"), pk=item_id)
    post = request.POST
    talked_to_user = None
    if post.get("talked_to_user", "").isdigit():
        wanted = int(post["talked_to_user"])
        talked_to_user = next((u for u in _talk_candidates(obj.matter) if u.pk == wanted), None)
        if talked_to_user is None:
            messages.error(request, _("请从列表中选择约谈对象。"))
            return redirect("supervision:item", obj.pk)
    try:
        actions.do_add_supervision_record(
            obj, acting_user=user, kind=post.get("kind", ""), notes=post.get("notes", ""),
            at=_parse_local(post.get("at", "")), talked_to_user=talked_to_user,
            talked_to_name=post.get("talked_to_name", ""),
            talked_to_position=post.get("talked_to_position", ""),
            attachments=request.FILES.getlist("attachments"),
        )
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("督办记录已保存。"))
    return redirect("supervision:item", obj.pk)


@login_required
@require_POST
def close_item(request, item_id: int):
    user = request.user
    _require_supervisor(user)
    obj = get_object_or_404(SupervisionItem.objects.restrict(user, "supervise")
                            .select_related("matter"), pk=item_id)
    try:
        actions.do_close_supervision(obj, acting_user=user, note=request.POST.get("note", ""))
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("督办已结束。"))
    return redirect("supervision:item", obj.pk)


@login_required
def open_item(request, matter_id: int):
    """Put a matter under supervision by hand."""
    user = request.user
    _require_supervisor(user)
    matter = get_object_or_404(Matter.objects.restrict(user, "supervise")
                               .select_related("place", "workflow"), pk=matter_id)
    chain = actions.supervision_chain(matter.county_id)
    levels = [(i, actions.level_label(i, lv.name)) for i, lv in enumerate(chain)]
    if request.method == "POST":
        level = request.POST.get("level", "0")
        try:
            obj = actions.do_open_supervision(
                matter, acting_user=user, level=int(level) if level.isdigit() else -1,
                reason=request.POST.get("reason", Reason.MANUAL),
                note=request.POST.get("note", ""),
            )
        except ValidationError as exc:
            messages.error(request, _error_text(exc))
        else:
            messages.success(request, _("事项已列入督办。"))
            return redirect("supervision:item", obj.pk)
    return render(request, "supervision/open.html", {
        "matter": matter, "levels": levels, "matter_url": recipients.matter_url(matter),
        "reasons": [(Reason.MANUAL, Reason.MANUAL.label),
                    (Reason.NEAR_DEADLINE, Reason.NEAR_DEADLINE.label)],
    })


# ---------------------------------------------------------------------------------------------
# Bulletins


def _bulletin_places(user) -> list[Place]:
    """Counties and towns where the user may generate bulletins."""
    if user.is_superuser:
        return list(Place.objects.filter(kind__in=(PlaceKind.COUNTY, PlaceKind.TOWN))
                    .order_by("kind", "sort_order", "id"))
    ids = {g.place_id for g in grants_with(user, PERMISSION)
           if g.kind in (PlaceKind.COUNTY, PlaceKind.TOWN)}
    towns_of = [g.place_id for g in grants_with(user, PERMISSION) if g.kind == PlaceKind.COUNTY]
    places = Place.objects.filter(Q(pk__in=ids) | Q(kind=PlaceKind.TOWN, county_id__in=towns_of))
    return list(places.order_by("kind", "sort_order", "id"))


@login_required
def bulletins(request):
    user = request.user
    _require_supervisor(user)
    places = _bulletin_places(user)
    if request.method == "POST":
        place = next((p for p in places if str(p.pk) == request.POST.get("place")), None)
        day = parse_date(request.POST.get("day", "") or "") or timezone.localdate()
        if place is None:
            messages.error(request, _("请选择通报的范围。"))
        else:
            try:
                bulletin = actions.do_generate_bulletin(
                    place, request.POST.get("period_kind", ""), day, acting_user=user)
            except ValidationError as exc:
                messages.error(request, _error_text(exc))
            else:
                messages.success(request, _("通报已生成。"))
                return redirect("supervision:bulletin", bulletin.pk)
    qs = Bulletin.objects.restrict(user, "supervise").select_related("place")
    page = Paginator(qs.order_by("-period_start", "-id"), PAGE_SIZE).get_page(
        request.GET.get("page"))
    default_period = PeriodKind.MONTH
    if places:
        wanted = matter_settings(places[0].county_id or places[0].pk).policy.get(
            "bulletin_period")
        default_period = wanted if wanted in PeriodKind.values else default_period
    return render(request, "supervision/bulletins.html", {
        "page": page, "places": places, "period_kinds": PeriodKind.choices,
        "default_period": default_period,
        "today": timezone.localdate().isoformat(),
    })


@login_required
def bulletin(request, bulletin_id: int):
    """The printable bulletin; published ones are readable by staff who may see matters."""
    user = request.user
    obj = get_object_or_404(Bulletin.objects.restrict(user, "view").select_related(
        "place", "generated_by", "published_by"), pk=bulletin_id)
    can_manage = has_permission(user, PERMISSION, obj.place)
    return render(request, "supervision/bulletin.html", {
        "bulletin": obj, "data": obj.data, "can_manage": can_manage,
        "role_labels": dict(Role.choices),
    })


@login_required
@require_POST
def publish_bulletin(request, bulletin_id: int):
    user = request.user
    _require_supervisor(user)
    obj = get_object_or_404(Bulletin.objects.restrict(user, "supervise"), pk=bulletin_id)
    try:
        actions.do_publish_bulletin(obj, acting_user=user)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("通报已发布。"))
    return redirect("supervision:bulletin", obj.pk)
