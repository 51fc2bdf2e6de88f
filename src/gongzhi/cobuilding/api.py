"""三共 through /api/v1/: needs, resources, projects (match, progress), and the public list."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.http import Http404
from django.shortcuts import get_object_or_404
from ninja import Router, Schema, Status
from ninja.pagination import paginate

from gongzhi.api.errors import ErrorOut
from gongzhi.api.pagination import Pagination
from gongzhi.board.public import board_place
from gongzhi.places.models import Organisation, Place

from . import actions
from .models import Need, Project, Resource
from .views import public_projects_of

router = Router(tags=["cobuilding"])
ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut}


class NeedIn(Schema):
    place: int
    title: str
    category: str
    description: str = ""
    location: str = ""
    raised_by_name: str = ""


class NeedOut(Schema):
    id: int
    place_id: int
    village_id: int | None
    title: str
    category: str
    status: str
    location: str
    created_at: dt.datetime


class ResourceIn(Schema):
    organisation: int
    kind: str
    title: str
    description: str = ""
    quantity: Decimal | None = None
    unit: str = ""
    availability: str = ""


class ResourceOut(Schema):
    id: int
    organisation_id: int
    kind: str
    title: str
    quantity: Decimal | None
    unit: str
    availability: str
    is_active: bool


class ProjectIn(Schema):
    resources: list[int]
    title: str = ""
    owner_name: str
    start_on: dt.date
    due_on: dt.date
    description: str = ""
    is_public: bool = True


class UnitOut(Schema):
    organisation_id: int
    name: str
    resource_id: int


class ProjectOut(Schema):
    id: int
    need_id: int
    title: str
    owner_name: str
    start_on: dt.date
    due_on: dt.date
    status: str
    progress: int
    completed_on: dt.date | None
    units: list[UnitOut]


class ProgressIn(Schema):
    percent: int
    note: str


def _project_out(project: Project) -> dict:
    return {"id": project.pk, "need_id": project.need_id, "title": project.title,
            "owner_name": project.owner_name, "start_on": project.start_on,
            "due_on": project.due_on, "status": project.status, "progress": project.progress,
            "completed_on": project.completed_on,
            "units": [{"organisation_id": u.organisation_id, "name": u.organisation.name,
                       "resource_id": u.resource_id}
                      for u in project.units.select_related("organisation")]}


@router.get("/cobuilding/needs", response=list[NeedOut])
@paginate(Pagination)
def list_needs(request, status: str | None = None):
    qs = Need.objects.restrict(request.auth, "view")
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-created_at", "-pk")


@router.post("/cobuilding/needs", response={201: NeedOut, **ERRORS})
def create_need(request, payload: NeedIn):
    place = get_object_or_404(Place, pk=payload.place)
    need = actions.do_record_need(place, acting_user=request.auth, title=payload.title,
                                  category=payload.category, description=payload.description,
                                  location=payload.location,
                                  raised_by_name=payload.raised_by_name)
    return Status(201, need)


@router.post("/cobuilding/resources", response={201: ResourceOut, **ERRORS})
def create_resource(request, payload: ResourceIn):
    org = get_object_or_404(Organisation, pk=payload.organisation)
    resource = actions.do_add_resource(
        org, acting_user=request.auth, kind=payload.kind, title=payload.title,
        description=payload.description, quantity=payload.quantity, unit=payload.unit,
        availability=payload.availability)
    return Status(201, resource)


@router.get("/cobuilding/resources", response=list[ResourceOut])
@paginate(Pagination)
def list_resources(request, organisation: int | None = None):
    qs = Resource.objects.restrict(request.auth, "view")
    if organisation is not None:
        qs = qs.filter(organisation_id=organisation)
    return qs.order_by("organisation_id", "pk")


@router.post("/cobuilding/needs/{need_id}/projects", response={201: ProjectOut, **ERRORS})
def start_project(request, need_id: int, payload: ProjectIn):
    """Match the need with resources of stationed units: a project."""
    need = get_object_or_404(Need.objects.restrict(request.auth, "view"), pk=need_id)
    ids = set(payload.resources)
    resources = list(Resource.objects.filter(pk__in=ids, county_id=need.county_id)
                     .select_related("organisation__place"))
    if len(resources) != len(ids):
        raise Http404
    project = actions.do_start_project(
        need, resources, acting_user=request.auth, title=payload.title,
        owner_name=payload.owner_name, start_on=payload.start_on, due_on=payload.due_on,
        description=payload.description, is_public=payload.is_public)
    return Status(201, _project_out(project))


@router.get("/cobuilding/projects/{project_id}", response={200: ProjectOut, 404: ErrorOut})
def get_project(request, project_id: int):
    project = get_object_or_404(Project.objects.restrict(request.auth, "view"), pk=project_id)
    return _project_out(project)


@router.post("/cobuilding/projects/{project_id}/progress", response={200: ProjectOut, **ERRORS})
def report_progress(request, project_id: int, payload: ProgressIn):
    project = get_object_or_404(Project.objects.restrict(request.auth, "view"), pk=project_id)
    actions.do_report_progress(project, acting_user=request.auth, percent=payload.percent,
                               note=payload.note)
    return _project_out(Project.objects.get(pk=project.pk))


@router.get("/public/boards/{place_id}/projects", auth=None, response={200: list[ProjectOut],
                                                                      404: ErrorOut})
def public_projects(request, place_id: int):
    """Public co-building projects under a board's place, with their progress (no login)."""
    place = board_place(place_id)
    return [_project_out(p) for p in public_projects_of(place)[:200]]
