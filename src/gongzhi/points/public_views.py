"""The public board of points rankings (一季一评议): no login to read.

``/points/public/<place>/`` lists the rankings published at or under a county, town or
village; ``/points/public/<place>/rankings/<id>/`` shows one. Households appear only by the
label their locality's policy chooses (door number and/or masked head's name: see
``labels.py``): never a phone, an ID number, a card code or a full name. During the notice
period a signed-in resident of a household under the ranking may object; objections are
answered by staff, and the page shows how many were raised and answered (not their text).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from gongzhi.board.public import board_place
from gongzhi.core.errors import ActionForbidden

from . import actions
from .forms import ObjectionForm
from .labels import row_labels
from .models import ObjectionStatus, RankingSnapshot, RankingStatus

PUBLIC = (RankingStatus.PUBLISHED, RankingStatus.FINAL)


def public_rankings(place):
    """Rankings published at or under ``place``: the public board's one access path."""
    return RankingSnapshot.objects.filter(place.scope_q(), status__in=PUBLIC).select_related(
        "place")


def _crumbs(place, current: str = ""):
    crumbs = [{"label": _("公示栏"), "url": reverse("board:index")}]
    for p in [*place.ancestors(), place]:
        crumbs.append({"label": p.name, "url": reverse("board:place", args=[p.pk])})
    crumbs.append({"label": _("积分排名"), "url": reverse("points:public", args=[place.pk])})
    if current:
        crumbs.append({"label": current, "url": ""})
    crumbs[-1]["url"] = ""
    return crumbs


@require_GET
def public_place(request, place_id: int):
    place = board_place(place_id)
    snaps = public_rankings(place).order_by("-year", "-quarter", "-published_at", "-pk")
    page = Paginator(snaps, 20).get_page(request.GET.get("page"))
    return render(request, "points/public/place.html", {
        "place": place, "page": page, "snapshots": page.object_list,
        "crumbs": _crumbs(place),
    })


def _public_page(request, place, snap, *, form=None, error: str = "", status: int = 200):
    page = Paginator(snap.rows.order_by("rank", "place_id"), 50).get_page(
        request.GET.get("page"))
    labels = row_labels(snap, page.object_list)
    counts = snap.objections.aggregate(
        raised=Count("id"), answered=Count("id", filter=Q(status=ObjectionStatus.ANSWERED)))
    user = request.user
    may_object = bool(user.is_authenticated and snap.in_notice()
                      and actions.resident_households(user, snap.place).exists())
    return render(request, "points/public/ranking.html", {
        "place": place, "snap": snap, "page": page,
        "rows": [{"r": r, "label": labels.get(r.pk, "")} for r in page.object_list],
        "counts": counts, "in_notice": snap.in_notice(), "may_object": may_object,
        "form": form or ObjectionForm(), "error": error,
        "login_url": reverse("accounts:login") + "?next=" + request.path,
        "crumbs": _crumbs(place, snap.title),
    }, status=status)


@require_GET
def public_ranking(request, place_id: int, pk: int):
    place = board_place(place_id)
    snap = get_object_or_404(public_rankings(place), pk=pk)
    return _public_page(request, place, snap)


@require_POST
def public_object(request, place_id: int, pk: int):
    place = board_place(place_id)
    snap = get_object_or_404(public_rankings(place), pk=pk)
    if not request.user.is_authenticated:
        return redirect(reverse("accounts:login") + "?next=" + request.path.rsplit(
            "object/", 1)[0])
    form = ObjectionForm(request.POST)
    if not form.is_valid():
        return _public_page(request, place, snap, form=form, error=_("请写明异议内容。"),
                            status=400)
    row = None
    if form.cleaned_data.get("row"):
        row = snap.rows.filter(pk=form.cleaned_data["row"]).first()
    try:
        actions.do_object_ranking(snap, text=form.cleaned_data["text"], row=row,
                                  acting_user=request.user)
    except ActionForbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    except ValidationError as exc:
        return _public_page(request, place, snap, form=form,
                            error=" ".join(str(m) for m in exc.messages), status=400)
    messages.success(request, _("您的异议已提交，村（社区）将在公示期内答复。"))
    return redirect("points:public_ranking", place_id=place.pk, pk=snap.pk)
