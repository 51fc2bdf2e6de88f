"""Pages of 晒: the public board (no login) and the staff pages of honour and shame lists.

The board reads matters only through :func:`gongzhi.board.public.board_matters` and shows them
only as :class:`~gongzhi.board.public.PublicMatter` (anonymised). Staff pages load lists through
``HonourList.objects.restrict(user, "view")`` and call one action per post; a refused action
shows its sentence (400), a forbidden one answers 403.
"""

from __future__ import annotations

from datetime import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gongzhi.core.access import has_permission
from gongzhi.core.errors import ActionError, ActionForbidden
from gongzhi.matters.models import Category, Matter
from gongzhi.places.models import Place, PlaceKind

from . import actions
from .figures import place_summary
from .forms import HonourListForm, ReasonForm, board_places_for, entries_text
from .models import HonourList, ListKind, ListStatus
from .public import (
    BOARD_LEVELS,
    board_matters,
    board_place,
    public_matter,
    public_matters,
    published_lists,
    with_public_relations,
)

PER_PAGE = 20


# =============================================================================================
# The public board


def _month(value: str) -> tuple[datetime, datetime] | None:
    """"2026-03" → the local month [start, end); None when absent or malformed."""
    try:
        year, month = (int(p) for p in (value or "").split("-"))
        start = datetime(year, month, 1)
    except (ValueError, TypeError):
        return None
    end = datetime(year + (month == 12), month % 12 + 1, 1)
    return timezone.make_aware(start), timezone.make_aware(end)


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _county_id(place: Place) -> int:
    return place.pk if place.kind == PlaceKind.COUNTY else place.county_id


def _crumbs(place: Place, *, here: bool = True) -> list[dict[str, str]]:
    crumbs = [{"label": _("公示栏"), "url": reverse("board:index")}]
    for p in [*place.ancestors(), place]:
        crumbs.append({"label": p.name, "url": reverse("board:place", args=[p.pk])})
    if here:
        crumbs[-1]["url"] = ""
    return crumbs


@require_GET
def index(request):
    """Every county's board, linking down to towns and villages."""
    counties = Place.objects.filter(kind=PlaceKind.COUNTY, is_active=True).order_by(
        "sort_order", "pk")
    return render(request, "board/index.html", {"counties": counties,
                                                "crumbs": [{"label": _("公示栏"), "url": ""}]})


@require_GET
def place_board(request, place_id: int):
    """A place's board: figures, published matters (filter by category, status, month), lists."""
    place = board_place(place_id)
    county_id = _county_id(place)
    qs = board_matters(place)
    category = _int(request.GET.get("category"))
    status = request.GET.get("status", "")
    month_value = request.GET.get("month", "")
    month = _month(month_value)
    if category:
        qs = qs.filter(Q(category_id=category) | Q(category__parent_id=category))
    if status == "open":
        qs = qs.filter(is_closed=False)
    elif status == "closed":
        qs = qs.filter(is_closed=True)
    else:
        status = ""
    if month:
        qs = qs.filter(created_at__gte=month[0], created_at__lt=month[1])
    qs = with_public_relations(qs).order_by("-published_at", "-pk")
    page = Paginator(qs, PER_PAGE).get_page(request.GET.get("page"))
    now = timezone.now()
    if month:
        start, end = month
        period_label = _("%(y)d年%(m)d月") % {"y": start.year, "m": start.month}
    else:
        start = timezone.make_aware(datetime(timezone.localtime(now).year, 1, 1))
        end = now
        period_label = _("%(y)d年以来") % {"y": start.year}
    children = Place.objects.filter(parent=place, is_active=True, kind__in=BOARD_LEVELS).order_by(
        "sort_order", "pk")
    return render(request, "board/place.html", {
        "place": place,
        "crumbs": _crumbs(place),
        "children": children,
        "summary": place_summary(place, start, min(end, now)),
        "period_label": period_label,
        "matters": public_matters(list(page.object_list)),
        "page": page,
        "categories": Category.objects.filter(county_id=county_id, is_active=True,
                                              parent__isnull=True).order_by("sort_order", "pk"),
        "category": category,
        "status": status,
        "month": month_value if month else "",
        "lists": published_lists(place)[:10],
        "feed_url": reverse("board:feed", args=[place.pk]),
    })


