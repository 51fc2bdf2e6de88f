"""说 through /api/v1/: matters, their transitions and timelines; categories; the workflow.

Every matter named in a request is loaded through ``Matter.objects.restrict(request.auth,
"view")``: one outside the caller's places, or a complaint about the caller or the caller's
unit, is a 404. Writes call the actions (``do_raise_matter``, ``workflow.do_transition``,
``do_add_note``, ``do_merge_matters``), which answer 403 (``ActionForbidden``) when the caller
may not do it and 400 (``ActionError``, with the sentence in ``detail``) when it cannot be done;
either way nothing changes.

Who raised a matter is answered only to callers ``reporter_visible_to`` allows: for a complaint
(投诉举报) only the roles the locality allows, never the unit or person complained about, and
each such answer is written to the audit chain. Otherwise ``reporter`` is null.

``GET /public/matters/{tracking_code}`` needs no authentication and answers the anonymised
public view (as the board shows it).
"""

from datetime import datetime
from typing import Any

from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import ConfigDict

from gongzhi.accounts.models import User
from gongzhi.api.errors import ErrorOut
from gongzhi.api.pagination import Pagination
from gongzhi.board.api import PublicMatterOut
from gongzhi.board.public import public_matter
from gongzhi.core.access import has_permission, user_grants
from gongzhi.core.errors import ActionError
from gongzhi.core.privacy import mask_phone
from gongzhi.places.models import Organisation, Person, Place, PlaceKind

from . import workflow
from .actions import (
    do_add_note,
    do_merge_matters,
    do_raise_matter,
    matter_settings,
    similar_open_matters,
)
from .models import (
    Category,
    Channel,
    EventKind,
    HandlingMode,
    Ledger,
    Matter,
    MatterEvent,
    Outcome,
    StageKind,
    Urgency,
    reporter_visible_to,
)
from .reporter_actions import do_view_reporter, reporter_of

router = Router(tags=["matters"])

ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut}


# ---------------------------------------------------------------- output


def _stage_name(matter: Matter) -> str:
    try:
        return workflow.workflow_of(matter.workflow).stage(matter.stage).get("name") or (
            matter.stage)
    except KeyError:
        return matter.stage


class MatterOut(Schema):
    id: int
    tracking_code: str
    title: str
    ledger: str
    channel: str
    urgency: str
    category_id: int | None
    category_name: str | None
    place_id: int
    place_name: str = Field(..., alias="place.name")
    county_id: int
    town_id: int | None
    village_id: int | None
    grid_id: int | None
    queue_place_id: int = Field(..., description="the level whose queue the matter waits in")
    workflow_id: int
    stage: str
    stage_name: str
    stage_kind: str
    stage_deadline: datetime | None
    deadline_uncertain: bool = Field(..., description="the deadline crosses a year the "
                                                      "working-day calendar does not know")
    is_overdue: bool
    is_closed: bool
    is_public: bool = Field(..., description="on the public board")
    merged_into_id: int | None
    handling_mode: str
    responsible_user_id: int | None
    responsible_org_id: int | None
    due_at: datetime | None
    outcome: str
    reopen_count: int
    escalation_count: int
    created_at: datetime
    accepted_at: datetime | None
    feedback_at: datetime | None
    closed_at: datetime | None

    @staticmethod
    def resolve_category_name(obj: Matter) -> str | None:
        return obj.category.name if obj.category_id else None

    @staticmethod
    def resolve_stage_name(obj: Matter) -> str:
        return _stage_name(obj)

    @staticmethod
    def resolve_is_overdue(obj: Matter) -> bool:
        return obj.is_overdue()


class TransitionOut(Schema):
    """A step the caller may take now (``POST /matters/{id}/transitions``)."""

    key: str
    name: str
    to: str
    to_name: str
    requires_comment: bool
    requires_attachment: bool
    required_fields: list[str]


class ReporterOut(Schema):
    anonymous: bool
    person_id: int | None
    name: str
    phone: str = Field(..., description="in full for those who handle the matter, else masked")


class MatterDetailOut(MatterOut):
    text: str
    attributes: dict[str, Any]
    outcome_text: str
    explanation: str
    accused_organisation_id: int | None
    source_ref: str
    published_at: datetime | None
    transitions: list[TransitionOut]
    reporter_visible: bool = Field(..., description="whether the caller may know who raised it")
    reporter: ReporterOut | None = Field(None, description="null unless reporter_visible")


