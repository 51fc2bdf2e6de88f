"""考核 through /api/v1/assessments/...: systems, rounds and their league tables, result
sheets, manual scores, adjustments.

Objects are loaded through ``restrict`` (404 outside the caller's places); the actions check
the rest (403 when the caller may see but not act, 400 with a sentence when refused).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import ConfigDict

from gongzhi.api.errors import ErrorOut
from gongzhi.api.pagination import Pagination
from gongzhi.places.models import Place

from . import actions
from .models import (
    Adjustment,
    AssessmentRound,
    IndicatorScore,
    IndicatorSystem,
    PeriodKind,
    Source,
    UnitResult,
)
from .systems import indicator_dict

router = Router(tags=["assessments"])
ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut}


class In(Schema):
    model_config = ConfigDict(extra="forbid")


class SystemOut(Schema):
    id: int
    name: str
    county_id: int
    unit_kind: str
    preset: str
    is_active: bool
    version: int | None
    policy: dict
    indicators: list[dict]


class RoundIn(In):
    system: int
    scope: int = Field(..., description="the place whose units are assessed")
    period_kind: str = Field(..., description="quarter or year")
    year: int
    quarter: int | None = None


class RoundOut(Schema):
    id: int
    title: str
    system_id: int
    version: int
    scope_id: int
    unit_kind: str
    period_kind: str
    year: int
    quarter: int | None
    period_start: date
    period_end: date
    status: str
    points_share: float
    computed_at: datetime | None


class ResultRow(Schema):
    id: int
    label: str
    place_id: int
    user_id: int | None
    organisation_id: int | None
    volume: int
    ranked: bool
    rank: int | None
    indicator_score: Decimal | None
    points_value: float | None
    points_score: Decimal | None
    bonus: int
    deduction: int
    final_score: Decimal | None
    grade: str
    complete: bool


class RoundDetailOut(RoundOut):
    results: list[ResultRow]


class ScoreOut(Schema):
    indicator_id: int
    code: str
    name: str
    weight: Decimal
    source: str
    figure: str
    value: float | None
    volume: int | None
    score: Decimal | None
    evidence: str


class AdjustmentOut(Schema):
    id: int
    result_id: int
    kind: str
    points: int
    reason: str
    status: str
    requested_by_id: int | None
    decided_by_id: int | None
    decision_note: str


class ResultOut(ResultRow):
    round_id: int
    counts: dict
    base_score: Decimal | None
    scores: list[ScoreOut]
    adjustments: list[AdjustmentOut]


class ScoreIn(In):
    indicator: int
    score: Decimal = Field(..., ge=0, le=100)
    evidence: str = Field(..., max_length=2000)


class AdjustmentIn(In):
    kind: str = Field(..., description="bonus or deduction")
    points: int = Field(..., ge=1, le=10)
    reason: str = Field(..., max_length=500)


class DecisionIn(In):
    note: str = Field("", max_length=300)


def _system_out(s: IndicatorSystem) -> dict:
    version = s.current()
    return {"id": s.pk, "name": s.name, "county_id": s.county_id, "unit_kind": s.unit_kind,
            "preset": s.preset, "is_active": s.is_active,
            "version": version.number if version else None,
            "policy": version.policy if version else {},
            "indicators": [indicator_dict(i) for i in version.indicators.all()] if version
            else []}


def _round_out(r: AssessmentRound) -> dict:
    return {"id": r.pk, "title": r.title, "system_id": r.system_id,
            "version": r.version.number, "scope_id": r.place_id, "unit_kind": r.unit_kind,
            "period_kind": r.period_kind, "year": r.year, "quarter": r.quarter,
            "period_start": r.period_start, "period_end": r.period_end, "status": r.status,
            "points_share": float(r.points_share), "computed_at": r.computed_at}


def _row(r: UnitResult) -> dict:
    return {"id": r.pk, "label": r.label, "place_id": r.place_id, "user_id": r.user_id,
            "organisation_id": r.organisation_id, "volume": r.volume, "ranked": r.ranked,
            "rank": r.rank, "indicator_score": r.indicator_score,
            "points_value": r.points_value, "points_score": r.points_score, "bonus": r.bonus,
            "deduction": r.deduction, "final_score": r.final_score, "grade": r.grade,
            "complete": r.complete}


def _adjustment_out(a: Adjustment) -> dict:
    return {"id": a.pk, "result_id": a.result_id, "kind": a.kind, "points": a.points,
            "reason": a.reason, "status": a.status, "requested_by_id": a.requested_by_id,
            "decided_by_id": a.decided_by_id, "decision_note": a.decision_note}


def _result_out(r: UnitResult) -> dict:
    scores = {s.indicator_id: s for s in IndicatorScore.objects.filter(result=r)}
    lines = []
    for ind in r.round.version.indicators.all():
        s = scores.get(ind.pk)
        lines.append({"indicator_id": ind.pk, "code": ind.code, "name": ind.name,
                      "weight": ind.weight, "source": ind.source, "figure": ind.figure,
                      "value": s.value if s else None, "volume": s.volume if s else None,
                      "score": s.score if s else None, "evidence": s.evidence if s else ""})
    return {**_row(r), "round_id": r.round_id, "counts": r.counts, "base_score": r.base_score,
            "scores": lines,
            "adjustments": [_adjustment_out(a) for a in r.adjustments.all()]}


def _round(request, round_id: int) -> AssessmentRound:
    return get_object_or_404(AssessmentRound.objects.restrict(request.auth, "view")
                             .select_related("place", "version"), pk=round_id)


def _result(request, result_id: int) -> UnitResult:
    return get_object_or_404(UnitResult.objects.restrict(request.auth, "view")
                             .select_related("round", "round__version", "round__place"),
                             pk=result_id)


@router.get("/assessments/systems", response=list[SystemOut])
@paginate(Pagination)
def list_systems(request):
    qs = IndicatorSystem.objects.restrict(request.auth, "view").order_by("county_id", "name")
    return [_system_out(s) for s in qs]


@router.get("/assessments/systems/{system_id}", response={200: SystemOut, 404: ErrorOut})
def get_system(request, system_id: int):
    return _system_out(get_object_or_404(IndicatorSystem.objects.restrict(request.auth, "view"),
                                         pk=system_id))


@router.get("/assessments/rounds", response=list[RoundOut])
@paginate(Pagination)
def list_rounds(request):
    qs = AssessmentRound.objects.restrict(request.auth, "view").select_related("version")
    return [_round_out(r) for r in qs.order_by("-period_end", "-pk")]


@router.post("/assessments/rounds", response={201: RoundOut, **ERRORS})
def create_round(request, payload: RoundIn):
    """A round of a system over a place, for a quarter or a year (not computed yet)."""
    user = request.auth
    system = get_object_or_404(IndicatorSystem.objects.restrict(user, "view"), pk=payload.system)
    scope = get_object_or_404(Place.objects.restrict(user, "view"), pk=payload.scope)
    quarter = payload.quarter if payload.period_kind == PeriodKind.QUARTER else None
    rnd = actions.do_create_round(system, scope, period_kind=payload.period_kind,
                                  year=payload.year, quarter=quarter, acting_user=user)
    return Status(201, _round_out(rnd))


@router.get("/assessments/rounds/{round_id}", response={200: RoundDetailOut, 404: ErrorOut})
def get_round(request, round_id: int):
    """The round and the results the caller may see, in league order."""
    rnd = _round(request, round_id)
    results = (UnitResult.objects.restrict(request.auth, "view").filter(round=rnd)
               .order_by("-ranked", "rank", "-volume", "label", "pk"))
    return {**_round_out(rnd), "results": [_row(r) for r in results]}


@router.post("/assessments/rounds/{round_id}/compute", response={200: RoundOut, **ERRORS})
def compute_round(request, round_id: int):
    """Compute every unit's figures and scores, frozen at this moment."""
    rnd = actions.do_compute_round(_round(request, round_id), acting_user=request.auth)
    return _round_out(rnd)


