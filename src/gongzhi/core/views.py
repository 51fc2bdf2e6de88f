from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.template.loader import render_to_string

from gongzhi.accounts.roles import Role
from gongzhi.places.models import Place, PlaceKind

from .access import has_permission, user_grants
from .errors import ActionError
from .ui import panels


def error_text(exc: ActionError) -> str:
    """An action's refusal as one line for a page message."""
    return " ".join(str(m) for m in exc.messages)


def run_action(request, call, success: str, url: str):
    """Run ``call`` (a form post's action); say ``success`` or the refusal, then go to ``url``."""
    try:
        call()
    except ActionError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, success)
    return redirect(url)


def _grant_rows(user) -> list[dict]:
    """The user's grants with readable role and place names: two queries however many grants."""
    grants = user_grants(user)
    places = {p.pk: p for p in Place.objects.filter(pk__in={g.place_id for g in grants})}
    ancestor_ids = {pid for p in places.values() for pid in p.ancestor_ids()}
    names = dict(Place.objects.filter(pk__in=ancestor_ids).values_list("pk", "name"))
    rows = []
    for g in grants:
        place = places.get(g.place_id)
        if place is None:
            continue
        rows.append({
            "role": g.role,
            "role_label": Role(g.role).label if g.role in Role.values else g.role,
            "place": place,
            "place_full_name": " / ".join(names.get(i, "") for i in place.ancestor_ids()),
            "can_browse": has_permission(user, "places.view", place),
            "can_view_people": has_permission(user, "people.view", place),
            "is_grid": place.kind == PlaceKind.GRID,
            "is_household": place.kind == PlaceKind.HOUSEHOLD,
        })
    return rows


def _panels(request) -> list[str]:
    """Rendered workbench panels that apps registered (``core.ui.register_panel``)."""
    out = []
    for panel in panels():
        if panel.permission and not has_permission(request.user, panel.permission):
            continue
        context = panel.context(request) if panel.context else {}
        if context is None:  # a panel with nothing to show for this user
            continue
        out.append(render_to_string(panel.template, context, request=request))
    return out


@login_required
def home(request):
    """The workbench home: who I am and where my roles hold, then the apps' panels."""
    return render(request, "core/home.html", {
        "grant_rows": _grant_rows(request.user),
        "panels": _panels(request),
    })