class SimilarOut(Schema):
    id: int
    tracking_code: str
    title: str
    score: int = Field(..., description="similarity in percent")


class MatterCreatedOut(MatterDetailOut):
    similar: list[SimilarOut] = Field(..., description="open matters alike at the same place "
                                                       "and category (candidates to merge)")


class EventOut(Schema):
    id: int
    at: datetime
    kind: str
    kind_label: str
    transition: str
    from_stage: str
    to_stage: str
    summary: str
    comment: str
    is_public: bool = Field(..., description="shown on the public board (anonymised)")
    actor_id: int | None
    actor_name: str | None
    actor_organisation: str | None

    @staticmethod
    def resolve_kind_label(obj: MatterEvent) -> str:
        return str(obj.get_kind_display())

    @staticmethod
    def resolve_actor_name(obj: MatterEvent) -> str | None:
        return str(obj.actor) if obj.actor_id else None

    @staticmethod
    def resolve_actor_organisation(obj: MatterEvent) -> str | None:
        if obj.actor_id and obj.actor.organisation_id:
            return obj.actor.organisation.name
        return None


class CategoryOut(Schema):
    id: int
    county_id: int
    parent_id: int | None
    code: str
    name: str
    description: str
    questions: list[dict[str, Any]] = Field(..., description="extra questions (Open311 "
                                                             "attributes)")
    default_department_id: int | None
    sort_order: int
    is_active: bool


class StageOut(Schema):
    key: str
    name: str
    kind: str
    kind_label: str
    limit: dict[str, float] | None = Field(None, description='{"hours": N} or '
                                                             '{"working_days": N}')
    urgent_limit: dict[str, float] | None = None
    on_timeout: list[str] = []
    description: str = ""


class WorkflowTransitionOut(Schema):
    key: str
    name: str
    from_stages: list[str] = Field(..., description='source stages ("*" for every stage)')
    to: str
    roles: list[str]
    requires: dict[str, Any]
    trigger: str | None = Field(None, description="evaluated, dissatisfied or no_answer: taken "
                                                  "by the system, not by a person")


class WorkflowOut(Schema):
    id: int
    county_id: int
    preset: str
    key: str
    name: str
    version: int
    initial: str
    stages: list[StageOut]
    transitions: list[WorkflowTransitionOut]
    policy: dict[str, Any]


# ---------------------------------------------------------------- input


class In(Schema):
    model_config = ConfigDict(use_enum_values=True, extra="forbid")


class MatterIn(In):
    place_id: int = Field(..., description="a village, grid or household (a town or county "
                                           "only for channels from above)")
    title: str = Field(..., max_length=120)
    text: str
    channel: Channel
    ledger: Ledger
    category_id: int | None = None
    urgency: Urgency = Urgency.NORMAL
    reporter_person_id: int | None = Field(None, description="a registered person")
    reporter_name: str = Field("", max_length=60)
    reporter_phone: str = Field("", max_length=20)
    anonymous: bool = False
    accused_organisation_id: int | None = Field(None, description="for complaints: the unit "
                                                                  "complained about")
    source_ref: str = Field("", max_length=64, description="an outside number, e.g. the 12345 "
                                                         "work order's")


class TransitionFieldsIn(In):
    """The fields a transition may set (a workflow's ``requires.fields`` says which it needs)."""

    outcome: Outcome | None = None
    outcome_text: str | None = None
    explanation: str | None = Field(None, description="required when outcome is unsolvable")
    handling_mode: HandlingMode | None = None
    responsible_user: int | None = None
    responsible_org: int | None = None
    due_at: datetime | None = None
    category: int | None = None


class TransitionIn(In):
    transition: str = Field(..., description="a key from the matter's ``transitions``")
    comment: str = ""
    fields: TransitionFieldsIn | None = None


class NoteIn(In):
    text: str
    is_public: bool = Field(False, description="show the note on the public board (anonymised)")


class MergeIn(In):
    into: int = Field(..., description="the open matter this one duplicates")


# ---------------------------------------------------------------- helpers


