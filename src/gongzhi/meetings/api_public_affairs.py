"""四议两公开, 三务公开 and the sunshine report meetings through /api/v1/.

Procedures, disclosures and meetings are loaded through ``restrict(request.auth, "view")``
(404 outside the caller's places); writes call the actions, which check ``meetings.disclose``
(四议两公开, 三务公开) or ``meetings.record`` (questions at a sunshine meeting) and answer 403
without them. ``/public/villages/{id}/...`` is read without authentication, anonymised like the
public page: texts with phones and ID numbers masked, nobody's name.
"""

import datetime as dt

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import ConfigDict

from gongzhi.api.errors import ErrorOut
from gongzhi.api.pagination import Pagination
from gongzhi.board.anonymise import mask_numbers
from gongzhi.core.access import has_permission
from gongzhi.core.errors import ActionError
from gongzhi.matters.models import Ledger, Matter
from gongzhi.places.models import Place, PlaceKind

from . import disclosure as dis
from . import procedures as proc
from . import sunshine as sun
from .access import may_at_village, villages_for
from .kinds import SUNSHINE
from .models import (
    Disclosure,
    DisclosureDomain,
    FourStepProcedure,
    FourStepStep,
    Meeting,
    SunshineQuestion,
    Topic,
)
from .views_public_affairs import public_procedure, public_village

router = Router(tags=["public affairs"])
ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut}
VIEW = "meetings.view"


class In(Schema):
    model_config = ConfigDict(use_enum_values=True, extra="forbid")


# ---------------------------------------------------------------------------------------------
# 四议两公开


class StepOut(Schema):
    step: str
    label: str
    state: str = Field(..., description="done, current or pending")
    topic_id: int | None
    meeting_id: int | None
    meeting_kind: str
    disclosure_id: int | None
    at: dt.datetime | None


class ProcedureOut(Schema):
    id: int
    village_id: int
    title: str
    description: str
    matter_id: int | None
    current_step: str
    is_complete: bool
    created_at: dt.datetime
    steps: list[StepOut]

    @staticmethod
    def resolve_steps(obj: FourStepProcedure) -> list[dict]:
        return [{"step": s.step, "label": s.label, "state": s.state,
                 "topic_id": s.record.topic_id if s.record else None,
                 "meeting_id": s.meeting.pk if s.meeting else None,
                 "meeting_kind": s.meeting.kind.code if s.meeting else "",
                 "disclosure_id": s.record.disclosure_id if s.record else None,
                 "at": s.record.at if s.record else None}
                for s in proc.procedure_steps(obj)]


class ProcedureIn(In):
    village: int
    title: str = Field(..., max_length=120)
    description: str = Field("", max_length=5000)
    matter: int | None = None


class StepIn(In):
    step: FourStepStep
    topic: int | None = Field(None, description="the passed topic, for the four meeting steps")
    content: str = Field("", max_length=20000,
                         description="for 决议公开 (added text) and 实施结果公开 (the result)")


def _procedures(request):
    return proc.with_records(FourStepProcedure.objects.restrict(request.auth, "view"))


def _village(request, village_id: int) -> Place:
    return get_object_or_404(villages_for(request.auth, VIEW), pk=village_id)


@router.get("/fourstep-procedures", response=list[ProcedureOut])
@paginate(Pagination)
def list_procedures(request, village: int | None = None, complete: bool | None = None):
    """四议两公开 procedures in the caller's villages, newest first."""
    qs = _procedures(request)
    if village is not None:
        qs = qs.filter(village_id=village)
    if complete is not None:
        qs = qs.filter(is_complete=complete)
    return qs.order_by("-created_at", "-pk")


@router.post("/fourstep-procedures", response={201: ProcedureOut, **ERRORS})
def start_procedure(request, payload: ProcedureIn):
    village = _village(request, payload.village)
    matter = None
    if payload.matter is not None:
        matter = get_object_or_404(Matter.objects.restrict(request.auth, "view"),
                                   pk=payload.matter)
    procedure = proc.do_start_fourstep(village, acting_user=request.auth, title=payload.title,
                                       description=payload.description, matter=matter)
    return Status(201, procedure)


@router.get("/fourstep-procedures/{procedure_id}", response={200: ProcedureOut, 404: ErrorOut})
def get_procedure(request, procedure_id: int):
    return get_object_or_404(_procedures(request), pk=procedure_id)


