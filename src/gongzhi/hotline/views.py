"""Staff pages of 接诉即办: the connection settings (secrets shown once), the exchange log, and
退单 from the matter page. The endpoints the hotline itself calls are in :mod:`.inbound`.

Views translate: they parse, load through ``restrict`` / ``has_permission`` (anything outside
the user's scope is a 404), call one action and render.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from gongzhi.core.access import has_permission
from gongzhi.core.errors import ActionError
from gongzhi.matters.models import Matter
from gongzhi.places.models import Place, PlaceKind

from . import actions, signing
from .forms import ConnectionForm, ReturnForm, format_category_map
from .models import Connection, Exchange, OutboundMessage

PAGE_SIZE = 50


def _errors(exc: ActionError) -> str:
    return " ".join(str(m) for m in exc.messages)


def _managed_counties(user) -> list[Place]:
    counties = Place.objects.filter(kind=PlaceKind.COUNTY).order_by("sort_order", "pk")
    return [c for c in counties if has_permission(user, "hotline.manage", c)]


def _places(county: Place) -> list[Place]:
    return list(Place.objects.filter(
        county_id=county.pk, kind__in=[PlaceKind.COUNTY, PlaceKind.TOWN, PlaceKind.VILLAGE],
    ).order_by("town_id", "village_id", "sort_order", "pk"))


def _place_in(county: Place, place_id) -> Place | None:
    return Place.objects.filter(pk=place_id, county_id=county.pk).first()


def _receive_url(request, connection: Connection) -> str:
    from django.urls import reverse

    return request.build_absolute_uri(reverse("hotline:orders", args=[connection.key]))


def _secrets_page(request, connection: Connection, found: dict[str, str]):
    response = render(request, "hotline/secrets.html", {
        "connection": connection, "secrets": found,
        "receive_url": _receive_url(request, connection),
    })
    response["Cache-Control"] = "no-store"
    return response


@login_required
@never_cache
def index(request):
    """The county's connections; a new one (its secrets are shown once, on the next page)."""
    user = request.user
    counties = _managed_counties(user)
    visible = (Connection.objects.restrict(user, "manage")
               | Connection.objects.restrict(user, "view_log"))
    connections = list(visible.select_related("county", "default_place").distinct())
    if not counties and not connections and not has_permission(user, "hotline.view_log"):
        raise Http404  # the page says "no connection yet" to those who may read the logs
    form = ConnectionForm(request.POST or None, initial={"is_active": True})
    error = ""
    if request.method == "POST":
        county = next((c for c in counties if str(c.pk) == request.POST.get("county")), None)
        if county is None:
            raise Http404
        if form.is_valid():
            data = form.cleaned_data
            try:
                connection, found = actions.do_create_connection(
                    county, acting_user=user, name=data["name"],
                    outbound_url=data["outbound_url"],
                    default_place=_place_in(county, data["default_place"]),
                    category_map=data["category_map"],
                )
            except ActionError as exc:
                error = _errors(exc)
            else:
                return _secrets_page(request, connection, found)
    return render(request, "hotline/index.html", {
        "connections": connections, "counties": counties, "form": form, "error": error,
        "new_forms": [{"county": c, "places": _places(c)} for c in counties],
        "managed": {c.pk for c in counties},
    })


def _managed(request, pk: int) -> Connection:
    return get_object_or_404(Connection.objects.restrict(request.user, "manage")
                             .select_related("county"), pk=pk)


@login_required
@never_cache
def edit(request, pk: int):
    connection = _managed(request, pk)
    initial = {"name": connection.name, "outbound_url": connection.outbound_url,
               "default_place": connection.default_place_id, "is_active": connection.is_active,
               "category_map": format_category_map(connection.category_map)}
    form = ConnectionForm(request.POST or None, initial=initial)
    error = ""
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            actions.do_update_connection(
                connection, acting_user=request.user, name=data["name"],
                outbound_url=data["outbound_url"],
                default_place=_place_in(connection.county, data["default_place"]),
                category_map=data["category_map"], is_active=data["is_active"],
            )
        except ActionError as exc:
            error = _errors(exc)
        else:
            messages.success(request, _("已保存热线对接设置。"))
            return redirect("hotline:edit", pk=connection.pk)
    found = actions.secrets_of(connection)
    return render(request, "hotline/edit.html", {
        "connection": connection, "form": form, "error": error,
        "places": _places(connection.county), "receive_url": _receive_url(request, connection),
        "fingerprints": {k: signing.fingerprint(v) for k, v in found.items()},
    })


@login_required
@require_POST
def rotate(request, pk: int):
    connection = _managed(request, pk)
    found = actions.do_rotate_secrets(connection, acting_user=request.user)
    return _secrets_page(request, connection, found)


@login_required
def exchange_log(request, pk: int):
    """Every request in and out, newest first; the outbound queue's state (county admins)."""
    connection = get_object_or_404(Connection.objects.restrict(request.user, "view_log"), pk=pk)
    qs = Exchange.objects.filter(connection=connection)
    direction = request.GET.get("direction", "")
    if direction in ("in", "out"):
        qs = qs.filter(direction=direction)
    order_ref = request.GET.get("order", "").strip()
    if order_ref:
        qs = qs.filter(order_ref=order_ref)
    page = Paginator(qs.order_by("-at", "-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    pending = (OutboundMessage.objects.filter(connection=connection)
               .exclude(status="sent").order_by("-created_at")[:50])
    return render(request, "hotline/log.html", {
        "connection": connection, "page": page, "pending": pending,
        "direction": direction, "order_ref": order_ref,
    })


@login_required
@require_POST
def return_order(request, matter_pk: int):
    """派单异议／退单 from the matter page."""
    matter = get_object_or_404(Matter.objects.restrict(request.user, "view"), pk=matter_pk)
    form = ReturnForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请说明退单的理由（不超过500字）。"))
        return redirect("matters:detail", pk=matter.pk)
    try:
        actions.do_return_order(matter, acting_user=request.user,
                                reason=form.cleaned_data["reason"])
    except ActionError as exc:
        messages.error(request, _errors(exc))
    else:
        messages.success(request, _("已向12345热线退单，等待热线重新派单。"))
    return redirect("matters:detail", pk=matter.pk)