def _matters(request):
    return Matter.objects.restrict(request.auth, "view")


def _matter(request, matter_id: int) -> Matter:
    return get_object_or_404(
        _matters(request).select_related("place", "queue_place", "workflow", "category",
                                         "reporter_person"),
        pk=matter_id,
    )


def _transitions(matter: Matter, user) -> list[dict[str, Any]]:
    wf = workflow.workflow_of(matter.workflow)
    rows = []
    for t in workflow.available_transitions(matter, user):
        requires = t.get("requires") or {}
        try:
            to_name = wf.stage(t["to"]).get("name") or t["to"]
        except KeyError:
            to_name = t["to"]
        rows.append({"key": t["key"], "name": t.get("name") or t["key"], "to": t["to"],
                     "to_name": to_name, "requires_comment": bool(requires.get("comment")),
                     "requires_attachment": bool(requires.get("attachment")),
                     "required_fields": list(requires.get("fields") or [])})
    return rows


def _reporter(user, matter: Matter) -> dict[str, Any] | None:
    """Who raised it, for those allowed; a complaint's reporter through the audited action."""
    if not reporter_visible_to(user, matter):
        return None
    shown = do_view_reporter(matter, acting_user=user, reason="api") if matter.is_complaint else (
        reporter_of(matter))
    phone = shown["phone"]
    if not has_permission(user, "matters.handle", matter.place):
        phone = mask_phone(phone)
    person = shown["person"]
    return {"anonymous": shown["anonymous"], "person_id": person.pk if person else None,
            "name": shown["name"], "phone": phone}


def _detail(request, matter: Matter) -> Matter:
    user = request.auth
    matter.transitions = _transitions(matter, user)
    matter.reporter_visible = reporter_visible_to(user, matter)
    matter.reporter = _reporter(user, matter)
    return matter


def _reload(request, matter_id: int) -> Matter:
    return _detail(request, _matter(request, matter_id))


def _category(county_id: int, category_id: int | None) -> Category | None:
    if category_id is None:
        return None
    category = Category.objects.filter(pk=category_id, county_id=county_id).first()
    if category is None:
        raise ActionError(_("事项分类不存在或不属于本地。"))
    return category


def _organisation(county_id: int, organisation_id: int | None) -> Organisation | None:
    if organisation_id is None:
        return None
    org = Organisation.objects.filter(pk=organisation_id, county_id=county_id).first()
    if org is None:
        raise ActionError(_("单位不存在或不属于本县（区）。"))
    return org


def _user(county_id: int, user_id: int | None) -> User | None:
    if user_id is None:
        return None
    user = User.objects.filter(pk=user_id, is_active=True).filter(
        Q(county_id=county_id) | Q(grants__county_id=county_id)).distinct().first()
    if user is None:
        raise ActionError(_("责任人不存在、已停用或不属于本县（区）。"))
    return user


def _counties(user) -> set[int]:
    if user.is_superuser:
        return set(Place.objects.filter(kind=PlaceKind.COUNTY).values_list("pk", flat=True))
    ids = {g.county_id for g in user_grants(user)}
    if user.county_id:
        ids.add(user.county_id)
    return ids


def _county(request, county: int | None) -> int:
    """The county a request is about: the one named (if the caller works there), else the
    caller's only one."""
    counties = _counties(request.auth)
    if county is not None:
        if county not in counties:
            raise Http404
        return county
    if request.auth.county_id and request.auth.county_id in counties:
        return request.auth.county_id
    if len(counties) == 1:
        return next(iter(counties))
    if not counties:
        raise Http404
    raise ActionError(_("请用 county 参数指定县（区）。"))


# ---------------------------------------------------------------- matters