@router.post("/fourstep-procedures/{procedure_id}/steps", response={200: ProcedureOut, **ERRORS})
def take_step(request, procedure_id: int, payload: StepIn):
    """Complete the next step: a meeting step with ``topic`` (a topic of the right kind of
    meeting with a passed vote), or 决议公开 / 实施结果公开 with ``content``. A step out of
    order is refused (400) with a sentence naming the step required."""
    procedure = get_object_or_404(_procedures(request), pk=procedure_id)
    step = payload.step
    if step == FourStepStep.RESOLUTION_PUBLISHED:
        proc.do_publish_fourstep_resolution(procedure, acting_user=request.auth,
                                            content=payload.content)
    elif step == FourStepStep.RESULT_PUBLISHED:
        proc.do_publish_fourstep_result(procedure, acting_user=request.auth,
                                        content=payload.content)
    else:
        if payload.topic is None:
            raise ActionError(_("请选择作为依据的会议议题。"))
        topic = get_object_or_404(Topic.objects.restrict(request.auth, "view"), pk=payload.topic)
        proc.do_record_fourstep_step(procedure, step, topic, acting_user=request.auth)
    return _procedures(request).get(pk=procedure.pk)


# ---------------------------------------------------------------------------------------------
# 三务公开


class DisclosureOut(Schema):
    id: int
    village_id: int
    domain: str
    title: str
    content: str
    period_start: dt.date
    period_end: dt.date
    is_major: bool
    published_at: dt.datetime | None
    meeting_id: int | None


class DisclosureIn(In):
    village: int
    domain: DisclosureDomain
    title: str = Field(..., max_length=120)
    content: str = Field(..., max_length=20000)
    period_start: dt.date | None = None
    period_end: dt.date | None = None
    is_major: bool = False
    meeting: int | None = Field(None, description="the sunshine report meeting it was reported at")


class PeriodOut(Schema):
    domain: str
    rhythm: str
    label: str
    start: dt.date
    end: dt.date
    due: dt.date
    status: str = Field(..., description="covered, late, due, overdue or open")
    first_published: dt.date | None
    items: list[int]

    @staticmethod
    def resolve_items(obj) -> list[int]:
        return [i.pk for i in obj.items]


class CoverageOut(Schema):
    village_id: int
    periods: list[PeriodOut]


@router.get("/disclosures", response=list[DisclosureOut])
@paginate(Pagination)
def list_disclosures(request, village: int | None = None, domain: DisclosureDomain | None = None,
                     meeting: int | None = None):
    qs = Disclosure.objects.restrict(request.auth, "view")
    if village is not None:
        qs = qs.filter(village_id=village)
    if domain:
        qs = qs.filter(domain=domain)
    if meeting is not None:
        qs = qs.filter(meeting_id=meeting)
    return qs.order_by("-published_at", "-pk")


@router.post("/disclosures", response={201: DisclosureOut, **ERRORS})
def publish_disclosure(request, payload: DisclosureIn):
    """Publish a 三务公开 item (a major one at once, for today unless a period is given)."""
    village = _village(request, payload.village)
    meeting = None
    if payload.meeting is not None:
        meeting = get_object_or_404(Meeting.objects.restrict(request.auth, "view"),
                                    pk=payload.meeting)
    item = dis.do_publish_disclosure(
        village, acting_user=request.auth, domain=payload.domain, title=payload.title,
        content=payload.content, period_start=payload.period_start,
        period_end=payload.period_end, is_major=payload.is_major, meeting=meeting)
    return Status(201, item)


@router.get("/disclosures/coverage/{village_id}", response={200: CoverageOut, 404: ErrorOut})
def disclosure_coverage(request, village_id: int):
    """Which periods of each domain are covered, late, due or overdue (a year back)."""
    village = _village(request, village_id)
    cov = dis.coverage([village])[village.pk]
    return {"village_id": village.pk,
            "periods": [p for d in DisclosureDomain.values for p in cov[d]]}


# ---------------------------------------------------------------------------------------------
# Sunshine report meetings


class FiguresOut(Schema):
    place_id: int
    start: dt.date
    end: dt.date
    meetings: int
    items_disclosed: int
    questions_raised: int
    answered_on_spot: int
    turned_into_matters: int
    matters_closed: int
    matters_resolved: int
    resolved: int
    unresolved: int
    resolved_rate: float | None


class QuestionOut(Schema):
    id: int
    meeting_id: int
    asked_by: str
    text: str
    answered_on_spot: bool
    answer: str
    matter_id: int | None
    is_resolved: bool
    at: dt.datetime


class QuestionIn(In):
    text: str = Field(..., max_length=5000)
    asked_by: str = Field("", max_length=60)
    answer: str = Field("", max_length=5000, description="given: answered on the spot")


class AnswerIn(In):
    answer: str = Field(..., max_length=5000)


class ToMatterIn(In):
    title: str = Field("", max_length=120)
    ledger: Ledger = Ledger.SUGGESTION
    matter: int | None = Field(None, description="link an open matter instead of raising one")


