"""大走访 through /api/v1/.

- ``POST /visits`` records a visit (``visits.record`` at the household; a household outside
  the caller's places is a 404), optionally raising what was heard as a matter at once;
- ``GET /visits`` lists the visits the caller may see (``visits.view`` under their places, and
  their own), filtered by place, visitor, date range and kind; ``GET /visits/{id}`` one;
- ``POST /visits/{id}/matters`` turns a need heard on the visit into a matter (channel
  ``visit``, at the household, the person met as reporter), linked both ways;
- ``GET /visits/quota`` this week's standing: every cadre under the place for callers with
  ``visits.oversee`` (those behind first), otherwise the caller's own;
- ``GET /visits/coverage`` households not visited for ``days`` days, special groups first.

Phones and ID numbers written into what was heard are masked unless the caller holds
``people.view_sensitive`` at the household.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from pydantic import ConfigDict

from gongzhi.api.errors import ErrorOut
from gongzhi.api.pagination import DEFAULT_LIMIT, MAX_LIMIT
from gongzhi.api.params import MAX_OFFSET
from gongzhi.board.anonymise import mask_numbers
from gongzhi.core.access import has_permission
from gongzhi.core.errors import ActionError, ActionForbidden
from gongzhi.matters.models import Category, Ledger, Urgency
from gongzhi.places.models import Person, Relation

from . import actions, coverage, quota
from .access import holds_over, households_for, matters_shown, scope_place
from .models import Visit, VisitKind

router = Router(tags=["visits"])
ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut}


# ---------------------------------------------------------------- output


class PersonRef(Schema):
    id: int
    name: str


class MatterRef(Schema):
    id: int
    tracking_code: str
    title: str
    stage: str
    is_closed: bool


class PhotoOut(Schema):
    id: int
    name: str
    url: str


class VisitOut(Schema):
    id: int
    household_id: int
    household_address: str
    grid_id: int | None
    village_id: int | None
    town_id: int | None
    visited_on: dt.date
    kind: str = Field(..., description="routine, follow_up, special_group or emergency")
    visitor_id: int
    visitor_name: str
    visitor_role: str = Field(..., description="the role grant the visit was made under")
    visitor_place_id: int | None
    nobody_home: bool
    met: list[PersonRef]
    notes: str = Field(..., description="needs and opinions heard; phones and ID numbers "
                                        "masked without people.view_sensitive")
    photos: list[PhotoOut]
    matters: list[MatterRef] = Field(..., description="matters raised from this visit that "
                                                      "the caller may see")
    created_at: dt.datetime


class VisitPage(Schema):
    items: list[VisitOut]
    count: int


class StandingOut(Schema):
    user_id: int
    name: str
    roles: list[str]
    place_id: int
    place_name: str
    quota: int = Field(..., description="households to visit per ISO week")
    this_week: int = Field(..., description="different households visited this week")
    last_week: int
    behind: bool
    shortfall: int


class QuotaOut(Schema):
    week_start: dt.date
    week_end: dt.date
    place_id: int | None
    items: list[StandingOut]


class CoverageRow(Schema):
    id: int
    address: str
    name: str
    head: str | None
    grid_id: int | None
    grid_name: str | None
    last_visit: dt.date | None
    days_since: int | None
    special: bool
    special_groups: list[str]


class CoverageSummary(Schema):
    place_id: int
    name: str
    households: int
    not_visited: int
    special_not_visited: int


class CoverageOut(Schema):
    place_id: int
    days: int
    since: dt.date = Field(..., description="households with no visit on or after this day")
    count: int
    items: list[CoverageRow]
    by_place: list[CoverageSummary]


# ---------------------------------------------------------------- input


class In(Schema):
    model_config = ConfigDict(use_enum_values=True, extra="forbid")


class NeedIn(In):
    title: str = Field(..., max_length=120)
    text: str = Field("", max_length=4000, description="defaults to the visit's notes")
    ledger: Ledger = Ledger.CLAIM
    category: int | None = None
    urgency: Urgency = Urgency.NORMAL
    reporter_person: int | None = Field(None, description="one of the people met; default: "
                                                          "the head if met, else the first")


class VisitIn(In):
    household: int
    visited_on: dt.date | None = Field(None, description="default today; not in the future")
    kind: VisitKind = VisitKind.ROUTINE
    met: list[int] = Field(default_factory=list, description="members of the household met")
    nobody_home: bool = False
    notes: str = Field("", max_length=4000)
    matter: NeedIn | None = Field(None, description="raise what was heard as a matter now")


class VisitFilters(Schema):
    place: int | None = None
    visitor: int | None = None
    start: dt.date | None = Field(None, description="visited on or after")
    end: dt.date | None = Field(None, description="visited on or before")
    kind: VisitKind | None = None
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


# ---------------------------------------------------------------- loading and shaping


def _visits(request) -> QuerySet[Visit]:
    return (Visit.objects.restrict(request.auth, "view")
            .select_related("household__household_record", "visitor")
            .prefetch_related("met", "photos", "visit_matters__matter__place"))


def _out(request, visits: list[Visit]) -> list[dict]:
    user = request.auth
    visible = matters_shown(user, [link for v in visits for link in v.visit_matters.all()])
    out = []
    for v in visits:
        record = getattr(v.household, "household_record", None)
        out.append({
            "id": v.pk, "household_id": v.household_id,
            "household_address": (record.address if record else "") or v.household.name,
            "grid_id": v.grid_id, "village_id": v.village_id, "town_id": v.town_id,
            "visited_on": v.visited_on, "kind": v.kind, "visitor_id": v.visitor_id,
            "visitor_name": str(v.visitor), "visitor_role": v.visitor_role,
            "visitor_place_id": v.visitor_place_id, "nobody_home": v.nobody_home,
            "met": sorted(({"id": p.pk, "name": p.name, "head": p.relation == Relation.HEAD}
                           for p in v.met.all()), key=lambda p: (not p["head"], p["id"])),
            "notes": v.notes if holds_over(user, "people.view_sensitive", v)
            else mask_numbers(v.notes),
            "photos": [{"id": p.pk, "name": p.name,
                        "url": reverse("visits:photo", args=[v.pk, p.pk])}
                       for p in v.photos.all()],
            "matters": [{"id": link.matter.pk, "tracking_code": link.matter.tracking_code,
                         "title": link.matter.title, "stage": link.matter.stage,
                         "is_closed": link.matter.is_closed}
                        for link in v.visit_matters.all() if link.matter_id in visible],
            "created_at": v.created_at,
        })
    return out


def _one(request, visit_id: int) -> dict:
    return _out(request, [get_object_or_404(_visits(request), pk=visit_id)])[0]


def _category(county_id: int, category_id: int | None) -> Category | None:
    if category_id is None:
        return None
    category = Category.objects.filter(county_id=county_id, pk=category_id,
                                       is_active=True).first()
    if category is None:
        raise ActionError(_("所选的事项分类不存在。"))
    return category


def _need(visit_county_id: int, payload: NeedIn, reporter: Person | None) -> dict:
    return {"title": payload.title, "text": payload.text, "ledger": payload.ledger,
            "category": _category(visit_county_id, payload.category),
            "urgency": payload.urgency, "reporter_person": reporter}


# ---------------------------------------------------------------- visits


@router.post("/visits", response={201: VisitOut, **ERRORS})
def record_visit(request, payload: VisitIn):
    """Record a visit to a household within the caller's places (404 otherwise)."""
    household = get_object_or_404(households_for(request.auth).select_related("place"),
                                  pk=payload.household)
    need = None
    if payload.matter is not None:
        reporter = None
        if payload.matter.reporter_person is not None:
            if payload.matter.reporter_person not in payload.met:
                raise ActionError(_("反映人应是这次走访见到的人。"))
            reporter = Person.objects.filter(pk=payload.matter.reporter_person,
                                             household_id=household.pk).first()
        need = _need(household.place.county_id, payload.matter, reporter)
    visit = actions.do_record_visit(
        household, acting_user=request.auth, kind=payload.kind, visited_on=payload.visited_on,
        met=payload.met, nobody_home=payload.nobody_home, notes=payload.notes, need=need)
    return Status(201, _one(request, visit.pk))


