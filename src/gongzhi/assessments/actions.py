"""Every write of 考核: systems and their versions, rounds, computing, manual scores,
adjustments (four eyes) and finalising. Atomic and audited; the scoring is ``scoring.py``.

Every action that changes a round's results takes the round's row lock first, so two
assessors entering scores at once are applied one after the other, and each re-scores and
re-ranks the whole round from what is stored.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.audit.log import record
from gongzhi.core.access import has_permission
from gongzhi.core.errors import ActionError, ActionForbidden
from gongzhi.places.models import Place, PlaceKind

from . import scoring
from .gather import below, figure_value, gather
from .models import (
    PLACE_UNIT_KINDS,
    Adjustment,
    AdjustmentKind,
    AdjustmentStatus,
    AssessmentRound,
    Indicator,
    IndicatorScore,
    IndicatorSystem,
    PeriodKind,
    RoundStatus,
    Source,
    SystemVersion,
    UnitKind,
    UnitResult,
)
from .systems import clean_indicators, clean_policy, indicator_dict, load_preset

MAX_EVIDENCE = 2000


def _user(acting_user):
    return acting_user if getattr(acting_user, "is_authenticated", False) else None


def _require(acting_user, permission: str, place: Place, message: str) -> None:
    if acting_user is None:  # commands and tests that act as the system
        return
    if not has_permission(acting_user, permission, place):
        raise ActionForbidden(message)


def _require_at_unit(acting_user, permission: str, rnd: AssessmentRound, result: UnitResult,
                     message: str) -> None:
    """Held over the round's scope, or over the unit's own place (town staff assess the
    villages of their town in the county's round)."""
    if acting_user is None:
        return
    if not (has_permission(acting_user, permission, rnd.place)
            or has_permission(acting_user, permission, result.place)):
        raise ActionForbidden(message)


# ---------------------------------------------------------------------------------------------
# Indicator systems


def _version_dict(version: SystemVersion | None) -> dict[str, Any] | None:
    if version is None:
        return None
    return {"number": version.number, "policy": version.policy,
            "indicators": [indicator_dict(i) for i in version.indicators.all()]}


def _new_version(system: IndicatorSystem, *, indicators, policy, note: str,
                 acting_user) -> SystemVersion:
    cleaned_policy = clean_policy(policy, system.unit_kind)
    cleaned = clean_indicators(indicators, system.unit_kind)
    last = system.versions.order_by("-number").values_list("number", flat=True).first() or 0
    version = SystemVersion.objects.create(system=system, number=last + 1, policy=cleaned_policy,
                                           note=(note or "").strip()[:300],
                                           created_by=_user(acting_user))
    Indicator.objects.bulk_create([
        Indicator(version=version, sort_order=i, code=item["code"], category=item["category"],
                  name=item["name"], weight=Decimal(item["weight"]), source=item["source"],
                  figure=item["figure"], rule=item["rule"], description=item["description"])
        for i, item in enumerate(cleaned)
    ])
    return version


@transaction.atomic
def do_adopt_system(county: Place, preset: str, *, acting_user, name: str = ""
                    ) -> IndicatorSystem:
    """Create a county's indicator system from a preset (``assessments.systems`` there)."""
    if county.kind != PlaceKind.COUNTY:
        raise ActionError(_("考核指标体系按县（区）设立。"))
    _require(acting_user, "assessments.systems", county, _("您没有维护考核指标体系的权限。"))
    data = load_preset(preset)
    name = (name or data["name"]).strip()[:120]
    if IndicatorSystem.objects.filter(county=county, name=name).exists():
        raise ActionError(_("本县（区）已有名为“%(n)s”的指标体系。") % {"n": name})
    system = IndicatorSystem(unit_kind=data["unit_kind"], name=name, preset=preset,
                             description=data.get("description", ""))
    system.set_place(county)
    system.save(force_insert=True)
    version = _new_version(system, indicators=data["indicators"], policy=data.get("policy"),
                           note=_("采用模板"), acting_user=acting_user)
    record("assessments.system.adopt", actor=acting_user, obj=system,
           after={"preset": preset, "unit_kind": system.unit_kind,
                  "version": _version_dict(version)})
    return system


@transaction.atomic
def do_save_system_version(system: IndicatorSystem, *, indicators: list[dict[str, Any]],
                           policy: dict[str, Any], note: str = "", acting_user
                           ) -> SystemVersion:
    """Save the system's indicators and policy as a new version. Rounds already created keep
    the version they were created with."""
    system = IndicatorSystem.objects.select_for_update().select_related("place").get(
        pk=system.pk)
    _require(acting_user, "assessments.systems", system.place,
             _("您没有维护考核指标体系的权限。"))
    before = _version_dict(system.current())
    version = _new_version(system, indicators=indicators, policy=policy, note=note,
                           acting_user=acting_user)
    record("assessments.system.version", actor=acting_user, obj=system, before=before,
           after=_version_dict(version))
    return version


# ---------------------------------------------------------------------------------------------
# Rounds


def period_bounds(period_kind: str, year: int, quarter: int | None) -> tuple[dt.date, dt.date]:
    if period_kind == PeriodKind.YEAR:
        return dt.date(year, 1, 1), dt.date(year, 12, 31)
    first = dt.date(year, 3 * (quarter - 1) + 1, 1)
    nxt = dt.date(year + (quarter == 4), (3 * quarter) % 12 + 1, 1)
    return first, nxt - dt.timedelta(days=1)


def period_label(period_kind: str, year: int, quarter: int | None) -> str:
    if period_kind == PeriodKind.YEAR:
        return _("%(y)d年度") % {"y": year}
    names = {1: _("第一季度"), 2: _("第二季度"), 3: _("第三季度"), 4: _("第四季度")}
    return _("%(y)d年%(q)s") % {"y": year, "q": names[quarter]}


@transaction.atomic
def do_create_round(system: IndicatorSystem, scope: Place, *, period_kind: str, year: int,
                    quarter: int | None = None, acting_user) -> AssessmentRound:
    """A round of the system's current version over ``scope`` for a quarter or a year
    (``assessments.compute`` at the scope). A year round of grids, villages or towns counts
    the households' points by the policy's ``points_share``."""
    _require(acting_user, "assessments.compute", scope, _("您没有在该范围建立考核的权限。"))
    if not system.is_active:
        raise ActionError(_("该指标体系已停用。"))
    if scope.county_id != system.county_id:
        raise ActionError(_("考核范围不在该指标体系所属的县（区）。"))
    if not below(scope.kind, system.unit_kind):
        raise ActionError(_("所选范围之下没有可考核的%(kind)s。")
                          % {"kind": UnitKind(system.unit_kind).label})
    if period_kind not in PeriodKind.values:
        raise ActionError(_("考核周期只能是季度或年度。"))
    if not isinstance(year, int) or not 2000 <= year <= 2100:
        raise ActionError(_("请填写正确的年度。"))
    if period_kind == PeriodKind.QUARTER:
        if quarter not in (1, 2, 3, 4):
            raise ActionError(_("请选择季度。"))
    else:
        quarter = None
    start, end = period_bounds(period_kind, year, quarter)
    if start > timezone.localdate():
        raise ActionError(_("考核周期还没有开始。"))
    version = system.current()
    if version is None:
        raise ActionError(_("该指标体系还没有指标。"))
    if AssessmentRound.objects.filter(system=system, place=scope, period_start=start,
                                      period_end=end).exists():
        raise ActionError(_("该范围本周期已建立过这项考核。"))
    share = Decimal(0)
    if period_kind == PeriodKind.YEAR and system.unit_kind in PLACE_UNIT_KINDS:
        share = Decimal(str(version.policy.get("points_share", {}).get("share", 0)))
    title = _("%(place)s%(period)s%(kind)s考核") % {
        "place": scope.name, "period": period_label(period_kind, year, quarter),
        "kind": UnitKind(system.unit_kind).label}
    rnd = AssessmentRound(system=system, version=version, unit_kind=system.unit_kind,
                          period_kind=period_kind, year=year, quarter=quarter,
                          period_start=start, period_end=end, title=title[:200],
                          points_share=share, created_by=_user(acting_user))
    rnd.set_place(scope)
    rnd.save(force_insert=True)
    record("assessments.round.create", actor=acting_user, obj=rnd,
           after={"system": system.pk, "version": version.number, "scope": scope.pk,
                  "period": [start, end], "points_share": share})
    return rnd


def _locked_round(rnd: AssessmentRound) -> AssessmentRound:
    return (AssessmentRound.objects.select_for_update(of=("self",))
            .select_related("place", "version").get(pk=rnd.pk))


def _require_open(rnd: AssessmentRound) -> None:
    if rnd.status == RoundStatus.FINAL:
        raise ActionError(_("考核已定稿，不能再修改。"))


def _require_computed(rnd: AssessmentRound) -> None:
    _require_open(rnd)
    if rnd.status != RoundStatus.COMPUTED:
        raise ActionError(_("请先计算本轮考核。"))


@transaction.atomic
def do_compute_round(rnd: AssessmentRound, *, acting_user,
                     now: dt.datetime | None = None) -> AssessmentRound:
    """Compute every unit's figures and indicator scores, frozen at ``now`` (the computation
    time). Computing again replaces the figures; manual scores and adjustments stay."""
    rnd = _locked_round(rnd)
    _require(acting_user, "assessments.compute", rnd.place,
             _("只有县联系办和镇（街道）书记可以计算考核。"))
    _require_open(rnd)
    now = now or timezone.now()
    version = rnd.version
    indicators = list(version.indicators.all())
    policy = version.policy
    units = gather(rnd, indicators, policy, now)

    existing = {r.unit_key: r for r in rnd.results.all()}
    results: list[UnitResult] = []
    for unit in units:
        result = existing.get(unit.key) or UnitResult(round=rnd, unit_key=unit.key)
        result.set_place(unit.place)
        result.user_id, result.organisation_id = unit.user_id, unit.organisation_id
        result.label = unit.label[:120]
        result.counts = unit.counts
        result.volume = unit.volume(policy.get("volume", ["received"]))
        result.points_total = unit.points_total
        result.points_households = unit.points_households
        result.points_value = unit.points_value
        results.append(result)
    fields = ["place", "county", "town", "village", "grid", "building", "household", "user",
              "organisation", "label", "counts", "volume", "points_total",
              "points_households", "points_value"]
    UnitResult.objects.bulk_update([r for r in results if r.pk], fields)
    UnitResult.objects.bulk_create([r for r in results if not r.pk])
    saved = {r.unit_key: r for r in rnd.results.all()}
    results = [saved[u.key] for u in units]

    # Points share: relative to the round's other units.
    share_policy = policy.get("points_share", {})
    if rnd.points_share:
        rel = scoring.relative_scores({r.pk: r.points_value for r in results},
                                      share_policy.get("basis", "best"))
        for r in results:
            r.points_score = rel[r.pk]
    else:
        for r in results:
            r.points_score = None
    UnitResult.objects.bulk_update(results, ["points_score"])

    # Computed indicators (manual scores are kept as they are).
    scores = {(s.result_id, s.indicator_id): s
              for s in IndicatorScore.objects.filter(result__round=rnd)}
    units_by_key = {u.key: u for u in units}
    to_update, to_create = [], []
    for indicator in indicators:
        values = {}
        for r in results:
            values[r.pk] = figure_value(units_by_key[r.unit_key], indicator.figure) \
                if indicator.source == Source.COMPUTED else (None, None)
        relative = None
        if indicator.source == Source.COMPUTED and indicator.rule.get("kind") == "relative":
            relative = scoring.relative_scores({k: v[0] for k, v in values.items()},
                                               indicator.rule.get("basis", "best"))
        for r in results:
            row = scores.get((r.pk, indicator.pk))
            if row is None:
                row = IndicatorScore(result=r, indicator=indicator)
            if indicator.source == Source.COMPUTED:
                value, volume = values[r.pk]
                row.value, row.volume = value, volume
                row.score = (relative[r.pk] if relative is not None
                             else scoring.rule_score(indicator.rule, value))
            (to_update if row.pk else to_create).append(row)
    IndicatorScore.objects.bulk_update(to_update, ["value", "volume", "score"])
    IndicatorScore.objects.bulk_create(to_create)

    rnd.status = RoundStatus.COMPUTED
    rnd.computed_at = now
    rnd.computed_by = _user(acting_user)
    rnd.save(update_fields=["status", "computed_at", "computed_by"])
    _rescore(rnd)
    record("assessments.round.compute", actor=acting_user, obj=rnd,
           after={"computed_at": now, "units": len(results), "version": version.number})
    return rnd


def _rescore(rnd: AssessmentRound) -> None:
    """Weighted scores, points share, adjustments, grades and ranks of the whole round, from
    what is stored (pure functions of ``scoring.py``)."""
    policy = rnd.version.policy
    indicators = {i.pk: i for i in rnd.version.indicators.all()}
    manual = {pk for pk, i in indicators.items() if i.source == Source.MANUAL}
    results = list(rnd.results.all())
    by_result: dict[int, list[IndicatorScore]] = {}
    for s in IndicatorScore.objects.filter(result__round=rnd):
        by_result.setdefault(s.result_id, []).append(s)
    adjustments = {
        (row["result_id"], row["kind"]): row["total"]
        for row in Adjustment.objects.filter(result__round=rnd, status=AdjustmentStatus.APPROVED)
        .values("result_id", "kind").annotate(total=Sum("points")).order_by()
    }
    rows = []
    for r in results:
        scores = by_result.get(r.pk, [])
        parts = [(indicators[s.indicator_id].weight, s.score) for s in scores
                 if s.indicator_id in indicators]
        r.indicator_score = scoring.weighted(parts, policy.get("no_data", "exclude"))
        entered = {s.indicator_id for s in scores if s.score is not None}
        r.complete = manual <= entered
        r.bonus = adjustments.get((r.pk, AdjustmentKind.BONUS), 0)
        r.deduction = adjustments.get((r.pk, AdjustmentKind.DEDUCTION), 0)
        r.base_score, r.final_score = scoring.combine(
            r.indicator_score, share=rnd.points_share, points_score=r.points_score,
            bonus=r.bonus, deduction=r.deduction)
        r.grade = scoring.grade_of(r.final_score, policy["grades"])
        rows.append({"pk": r.pk, "score": r.final_score, "volume": r.volume, "label": r.label})
    ranks = {row["pk"]: row for row in scoring.league(rows, int(policy.get("min_volume", 0)))}
    for r in results:
        r.rank, r.ranked = ranks[r.pk]["rank"], ranks[r.pk]["ranked"]
    UnitResult.objects.bulk_update(results, ["indicator_score", "complete", "bonus",
                                             "deduction", "base_score", "final_score", "grade",
                                             "rank", "ranked"])


# ---------------------------------------------------------------------------------------------
# Manual scores


def _clean_score(value: Any) -> Decimal:
    try:
        score = Decimal(str(value).strip())
    except (InvalidOperation, ValueError, TypeError) as exc:
        raise ActionError(_("得分必须是数字。")) from exc
    if not score.is_finite() or not 0 <= score <= 100:
        raise ActionError(_("得分应在0至100分之间。"))
    if score != score.quantize(Decimal("0.01")):
        raise ActionError(_("得分最多保留两位小数。"))
    return score


@transaction.atomic
def do_enter_score(result: UnitResult, indicator: Indicator, *, score: Any, evidence: str,
                   acting_user) -> IndicatorScore:
    """An assessor scores a manual indicator 0..100, with the evidence it rests on; entering
    again replaces the score (audited, with the old one)."""
    rnd = _locked_round(result.round)
    _require_at_unit(acting_user, "assessments.score", rnd, result,
                     _("您没有录入考核评分的权限。"))
    _require_computed(rnd)
    if indicator.version_id != rnd.version_id or indicator.source != Source.MANUAL:
        raise ActionError(_("这项指标由系统计算，不能人工评分。"))
    value = _clean_score(score)
    evidence = (evidence or "").strip()
    if not evidence:
        raise ActionError(_("请写明评分依据（检查记录、台账、通报等）。"))
    if len(evidence) > MAX_EVIDENCE:
        raise ActionError(_("评分依据不能超过2000个字。"))
    row, _created = IndicatorScore.objects.get_or_create(result_id=result.pk,
                                                         indicator=indicator)
    before = {"score": row.score, "evidence": row.evidence}
    row.score, row.evidence = value, evidence
    row.entered_by, row.entered_at = _user(acting_user), timezone.now()
    row.save(update_fields=["score", "evidence", "entered_by", "entered_at"])
    _rescore(rnd)
    record("assessments.score.enter", actor=acting_user, obj=result,
           county_id=rnd.county_id, before=before,
           after={"indicator": indicator.code, "score": value, "evidence": evidence})
    return row


# ---------------------------------------------------------------------------------------------
# Bonus and deduction, four eyes


@transaction.atomic
def do_request_adjustment(result: UnitResult, *, kind: str, points: Any, reason: str,
                          acting_user) -> Adjustment:
    """Ask for a bonus (+1..+10) or a deduction (−1..−10) with a reason; it counts once
    approved by someone else."""
    rnd = _locked_round(result.round)
    _require_at_unit(acting_user, "assessments.adjust", rnd, result,
                     _("您没有申请加减分的权限。"))
    _require_computed(rnd)
    if kind not in AdjustmentKind.values:
        raise ActionError(_("请选择加分或扣分。"))
    try:
        points = int(points)
    except (TypeError, ValueError) as exc:
        raise ActionError(_("加减分应为1至10分的整数。")) from exc
    if not 1 <= points <= 10:
        raise ActionError(_("加减分应为1至10分的整数。"))
    reason = (reason or "").strip()
    if not reason:
        raise ActionError(_("请写明加减分的事由。"))
    if len(reason) > 500:
        raise ActionError(_("事由不能超过500个字。"))
    adj = Adjustment.objects.create(result_id=result.pk, kind=kind, points=points,
                                    reason=reason, requested_by=_user(acting_user))
    record("assessments.adjustment.request", actor=acting_user, obj=adj, county_id=rnd.county_id,
           after={"result": result.pk, "unit": result.label, "kind": kind, "points": points,
                  "reason": reason})
    return adj


@transaction.atomic
def do_decide_adjustment(adj: Adjustment, *, approve: bool, note: str = "",
                         acting_user) -> Adjustment:
    """Approve or reject a pending adjustment: ``assessments.approve``, and not by the one who
    asked. An approval may not take a unit's bonuses (or deductions) in the round past the
    policy's cap (10)."""
    result = UnitResult.objects.select_related("round", "place").get(pk=adj.result_id)
    rnd = _locked_round(result.round)
    adj = Adjustment.objects.select_for_update().get(pk=adj.pk)
    _require_at_unit(acting_user, "assessments.approve", rnd, result,
                     _("您没有审批加减分的权限。"))
    _require_computed(rnd)
    if adj.status != AdjustmentStatus.PENDING:
        raise ActionError(_("这项加减分已经审批过了。"))
    user = _user(acting_user)
    if acting_user is not None and (user is None or user.pk == adj.requested_by_id):
        raise ActionForbidden(_("加减分须由申请人以外的人审批。"))
    note = (note or "").strip()[:300]
    if approve:
        cap_key = "max_bonus" if adj.kind == AdjustmentKind.BONUS else "max_deduction"
        cap = int(rnd.version.policy.get(cap_key, 10))
        so_far = Adjustment.objects.filter(
            result_id=adj.result_id, kind=adj.kind, status=AdjustmentStatus.APPROVED,
        ).aggregate(s=Sum("points"))["s"] or 0
        if so_far + adj.points > cap:
            raise ActionError(
                (_("加分合计不能超过 %(cap)d 分（已批准 %(n)d 分）。")
                 if adj.kind == AdjustmentKind.BONUS
                 else _("扣分合计不能超过 %(cap)d 分（已批准 %(n)d 分）。"))
                % {"cap": cap, "n": so_far})
    elif not note:
        raise ActionError(_("不予批准时请写明理由。"))
    adj.status = AdjustmentStatus.APPROVED if approve else AdjustmentStatus.REJECTED
    adj.decided_by, adj.decided_at, adj.decision_note = user, timezone.now(), note
    adj.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    _rescore(rnd)
    record("assessments.adjustment.decide", actor=acting_user, obj=adj, county_id=rnd.county_id,
           before={"status": AdjustmentStatus.PENDING},
           after={"status": adj.status, "note": note, "points": adj.signed})
    return adj


# ---------------------------------------------------------------------------------------------
# Finalising


@transaction.atomic
def do_finalise_round(rnd: AssessmentRound, *, acting_user) -> AssessmentRound:
    """Lock the round's results: every manual score entered, no adjustment pending."""
    rnd = _locked_round(rnd)
    _require(acting_user, "assessments.compute", rnd.place, _("您没有定稿考核的权限。"))
    _require_computed(rnd)
    missing = rnd.results.filter(complete=False).count()
    if missing:
        raise ActionError(_("还有 %(n)d 个考核对象的人工评分没有录齐。") % {"n": missing})
    if Adjustment.objects.filter(result__round=rnd, status=AdjustmentStatus.PENDING).exists():
        raise ActionError(_("还有待审批的加减分。"))
    rnd.status = RoundStatus.FINAL
    rnd.finalised_at, rnd.finalised_by = timezone.now(), _user(acting_user)
    rnd.save(update_fields=["status", "finalised_at", "finalised_by"])
    record("assessments.round.finalise", actor=acting_user, obj=rnd,
           before={"status": RoundStatus.COMPUTED}, after={"status": rnd.status})
    return rnd
