"""评 through /api/v1/.

Staff (a token or a session): a matter's evaluations and return visits, loaded through
``Matter.objects.restrict(request.auth, "view")`` (404 outside the caller's places); writes
need ``matters.evaluate`` at the matter's place (403).

The reporter (no authentication): ``GET /evaluate/{token}`` says what is to be rated and
whether the link still works; ``POST /evaluate/{token}`` submits the rating, once, before the
deadline. The token is the one in the link ``/e/{token}/`` the reporter was sent.
"""

from datetime import datetime

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import ConfigDict

from gongzhi.api.errors import ErrorOut
from gongzhi.api.pagination import Pagination
from gongzhi.core.access import has_permission
from gongzhi.core.errors import ActionForbidden
from gongzhi.matters.models import Matter, reporter_visible_to

from . import actions, tokens
from .models import (
    ASPECTS,
    Evaluation,
    EvaluationRequest,
    EvaluatorKind,
    RequestStatus,
    Resolved,
    ReturnVisit,
    Satisfaction,
)

router = Router(tags=["evaluation"])
ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut}


class EvaluationOut(Schema):
    id: int
    matter_id: int
    kind: str
    via: str
    outcome: str = Field(..., description="satisfied, basic, dissatisfied or no_answer")
    attitude: str
    efficiency: str
    result: str
    effect: str
    comment: str
    evaluator_name: str
    organisation_id: int | None
    round: int
    reopened: bool
    by_id: int | None
    at: datetime


class ReturnVisitOut(Schema):
    id: int
    matter_id: int
    by_id: int | None
    at: datetime
    reached: bool
    resolved: str
    satisfaction: str
    notes: str
    evaluation_id: int | None


class RequestOut(Schema):
    id: int
    round: int
    status: str
    created_at: datetime
    expires_at: datetime
    deadline_uncertain: bool
    link: str | None = Field(None, description="the reporter's link, while it works")


class In(Schema):
    model_config = ConfigDict(use_enum_values=True, extra="forbid")


class RatingIn(In):
    outcome: Satisfaction
    attitude: Satisfaction | None = None
    efficiency: Satisfaction | None = None
    result: Satisfaction | None = None
    effect: Satisfaction | None = Field(None, description="where the locality rates it (安泽)")
    comment: str = Field("", max_length=2000)

    def aspects(self) -> dict[str, str]:
        return {k: v for k, v in self.model_dump(
            include={"attitude", "efficiency", "result", "effect"}).items() if v}


class StaffEvaluationIn(RatingIn):
    kind: EvaluatorKind = Field(..., description="party_member, unit, department or superior "
                                                 "(those the locality's policy lists)")
    evaluator_name: str = Field("", max_length=60)
    organisation: int | None = None


class ReturnVisitIn(In):
    reached: bool
    resolved: Resolved | None = None
    satisfaction: Satisfaction | None = None
    notes: str = Field("", max_length=2000)
    at: datetime | None = None
    as_evaluation: bool = Field(False, description="record the satisfaction as the reporter's "
                                                   "evaluation (不满意 reopens the matter)")


def _matter(request, matter_id: int) -> Matter:
    return get_object_or_404(Matter.objects.restrict(request.auth, "view")
                             .select_related("place", "workflow"), pk=matter_id)


def _hide_reporter_comment(request, matter: Matter, evaluations):
    if reporter_visible_to(request.auth, matter):
        return evaluations
    for e in evaluations:
        if e.kind == EvaluatorKind.REPORTER:
            e.comment = ""
    return evaluations


@router.get("/matters/{matter_id}/evaluations", response=list[EvaluationOut])
@paginate(Pagination)
def list_evaluations(request, matter_id: int):
    """Every rating of the matter, the reporter's ``no_answer`` records included."""
    matter = _matter(request, matter_id)
    return _hide_reporter_comment(request, matter,
                                  list(Evaluation.objects.filter(matter=matter).order_by("at",
                                                                                         "id")))


@router.post("/matters/{matter_id}/evaluations", response={201: EvaluationOut, **ERRORS})
def record_evaluation(request, matter_id: int, payload: StaffEvaluationIn):
    """党员议评, 单位参评, 部门协评 or 上级考评, entered by staff (``matters.evaluate``)."""
    matter = _matter(request, matter_id)
    org = None
    if payload.organisation is not None:
        org = get_object_or_404(actions.organisations_for(request.auth, matter),
                                pk=payload.organisation)
    evaluation = actions.do_record_evaluation(
        matter, acting_user=request.auth, kind=payload.kind, outcome=payload.outcome,
        aspects=payload.aspects(), comment=payload.comment,
        evaluator_name=payload.evaluator_name, organisation=org,
    )
    return Status(201, evaluation)