@router.get("/visits", response=VisitPage)
def list_visits(request, filters: Query[VisitFilters]):
    """The visits the caller may see, newest first. ``place`` narrows to a place the caller
    holds ``visits.view`` at (404 otherwise)."""
    user = request.auth
    qs = _visits(request)
    if filters.place is not None:
        qs = qs.filter(scope_place(user, "visits.view", filters.place).scope_q())
    if filters.visitor is not None:
        qs = qs.filter(visitor_id=filters.visitor)
    if filters.start:
        qs = qs.filter(visited_on__gte=filters.start)
    if filters.end:
        qs = qs.filter(visited_on__lte=filters.end)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    qs = qs.order_by("-visited_on", "-pk")
    count = qs.count()
    page = list(qs[filters.offset:filters.offset + filters.limit]) if count else []
    return {"items": _out(request, page), "count": count}


@router.get("/visits/quota", response={200: QuotaOut, **ERRORS})
def quota_standing(request, place: int | None = None):
    """This ISO week's standing. With ``visits.oversee``: each cadre under ``place`` (default
    the caller's highest such place), those behind first; otherwise the caller's own."""
    user = request.auth
    today = timezone.localdate()
    monday = quota.week_start(today)
    if has_permission(user, "visits.oversee"):
        scope = scope_place(user, "visits.oversee", place)
        rows = quota.standings(quota.cadres(quota.grants_under(scope)), today)
        place_id = scope.pk
    elif has_permission(user, "visits.record"):
        if place is not None:
            raise ActionForbidden(_("您没有查看干部走访任务完成情况的权限。"))
        mine = quota.own_standing(user, today)
        rows, place_id = ([mine] if mine else []), None
    else:
        raise ActionForbidden(_("您没有查看干部走访任务完成情况的权限。"))
    return {"week_start": monday, "week_end": monday + dt.timedelta(days=6),
            "place_id": place_id,
            "items": [{"user_id": s.cadre.user.pk, "name": str(s.cadre.user),
                       "roles": s.cadre.roles, "place_id": s.cadre.place.pk,
                       "place_name": s.cadre.place.name, "quota": s.quota,
                       "this_week": s.this_week, "last_week": s.last_week,
                       "behind": s.behind, "shortfall": s.shortfall} for s in rows]}