@router.get("/matters", response=list[MatterOut])
@paginate(Pagination)
def list_matters(request, ledger: Ledger | None = None, category: int | None = None,
                 stage: str | None = None, channel: Channel | None = None,
                 place: int | None = None, overdue: bool | None = None,
                 status: str | None = Query(None, pattern="^(open|closed)$"),
                 urgency: Urgency | None = None, q: str | None = None):
    """Matters the caller may see, newest first. ``place`` (a place the caller may see, else
    404) includes everything beneath it; ``category`` includes its sub-categories;
    ``overdue=true`` lists open matters past their stage's deadline; ``q`` matches the title,
    the text or the tracking code."""
    qs = _matters(request)
    if ledger:
        qs = qs.filter(ledger=ledger)
    if category is not None:
        qs = qs.filter(Q(category_id=category) | Q(category__parent_id=category))
    if stage:
        qs = qs.filter(stage=stage)
    if channel:
        qs = qs.filter(channel=channel)
    if place is not None:
        scope = get_object_or_404(Place.objects.restrict(request.auth, "view"), pk=place)
        qs = qs.filter(scope.scope_q())
    if overdue is not None:
        late = Q(is_closed=False, merged_into__isnull=True, stage_deadline__lt=timezone.now())
        qs = qs.filter(late) if overdue else qs.exclude(late)
    if status == "open":
        qs = qs.filter(is_closed=False)
    elif status == "closed":
        qs = qs.filter(is_closed=True)
    if urgency:
        qs = qs.filter(urgency=urgency)
    if q:
        text = q.strip()
        qs = qs.filter(Q(title__icontains=text) | Q(text__icontains=text)
                       | Q(tracking_code=text.upper()))
    return qs.select_related("place", "workflow", "category").order_by("-created_at", "-pk")


@router.post("/matters", response={201: MatterCreatedOut, **ERRORS})
def raise_matter(request, payload: MatterIn):
    """登记: raise a matter on a resident's behalf (``matters.raise`` at the place). The answer
    carries the ``tracking_code`` to give the resident, and open matters that look alike."""
    user = request.auth
    place = get_object_or_404(Place.objects.restrict(user, "view"), pk=payload.place_id)
    person = None
    if payload.reporter_person_id is not None:
        person = get_object_or_404(Person.objects.restrict(user, "view"),
                                   pk=payload.reporter_person_id)
    matter = do_raise_matter(
        place=place, title=payload.title, text=payload.text, channel=payload.channel,
        ledger=payload.ledger, acting_user=user,
        category=_category(place.county_id or place.pk, payload.category_id),
        urgency=payload.urgency, reporter_person=person, reporter_name=payload.reporter_name,
        reporter_phone=payload.reporter_phone, is_anonymous=payload.anonymous,
        accused_organisation=_organisation(place.county_id or place.pk,
                                           payload.accused_organisation_id),
        source_ref=payload.source_ref,
    )
    matter = _reload(request, matter.pk)
    found = similar_open_matters(matter.place, matter.category,
                                 f"{matter.title} {matter.text}")
    visible = set(_matters(request).filter(pk__in=[m.pk for m, _s in found])
                  .values_list("pk", flat=True))
    matter.similar = [{"id": m.pk, "tracking_code": m.tracking_code, "title": m.title,
                       "score": round(score * 100)}
                      for m, score in found if m.pk != matter.pk and m.pk in visible]
    return Status(201, matter)


@router.get("/matters/{matter_id}", response={200: MatterDetailOut, 404: ErrorOut})
def get_matter(request, matter_id: int):
    """One matter with the transitions the caller may take now. ``reporter`` is null unless
    the caller may know who raised it; showing a complaint's reporter is audited."""
    return _reload(request, matter_id)


@router.post("/matters/{matter_id}/transitions", response={200: MatterDetailOut, **ERRORS})
def take_transition(request, matter_id: int, payload: TransitionIn):
    """Take a step of the workflow. 400 when it is not possible from the current stage or
    something it requires is missing (``detail`` says what), 403 when the caller's role may not
    take it; in both cases nothing changes."""
    matter = _matter(request, matter_id)
    fields: dict[str, Any] = {}
    if payload.fields is not None:
        given = payload.fields.model_dump(exclude_none=True)
        county_id = matter.county_id
        for name, value in given.items():
            if name == "responsible_user":
                value = _user(county_id, value)
            elif name == "responsible_org":
                value = _organisation(county_id, value)
            elif name == "category":
                value = _category(county_id, value)
            fields[name] = value
    workflow.do_transition(matter, payload.transition, acting_user=request.auth,
                           comment=payload.comment, fields=fields)
    return _reload(request, matter_id)