@router.get("/matters/{matter_id}/evaluation-request", response={200: RequestOut, **ERRORS})
def get_request(request, matter_id: int):
    """The reporter's latest invitation; its link for staff who evaluate, while it works."""
    matter = _matter(request, matter_id)
    if not has_permission(request.auth, "matters.evaluate", matter.place):
        raise ActionForbidden(_("您没有查看评价链接的权限。"))
    req = EvaluationRequest.objects.filter(matter=matter).order_by("-created_at", "-id").first()
    if req is None:
        raise Http404
    out = RequestOut.model_validate(req, from_attributes=True)
    if req.status == RequestStatus.PENDING and not req.is_expired():
        out.link = request.build_absolute_uri(tokens.link(req))
    return out


@router.get("/matters/{matter_id}/return-visits", response=list[ReturnVisitOut])
@paginate(Pagination)
def list_return_visits(request, matter_id: int):
    matter = _matter(request, matter_id)
    visits = list(ReturnVisit.objects.filter(matter=matter).order_by("at", "id"))
    if not reporter_visible_to(request.auth, matter):  # the notes may name the reporter
        for v in visits:
            v.notes = ""
    return visits


@router.post("/matters/{matter_id}/return-visits", response={201: ReturnVisitOut, **ERRORS})
def record_return_visit(request, matter_id: int, payload: ReturnVisitIn):
    """A phone return visit (回访); ``as_evaluation`` records it as the reporter's rating."""
    matter = _matter(request, matter_id)
    visit = actions.do_record_return_visit(
        matter, acting_user=request.auth, reached=payload.reached,
        resolved=payload.resolved or "", satisfaction=payload.satisfaction or "",
        notes=payload.notes, at=payload.at, as_evaluation=payload.as_evaluation,
    )
    return Status(201, visit)


# ---------------------------------------------------------------------------------------------
# The reporter's endpoint: no authentication, the token is the key.


class AspectOut(Schema):
    name: str
    label: str


class PublicOut(Schema):
    status: str = Field(..., description="pending (may be rated), answered, expired or "
                                         "cancelled")
    title: str
    tracking_code: str
    outcome: str
    outcome_text: str
    explanation: str
    expires_at: datetime
    aspects: list[AspectOut]
    choices: list[str]


def _public_request(token: str) -> EvaluationRequest:
    req = tokens.request_for(token)
    if req is None:
        raise Http404
    return req


def _public_status(req: EvaluationRequest) -> str:
    if req.status == RequestStatus.PENDING and req.is_expired():
        return RequestStatus.EXPIRED
    if req.status == RequestStatus.PENDING and not actions.in_visit(req.matter, req):
        return RequestStatus.CANCELLED
    return req.status


def _public_out(req: EvaluationRequest) -> dict:
    m = req.matter
    return {
        "status": _public_status(req), "title": m.title, "tracking_code": m.tracking_code,
        "outcome": m.outcome, "outcome_text": m.outcome_text, "explanation": m.explanation,
        "expires_at": req.expires_at,
        "aspects": [{"name": a, "label": str(ASPECTS[a])}
                    for a in actions.aspects_for(m.county_id)],
        "choices": list(Satisfaction.values),
    }


@router.get("/evaluate/{token}", auth=None, response={200: PublicOut, 404: ErrorOut})
def public_get(request, token: str):
    """What the reporter is asked to rate. No authentication: the token is the key."""
    return _public_out(_public_request(token))


@router.post("/evaluate/{token}", auth=None, response={200: PublicOut, 400: ErrorOut,
                                                       404: ErrorOut, 410: ErrorOut})
def public_post(request, token: str, payload: RatingIn):
    """The reporter's rating: once, before ``expires_at``. 不满意 reopens the matter; 410 when
    the link has expired or the matter has moved on; 400 when it was already used."""
    req = _public_request(token)
    status = _public_status(req)
    if status in (RequestStatus.EXPIRED, RequestStatus.CANCELLED):
        detail = (_("评价期限已过，无法再评价。如有意见，请联系村（社区）或拨打服务电话。")
                  if status == RequestStatus.EXPIRED else _("此评价链接已失效。"))
        return Status(410, {"detail": detail})
    actions.do_submit_evaluation(req, outcome=payload.outcome, aspects=payload.aspects(),
                                 comment=payload.comment)
    req.refresh_from_db()
    return _public_out(req)

