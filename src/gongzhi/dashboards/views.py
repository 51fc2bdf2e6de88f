"""The dashboard of a county, town, village or grid, and the same data as JSON.

A user sees the dashboard of a place where they hold ``dashboards.view`` (granted there or
above); any other place is, to them, a place that does not exist (404). Without the permission
anywhere the dashboards are forbidden (403).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from gongzhi.core.access import has_permission, root_places
from gongzhi.places.models import Place

from .data import BadPeriod, dashboard, parse_period

PERMISSION = "dashboards.view"
KINDS = ("county", "town", "village", "grid")


def _roots(user) -> list[Place]:
    """The highest places where the user holds the permission."""
    return root_places(user, PERMISSION, KINDS)


def _place(user, place_id: int) -> Place:
    if not has_permission(user, PERMISSION):
        raise PermissionDenied(_("您没有查看数据看板的权限。"))
    place = Place.objects.filter(pk=place_id, kind__in=KINDS).first()
    if place is None or not has_permission(user, PERMISSION, place):
        raise Http404
    return place


def _crumbs(user, place: Place, query: str) -> list[dict]:
    crumbs = []
    for p in [*place.ancestors(), place]:
        if p.kind in KINDS and has_permission(user, PERMISSION, p):
            url = None if p.pk == place.pk else (
                reverse("dashboards:place", args=[p.pk]) + (f"?{query}" if query else ""))
            crumbs.append({"label": p.name, "url": url})
    return crumbs


@never_cache
@login_required
def index(request):
    if not has_permission(request.user, PERMISSION):
        raise PermissionDenied(_("您没有查看数据看板的权限。"))
    roots = _roots(request.user)
    if not roots:
        raise Http404
    query = request.META.get("QUERY_STRING", "")
    return redirect(reverse("dashboards:place", args=[roots[0].pk]) + (f"?{query}" if query
                                                                        else ""))


@never_cache
@login_required
def place(request, place_id: int):
    scope = _place(request.user, place_id)
    error = None
    try:
        period = parse_period(request.GET)
    except BadPeriod as exc:
        error = str(exc)
        period = parse_period({})
    data = dashboard(scope, period)
    query = urlencode(period.params())
    for row in data["children"]:
        if row.get("url"):
            row["url"] += f"?{query}"
    return render(request, "dashboards/place.html", {
        "scope": scope, "period": period, "data": data, "error": error,
        "crumbs": _crumbs(request.user, scope, query),
        "data_url": reverse("dashboards:data", args=[scope.pk]) + f"?{query}",
    }, status=400 if error else 200)


@never_cache
@login_required
def data(request, place_id: int):
    scope = _place(request.user, place_id)
    try:
        period = parse_period(request.GET)
    except BadPeriod as exc:
        return JsonResponse({"detail": str(exc)}, status=400)
    return JsonResponse(dashboard(scope, period), json_dumps_params={"ensure_ascii": False})