@require_GET
def board_matter(request, place_id: int, pk: int):
    """One published matter, anonymised, with its public timeline."""
    place = board_place(place_id)
    matter = get_object_or_404(board_matters(place), pk=pk)
    m = public_matter(matter)
    return render(request, "board/matter.html", {
        "place": place, "crumbs": _crumbs(place, here=False), "crumb_current": m.title, "m": m,
    })


@require_GET
def board_list(request, place_id: int, pk: int):
    """One published honour or shame list."""
    place = board_place(place_id)
    hl = get_object_or_404(published_lists(place), pk=pk)
    return render(request, "board/list.html", {
        "place": place, "crumbs": _crumbs(place, here=False), "crumb_current": hl.title,
        "hl": hl, "entries": list(hl.entries.all()),
    })


# =============================================================================================
# Staff: honour and shame lists


def _staff_lists(request):
    return HonourList.objects.restrict(request.user, "view").select_related("place")


def _require_board_view(user) -> None:
    if not has_permission(user, "board.view"):
        raise PermissionDenied(_("您没有查看红黑榜的权限。"))


def _error_text(exc: ActionError) -> str:
    return " ".join(exc.messages)


@login_required
@require_GET
def manage_lists(request):
    _require_board_view(request.user)
    qs = _staff_lists(request)
    status = request.GET.get("status", "")
    if status in ListStatus.values:
        qs = qs.filter(status=status)
    else:
        status = ""
    page = Paginator(qs.order_by("-updated_at", "-pk"), PER_PAGE).get_page(
        request.GET.get("page"))
    return render(request, "board/manage/lists.html", {
        "page": page, "lists": page.object_list, "status": status,
        "statuses": ListStatus.choices,
        "can_create": board_places_for(request.user).exists(),
        "crumbs": [{"label": _("红黑榜"), "url": ""}],
    })


def _form_initial(hl: HonourList) -> dict:
    return {"kind": hl.kind, "title": hl.title, "period_label": hl.period_label,
            "period_start": hl.period_start, "period_end": hl.period_end, "intro": hl.intro,
            "entries": entries_text(hl.entries.all())}