@router.get("/visits/coverage", response={200: CoverageOut, **ERRORS})
def coverage_list(request, place: int | None = None,
                  days: int = Query(30, ge=1, le=coverage.MAX_DAYS),
                  special: bool = False, limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
                  offset: int = Query(0, ge=0, le=MAX_OFFSET)):
    """Households under ``place`` with no visit in the last ``days`` days: special groups
    (孤寡老人, 留守儿童, 残疾人) first, then by grid, never visited and longest ago first;
    ``by_place`` counts them for each town, village or grid beneath."""
    user = request.auth
    if not has_permission(user, "visits.view"):
        raise ActionForbidden(_("您没有查看走访覆盖情况的权限。"))
    scope = scope_place(user, "visits.view", place)
    today = timezone.localdate()
    qs = coverage.not_visited(scope, days, today, special_only=special)
    count = qs.count()
    households = list(qs[offset:offset + limit]) if count else []
    labels = coverage.group_labels([h.pk for h in households])
    return {
        "place_id": scope.pk, "days": days, "since": coverage.cutoff(days, today),
        "count": count,
        "items": [{"id": h.pk, "address": h.address, "name": h.place.name, "head": h.head,
                   "grid_id": h.place.grid_id,
                   "grid_name": h.place.grid.name if h.place.grid_id else None,
                   "last_visit": h.last_visit,
                   "days_since": (today - h.last_visit).days if h.last_visit else None,
                   "special": h.is_special, "special_groups": labels.get(h.pk, [])}
                  for h in households],
        "by_place": [{"place_id": r["place"].pk, "name": r["place"].name,
                      "households": r["households"], "not_visited": r["stale"],
                      "special_not_visited": r["special_stale"]}
                     for r in coverage.summary(scope, days, today)],
    }


@router.get("/visits/{visit_id}", response={200: VisitOut, 404: ErrorOut})
def get_visit(request, visit_id: int):
    return _one(request, visit_id)


@router.post("/visits/{visit_id}/matters", response={201: MatterRef, **ERRORS})
def raise_matter(request, visit_id: int, payload: NeedIn):
    """Raise a need heard on the visit as a matter, linked to the visit."""
    visit = get_object_or_404(Visit.objects.restrict(request.auth, "view"), pk=visit_id)
    reporter = None
    if payload.reporter_person is not None:
        reporter = visit.met.filter(pk=payload.reporter_person).first()
        if reporter is None:
            raise ActionError(_("反映人应是这次走访见到的人。"))
    matter = actions.do_raise_visit_matter(visit, acting_user=request.auth,
                                           **_need(visit.county_id, payload, reporter))
    return Status(201, matter)