@router.get("/matters/{matter_id}/timeline", response={200: list[EventOut], 404: ErrorOut})
def timeline(request, matter_id: int):
    """Every step of the matter, oldest first, with who took it. Notes of return visits (which
    may name the reporter) are blank for callers who may not know the reporter."""
    matter = _matter(request, matter_id)
    events = list(MatterEvent.objects.filter(matter=matter)
                  .select_related("actor__organisation").order_by("at", "pk"))
    if not reporter_visible_to(request.auth, matter):
        for e in events:
            if e.kind == EventKind.RETURN_VISIT:
                e.comment = ""
    return events


@router.post("/matters/{matter_id}/notes", response={201: EventOut, **ERRORS})
def add_note(request, matter_id: int, payload: NoteIn):
    """A progress note (办理进展) on the timeline, by those who handle the matter."""
    matter = _matter(request, matter_id)
    event = do_add_note(matter, payload.text, acting_user=request.auth,
                        is_public=payload.is_public)
    return Status(201, MatterEvent.objects.select_related("actor__organisation").get(
        pk=event.pk))


@router.post("/matters/{matter_id}/merge", response={200: MatterDetailOut, **ERRORS})
def merge(request, matter_id: int, payload: MergeIn):
    """Merge this matter, a duplicate, into an open one (``matters.merge``); it closes,
    pointing at the survivor, and never goes on the board."""
    matter = _matter(request, matter_id)
    into = _matter(request, payload.into)
    do_merge_matters(matter, into, acting_user=request.auth)
    return _reload(request, matter_id)


# ---------------------------------------------------------------- the locality's set-up


@router.get("/categories", response={200: list[CategoryOut], 400: ErrorOut, 404: ErrorOut})
def categories(request, county: int | None = None, include_inactive: bool = False):
    """The category tree of the caller's county (or of ``county``, where the caller works),
    parents before children."""
    county_id = _county(request, county)
    matter_settings(county_id)  # a county that never chose a preset gets the default's tree
    qs = Category.objects.filter(county_id=county_id)
    if not include_inactive:
        qs = qs.filter(is_active=True)
    items = list(qs.order_by("sort_order", "pk"))
    roots = [c for c in items if c.parent_id is None]
    by_parent: dict[int, list[Category]] = {}
    for c in items:
        if c.parent_id is not None:
            by_parent.setdefault(c.parent_id, []).append(c)
    ordered = []

    def walk(nodes):
        for node in nodes:
            ordered.append(node)
            walk(by_parent.get(node.pk, []))

    walk(roots)
    seen = {c.pk for c in ordered}
    return ordered + [c for c in items if c.pk not in seen]


@router.get("/workflow", response={200: WorkflowOut, 400: ErrorOut, 404: ErrorOut})
def current_workflow(request, county: int | None = None):
    """The workflow new matters of the caller's county follow now (matters keep the version
    they started under: ``workflow_id`` on each), with the locality's policy."""
    county_id = _county(request, county)
    settings = matter_settings(county_id)
    defn = settings.workflow
    wf = workflow.workflow_of(defn)
    kinds = dict(StageKind.choices)
    return {
        "id": defn.pk, "county_id": county_id, "preset": settings.preset, "key": defn.key,
        "name": defn.name, "version": defn.version, "initial": wf.initial,
        "stages": [{**s, "name": s.get("name") or s["key"],
                    "kind_label": str(kinds.get(s["kind"], s["kind"]))} for s in wf.stages()],
        "transitions": [{**t, "name": t.get("name") or t["key"],
                         "from_stages": ["*"] if t.get("from") == "*" else list(t.get("from")),
                         "requires": t.get("requires") or {}, "roles": t.get("roles") or []}
                        for t in defn.definition.get("transitions", [])],
        "policy": settings.policy,
    }


# ---------------------------------------------------------------- public


@router.get("/public/matters/{tracking_code}", auth=None,
            response={200: PublicMatterOut, 404: ErrorOut})
def public_view(request, tracking_code: str):
    """What the holder of a tracking code may read, without logging in: the anonymised public
    view (no reporter, no names; phones and ID numbers masked; a complaint only by its
    category, place, stage and outcome)."""
    code = "".join(ch for ch in tracking_code.upper() if ch.isalnum())[:12]
    matter = get_object_or_404(Matter.objects.all(), tracking_code=code)
    return public_matter(matter)