def _form_page(request, form, *, hl: HonourList | None = None, error: str = "",
               status: int = 200):
    crumbs = [{"label": _("红黑榜"), "url": reverse("board:manage_lists")}]
    if hl is not None:
        crumbs.append({"label": hl.title, "url": reverse("board:manage_list", args=[hl.pk])})
    crumbs.append({"label": _("修改") if hl else _("新建"), "url": ""})
    return render(request, "board/manage/form.html",
                  {"form": form, "hl": hl, "error": error, "crumbs": crumbs}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def new_list(request):
    user = request.user
    if not board_places_for(user).exists():
        raise PermissionDenied(_("您没有编制红黑榜的权限。"))
    if request.method == "GET":
        initial = {"kind": request.GET.get("kind") or ListKind.HONOUR}
        return _form_page(request, HonourListForm(user, initial=initial))
    form = HonourListForm(user, request.POST)
    if not form.is_valid():
        return _form_page(request, form, error=form.error_text(), status=400)
    d = form.cleaned_data
    try:
        hl = actions.do_create_honour_list(
            place=d["place"], kind=d["kind"], title=d["title"], period_label=d["period_label"],
            period_start=d["period_start"], period_end=d["period_end"], intro=d["intro"],
            entries=d["entry_list"], acting_user=user)
    except ActionForbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    except ActionError as exc:
        return _form_page(request, form, error=_error_text(exc), status=400)
    messages.success(request, _("榜单草稿已保存。"))
    return redirect("board:manage_list", pk=hl.pk)


@login_required
@require_http_methods(["GET", "POST"])
def edit_list(request, pk: int):
    user = request.user
    hl = get_object_or_404(_staff_lists(request), pk=pk)
    if not hl.is_editable:
        messages.warning(request, _("只有草稿可以修改；已提交的榜单请先退回。"))
        return redirect("board:manage_list", pk=hl.pk)
    if request.method == "GET":
        return _form_page(request, HonourListForm(user, initial=_form_initial(hl), honour_list=hl),
                          hl=hl)
    form = HonourListForm(user, request.POST, honour_list=hl)
    if not form.is_valid():
        return _form_page(request, form, hl=hl, error=form.error_text(), status=400)
    d = form.cleaned_data
    try:
        actions.do_update_honour_list(
            hl, kind=d["kind"], title=d["title"], period_label=d["period_label"],
            period_start=d["period_start"], period_end=d["period_end"], intro=d["intro"],
            entries=d["entry_list"], acting_user=user)
    except ActionForbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    except ActionError as exc:
        return _form_page(request, form, hl=hl, error=_error_text(exc), status=400)
    messages.success(request, _("榜单已修改。"))
    return redirect("board:manage_list", pk=hl.pk)


def _list_page(request, hl: HonourList, *, error: str = "", status: int = 200):
    user = request.user
    can_change = has_permission(user, "board.change", hl.place)
    can_publish = has_permission(user, "matters.publish", hl.place)
    is_author = user.pk in (hl.created_by_id, hl.submitted_by_id)
    return render(request, "board/manage/list.html", {
        "hl": hl,
        "entries": list(hl.entries.all()),
        "error": error,
        "can_edit": can_change and hl.status == ListStatus.DRAFT,
        "can_submit": can_change and hl.status == ListStatus.DRAFT,
        "can_return": can_publish and hl.status == ListStatus.SUBMITTED,
        "can_approve": can_publish and hl.status == ListStatus.SUBMITTED and not is_author,
        "approve_blocked": can_publish and hl.status == ListStatus.SUBMITTED and is_author,
        "can_publish": can_publish and hl.status == ListStatus.APPROVED,
        "can_withdraw": can_publish and hl.status == ListStatus.PUBLISHED,
        "board_url": reverse("board:list", args=[hl.place_id, hl.pk])
        if hl.status == ListStatus.PUBLISHED else "",
        "crumbs": [{"label": _("红黑榜"), "url": reverse("board:manage_lists")},
                   {"label": hl.title, "url": ""}],
    }, status=status)


@login_required
@require_GET
def manage_list(request, pk: int):
    hl = get_object_or_404(_staff_lists(request).select_related(
        "created_by", "submitted_by", "approved_by", "published_by", "withdrawn_by"), pk=pk)
    return _list_page(request, hl)


@login_required
@require_POST
def list_step(request, pk: int, step: str):
    """submit, return, approve, publish or withdraw a list."""
    user = request.user
    hl = get_object_or_404(_staff_lists(request), pk=pk)
    reason = request.POST.get("reason", "")
    steps = {
        "submit": (lambda: actions.do_submit_honour_list(hl, acting_user=user),
                   _("榜单已提交审批。")),
        "return": (lambda: actions.do_return_honour_list(hl, acting_user=user, reason=reason),
                   _("榜单已退回编制人。")),
        "approve": (lambda: actions.do_approve_honour_list(hl, acting_user=user),
                    _("榜单已审批通过。")),
        "publish": (lambda: actions.do_publish_honour_list(hl, acting_user=user),
                    _("榜单已发布到公示栏。")),
        "withdraw": (lambda: actions.do_withdraw_honour_list(hl, acting_user=user, reason=reason),
                     _("榜单已从公示栏撤回。")),
    }
    if step not in steps:
        raise Http404
    call, notice = steps[step]
    try:
        call()
    except ActionForbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    except ActionError as exc:
        hl = get_object_or_404(_staff_lists(request), pk=pk)
        return _list_page(request, hl, error=_error_text(exc), status=400)
    messages.success(request, notice)
    return redirect("board:manage_list", pk=hl.pk)


# =============================================================================================
# Staff: a matter on or off the board (posted from the matter page's panel)


def _matter_url(matter: Matter) -> str:
    try:
        return reverse("matters:detail", kwargs={"pk": matter.pk})
    except NoReverseMatch:
        return reverse("board:place", args=[matter.village_id or matter.county_id])


@login_required
@require_POST
def matter_publish(request, pk: int):
    matter = get_object_or_404(Matter.objects.restrict(request.user, "view")
                               .select_related("place"), pk=pk)
    form = ReasonForm(request.POST)
    withdraw = request.POST.get("withdraw") == "1"
    try:
        if withdraw:
            actions.do_withdraw_matter(matter, acting_user=request.user,
                                       reason=form.data.get("reason", ""))
            messages.success(request, _("事项已撤下公示。"))
        else:
            actions.do_publish_matter(matter, acting_user=request.user)
            messages.success(request, _("事项已公示。"))
    except ActionForbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    except ActionError as exc:
        messages.error(request, _error_text(exc))
    return redirect(_matter_url(matter))