@router.post("/assessments/rounds/{round_id}/finalise", response={200: RoundOut, **ERRORS})
def finalise_round(request, round_id: int):
    rnd = actions.do_finalise_round(_round(request, round_id), acting_user=request.auth)
    return _round_out(rnd)


@router.get("/assessments/results/{result_id}", response={200: ResultOut, 404: ErrorOut})
def get_result(request, result_id: int):
    """A unit's result sheet: each indicator's value and score, adjustments, grade, rank."""
    return _result_out(_result(request, result_id))


@router.post("/assessments/results/{result_id}/scores", response={200: ResultOut, **ERRORS})
def enter_score(request, result_id: int, payload: ScoreIn):
    """An assessor's score (0..100) of a manual indicator, with its evidence."""
    result = _result(request, result_id)
    indicator = get_object_or_404(result.round.version.indicators, pk=payload.indicator,
                                  source=Source.MANUAL)
    actions.do_enter_score(result, indicator, score=payload.score, evidence=payload.evidence,
                           acting_user=request.auth)
    return _result_out(_result(request, result_id))


@router.post("/assessments/results/{result_id}/adjustments",
             response={201: AdjustmentOut, **ERRORS})
def request_adjustment(request, result_id: int, payload: AdjustmentIn):
    adj = actions.do_request_adjustment(_result(request, result_id), kind=payload.kind,
                                        points=payload.points, reason=payload.reason,
                                        acting_user=request.auth)
    return Status(201, _adjustment_out(adj))


def _adjustment(request, adjustment_id: int) -> Adjustment:
    return get_object_or_404(Adjustment.objects.filter(
        result__in=UnitResult.objects.restrict(request.auth, "view")), pk=adjustment_id)


@router.post("/assessments/adjustments/{adjustment_id}/approve",
             response={200: AdjustmentOut, **ERRORS})
def approve_adjustment(request, adjustment_id: int, payload: DecisionIn):
    """Approve (someone other than the requester, holding ``assessments.approve``)."""
    adj = actions.do_decide_adjustment(_adjustment(request, adjustment_id), approve=True,
                                       note=payload.note, acting_user=request.auth)
    return _adjustment_out(adj)


@router.post("/assessments/adjustments/{adjustment_id}/reject",
             response={200: AdjustmentOut, **ERRORS})
def reject_adjustment(request, adjustment_id: int, payload: DecisionIn):
    adj = actions.do_decide_adjustment(_adjustment(request, adjustment_id), approve=False,
                                       note=payload.note, acting_user=request.auth)
    return _adjustment_out(adj)
