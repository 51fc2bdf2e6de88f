"""Pages of 三共: the needs, resources and projects lists, a need (match it with resources),
a project (progress, contributions, completion), and the public list of projects (no login).

Views translate: load through ``restrict`` (404 outside the user's scope), call one action,
redirect with a message or show the refusal.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from gongzhi.board.public import BOARD_LEVELS
from gongzhi.core.access import has_permission, root_places
from gongzhi.core.errors import ActionError
from gongzhi.core.views import error_text as _error
from gongzhi.core.views import run_action as _run
from gongzhi.places.models import Organisation, Place

from . import actions
from .models import (
    Need,
    NeedCategory,
    NeedStatus,
    Project,
    ProjectStatus,
    Resource,
    ResourceKind,
)


def _require_view(user) -> None:
    if not has_permission(user, "cobuilding.view"):
        raise PermissionDenied(_("您没有查看共驻共建的权限。"))


@login_required
@require_GET
def index(request):
    user = request.user
    _require_view(user)
    needs = list(Need.objects.restrict(user, "view").select_related("place", "village")
                 .order_by("status", "-created_at")[:200])
    projects = list(Project.objects.restrict(user, "view").select_related("village")
                    .prefetch_related("units__organisation").order_by("status", "due_on")[:200])
    resources = list(Resource.objects.restrict(user, "view").filter(is_active=True)
                     .select_related("organisation").order_by("organisation__name", "kind"))
    today = timezone.localdate()
    from .figures import unit_totals

    totals = {}
    roots = [p for p in root_places(user, "cobuilding.view") if p.kind in BOARD_LEVELS][:1]
    if roots:
        totals = unit_totals(roots[0], today.replace(month=1, day=1),
                             today.replace(year=today.year + 1, month=1, day=1))
    orgs = {o.pk: o for o in Organisation.objects.filter(pk__in=[k for k in totals if k])}
    return render(request, "cobuilding/index.html", {
        "needs": needs, "projects": projects, "resources": resources,
        "units": [{"org": orgs[k], **v} for k, v in totals.items() if k in orgs],
        "year": today.year, "categories": NeedCategory.choices, "kinds": ResourceKind.choices,
        "places": [p for p in Place.objects.filter(kind="village", is_active=True)
                   .order_by("pk")[:300] if has_permission(user, "cobuilding.manage", p)],
        "organisations": [o for o in Organisation.objects.filter(is_active=True).select_related(
            "place").order_by("kind", "name")[:300] if actions.may_manage_unit(user, o)],
        "can_manage": has_permission(user, "cobuilding.manage"),
        "crumbs": [{"label": _("共驻共建"), "url": None}],
    })


@login_required
@require_POST
def need_new(request):
    user = request.user
    place = get_object_or_404(Place, pk=request.POST.get("place") or 0)
    p = request.POST
    return _run(request, lambda: actions.do_record_need(
        place, acting_user=user, title=p.get("title", ""), category=p.get("category", ""),
        description=p.get("description", ""), location=p.get("location", ""),
        raised_by_name=p.get("raised_by_name", "")), _("需求已登记。"), "/cobuilding/")


@login_required
@require_POST
def resource_new(request):
    user = request.user
    org = get_object_or_404(Organisation, pk=request.POST.get("organisation") or 0)
    p = request.POST
    return _run(request, lambda: actions.do_add_resource(
        org, acting_user=user, kind=p.get("kind", ""), title=p.get("title", ""),
        description=p.get("description", ""), quantity=p.get("quantity"),
        unit=p.get("unit", ""), availability=p.get("availability", "")),
        _("资源已登记。"), "/cobuilding/")


def _need(request, pk: int) -> Need:
    return get_object_or_404(Need.objects.restrict(request.user, "view")
                             .select_related("place", "village"), pk=pk)


@login_required
@require_GET
def need_detail(request, pk: int):
    need = _need(request, pk)
    candidates = [r for r in Resource.objects.filter(county_id=need.county_id, is_active=True)
                  .select_related("organisation__place").order_by("organisation__name", "kind")
                  if actions.serves(r, need)]
    return render(request, "cobuilding/need.html", {
        "need": need, "candidates": candidates,
        "projects": list(need.projects.all()),
        "can_manage": has_permission(request.user, "cobuilding.manage", need.place)
        and need.status in (NeedStatus.OPEN, NeedStatus.MATCHED),
        "today": timezone.localdate(),
    })


@login_required
@require_POST
def need_match(request, pk: int):
    need = _need(request, pk)
    p = request.POST
    ids = [int(x) for x in p.getlist("resources") if str(x).isdigit()]
    resources = list(Resource.objects.filter(pk__in=ids, county_id=need.county_id)
                     .select_related("organisation__place"))
    if len(resources) != len(set(ids)):
        raise Http404
    try:
        project = actions.do_start_project(
            need, resources, acting_user=request.user, title=p.get("title", ""),
            owner_name=p.get("owner_name", ""), start_on=parse_date(p.get("start_on") or ""),
            due_on=parse_date(p.get("due_on") or ""), description=p.get("description", ""),
            is_public=p.get("is_public", "1") == "1")
    except ActionError as exc:
        messages.error(request, _error(exc))
        return redirect("cobuilding:need", need.pk)
    messages.success(request, _("需求已与驻区单位资源对接，项目已立项。"))
    return redirect("cobuilding:project", project.pk)


def _project(request, pk: int) -> Project:
    return get_object_or_404(Project.objects.restrict(request.user, "view")
                             .select_related("place", "need", "village"), pk=pk)


@login_required
@require_GET
def project_detail(request, pk: int):
    project = _project(request, pk)
    return render(request, "cobuilding/project.html", {
        "project": project,
        "units": list(project.units.select_related("organisation", "resource")),
        "updates": list(project.updates.all()),
        "contributions": list(project.contributions.select_related("organisation")),
        "can_manage": has_permission(request.user, "cobuilding.manage", project.place)
        and project.status == ProjectStatus.ACTIVE,
        "today": timezone.localdate(),
    })


@login_required
@require_POST
def project_progress(request, pk: int):
    project = _project(request, pk)
    p = request.POST
    return _run(request, lambda: actions.do_report_progress(
        project, acting_user=request.user, percent=p.get("percent"), note=p.get("note", ""),
        photo=request.FILES.get("photo")), _("进展已更新。"), f"/cobuilding/projects/{pk}/")


@login_required
@require_POST
def project_contribution(request, pk: int):
    project = _project(request, pk)
    p = request.POST
    org = get_object_or_404(Organisation, pk=p.get("organisation") or 0,
                            county_id=project.county_id)
    return _run(request, lambda: actions.do_record_contribution(
        project, org, acting_user=request.user, on=parse_date(p.get("on") or ""),
        hours=p.get("hours"), funds=p.get("funds"), note=p.get("note", "")),
        _("投入已登记。"), f"/cobuilding/projects/{pk}/")


@login_required
@require_POST
def project_complete(request, pk: int):
    project = _project(request, pk)
    return _run(request, lambda: actions.do_complete_project(
        project, acting_user=request.user, note=request.POST.get("note", "")),
        _("项目已完成。"), f"/cobuilding/projects/{pk}/")


def _photo_response(update):
    response = FileResponse(update.photo.open("rb"), content_type=update.photo_type)
    response["Cache-Control"] = "public, max-age=3600"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    return response


@require_GET
def update_photo(request, pk: int, update_id: int):
    """A progress photo: public when the project is on the board, else for staff in scope."""
    project = Project.objects.filter(pk=pk).first()
    if project is None:
        raise Http404
    if not project.is_public:
        project = _project(request, pk) if request.user.is_authenticated else None
        if project is None:
            raise Http404
    update = get_object_or_404(project.updates.exclude(photo=""), pk=update_id)
    return _photo_response(update)


def public_projects_of(place: Place):
    """Public projects under a board's place, for the board and the public page."""
    return (Project.objects.filter(place.scope_q(), is_public=True)
            .exclude(status=ProjectStatus.CANCELLED)
            .select_related("village").prefetch_related("units__organisation")
            .order_by("status", "-start_on", "-pk"))


@require_GET
def public_projects(request, place_id: int):
    place = Place.objects.filter(pk=place_id, is_active=True, kind__in=BOARD_LEVELS).first()
    if place is None:
        raise Http404
    projects = list(public_projects_of(place)[:200])
    latest = {}
    for project in projects:
        latest[project.pk] = project.updates.order_by("-at", "-pk").first()
    return render(request, "cobuilding/public.html", {
        "place": place, "projects": [{"p": p, "last": latest[p.pk]} for p in projects],
    })