@router.get("/sunshine/figures", response={200: FiguresOut, 404: ErrorOut})
def figures(request, place: int, start: dt.date | None = None, end: dt.date | None = None):
    """Items disclosed, questions raised, answered on the spot and resolved at the sunshine
    report meetings under ``place`` (a county, town or village) from ``start`` to ``end``
    (this calendar year by default)."""
    scope = get_object_or_404(Place.objects.filter(
        kind__in=(PlaceKind.COUNTY, PlaceKind.TOWN, PlaceKind.VILLAGE)), pk=place)
    allowed = (may_at_village(request.auth, VIEW, scope) if scope.kind == PlaceKind.VILLAGE
               else has_permission(request.auth, VIEW, scope))
    if not allowed:
        raise Http404
    today = timezone.localdate()
    start = start or dt.date(today.year, 1, 1)
    end = end or dt.date(today.year, 12, 31)
    f = sun.sunshine_figures(scope, start, end)
    return {"place_id": scope.pk, "start": start, "end": end, **f.as_dict()}


def _sunshine_meeting(request, meeting_id: int) -> Meeting:
    return get_object_or_404(Meeting.objects.restrict(request.auth, "view")
                             .select_related("kind", "place", "village"),
                             pk=meeting_id, kind__code=SUNSHINE)


def _question(request, question_id: int) -> SunshineQuestion:
    meetings = Meeting.objects.restrict(request.auth, "view").filter(kind__code=SUNSHINE)
    return get_object_or_404(SunshineQuestion.objects.filter(meeting__in=meetings)
                             .select_related("meeting__kind", "meeting__place"), pk=question_id)


@router.get("/sunshine/meetings/{meeting_id}/questions",
            response={200: list[QuestionOut], 404: ErrorOut})
def list_questions(request, meeting_id: int):
    meeting = _sunshine_meeting(request, meeting_id)
    return list(SunshineQuestion.objects.filter(meeting=meeting)
                .select_related("matter__merged_into").order_by("at", "pk"))


@router.post("/sunshine/meetings/{meeting_id}/questions", response={201: QuestionOut, **ERRORS})
def record_question(request, meeting_id: int, payload: QuestionIn):
    meeting = _sunshine_meeting(request, meeting_id)
    q = sun.do_record_question(meeting, acting_user=request.auth, text=payload.text,
                               asked_by=payload.asked_by, answer=payload.answer)
    return Status(201, q)


@router.post("/sunshine/questions/{question_id}/answer", response={200: QuestionOut, **ERRORS})
def answer_question(request, question_id: int, payload: AnswerIn):
    q = _question(request, question_id)
    return sun.do_answer_question(q, acting_user=request.auth, answer=payload.answer)


@router.post("/sunshine/questions/{question_id}/matter", response={200: QuestionOut, **ERRORS})
def question_to_matter(request, question_id: int, payload: ToMatterIn):
    q = _question(request, question_id)
    matter = None
    if payload.matter is not None:
        matter = get_object_or_404(Matter.objects.restrict(request.auth, "view"),
                                   pk=payload.matter)
    return sun.do_turn_question_into_matter(q, acting_user=request.auth, title=payload.title,
                                            ledger=payload.ledger, matter=matter)


# ---------------------------------------------------------------------------------------------
# Public (no login)


class PublicDisclosureOut(Schema):
    """An item as the public reads it: phones and ID numbers in its texts masked."""

    id: int
    domain: str
    domain_label: str
    title: str
    content: str
    period_start: dt.date
    period_end: dt.date
    is_major: bool
    published_at: dt.datetime | None
    meeting_title: str

    @staticmethod
    def resolve_domain_label(obj: Disclosure) -> str:
        return str(obj.get_domain_display())

    @staticmethod
    def resolve_title(obj: Disclosure) -> str:
        return mask_numbers(obj.title)

    @staticmethod
    def resolve_content(obj: Disclosure) -> str:
        return mask_numbers(obj.content)

    @staticmethod
    def resolve_meeting_title(obj: Disclosure) -> str:
        return obj.meeting.title if obj.meeting_id else ""


class PublicStepOut(Schema):
    step: str
    label: str
    state: str
    date: dt.date | None
    kind: str
    vote: dict | None
    disclosure_id: int | None


class PublicProcedureOut(Schema):
    id: int
    title: str
    is_complete: bool
    current_step: str
    current_label: str
    steps: list[PublicStepOut]


@router.get("/public/villages/{village_id}/disclosures", auth=None,
            response={200: list[PublicDisclosureOut], 404: ErrorOut})
@paginate(Pagination)
def public_disclosures(request, village_id: int, domain: DisclosureDomain | None = None):
    """A village's published 三务公开 items, newest first (phones and ID numbers masked)."""
    village = public_village(village_id)
    qs = (Disclosure.objects.filter(village_id=village.pk, published_at__isnull=False)
          .select_related("meeting").order_by("-published_at", "-pk"))
    if domain:
        qs = qs.filter(domain=domain)
    return qs


@router.get("/public/villages/{village_id}/fourstep-procedures", auth=None,
            response={200: list[PublicProcedureOut], 404: ErrorOut})
def public_procedures(request, village_id: int):
    village = public_village(village_id)
    return [public_procedure(p) for p in proc.with_records(FourStepProcedure.objects.filter(
        village_id=village.pk)).order_by("is_complete", "-created_at")[:50]]
