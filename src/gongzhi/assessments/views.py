"""Pages of 考核: indicator systems, rounds and their league table, a unit's result sheet,
manual scores, bonuses and deductions, the Excel export.

Views translate: parse the request, load objects through ``restrict`` (404 outside the user's
places), call one action, render. A refused action shows its sentence (400); a forbidden one
answers 403.
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gongzhi.core.access import has_permission, scope_q
from gongzhi.places.models import Place, PlaceKind

from . import actions
from .export import round_workbook
from .forms import (
    AdjustmentForm,
    DecisionForm,
    IndicatorFormSet,
    PolicyForm,
    PresetForm,
    RoundForm,
    ScoreForm,
    error_text,
)
from .models import (
    Adjustment,
    AdjustmentStatus,
    AssessmentRound,
    IndicatorScore,
    IndicatorSystem,
    RoundStatus,
    Source,
    UnitResult,
)
from .scoring import GRADE_LABELS, plain
from .systems import describe_rule, figure_catalogue, indicator_dict

PER_PAGE = 30
SCOPE_KINDS = (PlaceKind.COUNTY, PlaceKind.TOWN, PlaceKind.VILLAGE)


def _error(exc: ValidationError) -> str:
    return " ".join(str(m) for m in exc.messages)


def _crumbs(*pairs) -> list[dict[str, str]]:
    crumbs = [{"label": _("考核"), "url": reverse("assessments:index")}]
    for label, url in pairs:
        crumbs.append({"label": label, "url": url})
    crumbs[-1]["url"] = ""
    return crumbs


def _places(user, permission: str, kinds) -> list[Place]:
    """Active places of ``kinds`` at or under the user's grants holding ``permission``."""
    if user.is_superuser:
        qs = Place.objects.filter(kind__in=kinds, is_active=True)
    else:
        q = scope_q(user, permission)
        if q is None:
            return []
        qs = Place.objects.filter(q, kind__in=kinds, is_active=True)
    return list(qs.order_by("county_id", "town_id", "village_id", "sort_order", "pk")[:500])


def _require_view(user) -> None:
    if not (has_permission(user, "assessments.view")
            or UnitResult.objects.restrict(user, "view").exists()):
        raise PermissionDenied(_("您没有查看考核的权限。"))


# =============================================================================================
# Rounds


@login_required
@require_GET
def index(request):
    user = request.user
    _require_view(user)
    rounds = AssessmentRound.objects.restrict(user, "view").select_related("place", "system")
    page = Paginator(rounds.order_by("-period_end", "-pk"), PER_PAGE).get_page(
        request.GET.get("page"))
    form = None
    if has_permission(user, "assessments.compute"):
        systems = IndicatorSystem.objects.restrict(user, "compute").filter(is_active=True)
        places = _places(user, "assessments.compute", SCOPE_KINDS)
        if systems.exists() and places:
            form = RoundForm(systems=systems, places=places,
                             initial={"year": timezone.localdate().year})
    return render(request, "assessments/index.html", {
        "page": page, "rounds": page.object_list, "form": form,
        "can_systems": has_permission(user, "assessments.view"),
        "crumbs": [{"label": _("考核"), "url": ""}],
    })


@login_required
@require_POST
def round_new(request):
    user = request.user
    systems = IndicatorSystem.objects.restrict(user, "compute").filter(is_active=True)
    places = _places(user, "assessments.compute", SCOPE_KINDS)
    form = RoundForm(request.POST, systems=systems, places=places)
    if not form.is_valid():
        messages.error(request, error_text(form))
        return redirect("assessments:index")
    d = form.cleaned_data
    system = get_object_or_404(systems, pk=d["system"])
    scope = get_object_or_404(Place, pk=d["scope"], pk__in=[p.pk for p in places])
    try:
        rnd = actions.do_create_round(system, scope, period_kind=d["period_kind"],
                                      year=d["year"], quarter=d["quarter"], acting_user=user)
    except ValidationError as exc:
        messages.error(request, _error(exc))
        return redirect("assessments:index")
    messages.success(request, _("考核已建立，请计算。"))
    return redirect("assessments:round", pk=rnd.pk)


def _round(request, pk: int) -> AssessmentRound:
    return get_object_or_404(AssessmentRound.objects.restrict(request.user, "view")
                             .select_related("place", "system", "version", "computed_by"), pk=pk)


def _visible_results(user, rnd: AssessmentRound):
    return (UnitResult.objects.restrict(user, "view").filter(round=rnd)
            .order_by("ranked", "rank", "-volume", "label", "pk"))


def _league(results) -> list[UnitResult]:
    """Ranked first by rank, then the unranked (largest volume first)."""
    results = list(results)
    ranked = sorted((r for r in results if r.ranked), key=lambda r: (r.rank, -r.volume, r.label))
    rest = sorted((r for r in results if not r.ranked), key=lambda r: (-r.volume, r.label))
    return ranked + rest


def _round_page(request, rnd: AssessmentRound, *, error: str = "", status: int = 200):
    user = request.user
    results = _league(_visible_results(user, rnd))
    is_open = rnd.status != RoundStatus.FINAL
    can_compute = is_open and has_permission(user, "assessments.compute", rnd.place)
    pending = Adjustment.objects.filter(result__in=[r.pk for r in results],
                                        status=AdjustmentStatus.PENDING).count()
    chart = [{"label": r.label, "score": float(r.final_score), "ranked": r.ranked}
             for r in results if r.final_score is not None]
    return render(request, "assessments/round.html", {
        "round": rnd, "results": results, "error": error,
        "rows": [{"r": r, "grade": GRADE_LABELS.get(r.grade, "")} for r in results],
        "indicators": list(rnd.version.indicators.all()),
        "can_compute": can_compute,
        "can_finalise": can_compute and rnd.status == RoundStatus.COMPUTED,
        "can_export": has_permission(user, "assessments.export", rnd.place),
        "pending": pending, "incomplete": sum(1 for r in results if not r.complete),
        "min_volume": rnd.version.policy.get("min_volume"),
        "share_percent": plain(rnd.points_share * 100) if rnd.points_share else "",
        "chart": chart,
        "crumbs": _crumbs((rnd.title, "")),
    }, status=status)


@login_required
@require_GET
def round_page(request, pk: int):
    return _round_page(request, _round(request, pk))


@login_required
@require_POST
def round_step(request, pk: int, step: str):
    rnd = _round(request, pk)
    user = request.user
    try:
        if step == "compute":
            actions.do_compute_round(rnd, acting_user=user)
            messages.success(request, _("已按当前数据计算，数据截至计算时间。"))
        elif step == "finalise":
            actions.do_finalise_round(rnd, acting_user=user)
            messages.success(request, _("考核已定稿。"))
        else:
            raise PermissionDenied
    except ValidationError as exc:
        return _round_page(request, _round(request, pk), error=_error(exc), status=400)
    return redirect("assessments:round", pk=rnd.pk)


@login_required
@require_GET
def round_export(request, pk: int):
    rnd = _round(request, pk)
    if not has_permission(request.user, "assessments.export", rnd.place):
        raise PermissionDenied(_("您没有导出考核结果的权限。"))
    results = _league(_visible_results(request.user, rnd))
    data = round_workbook(rnd, results, acting_user=request.user)
    response = HttpResponse(
        data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = (
        f"attachment; filename=\"assessment-{rnd.pk}.xlsx\"; "
        f"filename*=UTF-8''{_quote(rnd.title)}.xlsx")
    return response


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text)


# =============================================================================================
# A unit's result sheet


def _result(request, pk: int) -> UnitResult:
    return get_object_or_404(UnitResult.objects.restrict(request.user, "view").select_related(
        "round", "round__place", "round__version", "round__system", "place", "user",
        "organisation"), pk=pk)


def _may(user, permission: str, result: UnitResult) -> bool:
    """As the actions check it: over the round's scope or over the unit's place."""
    return (has_permission(user, permission, result.round.place)
            or has_permission(user, permission, result.place))


def _result_page(request, result: UnitResult, *, error: str = "", status: int = 200,
                 score_form=None, adjust_form=None):
    user = request.user
    rnd = result.round
    catalogue = figure_catalogue()
    is_computed = rnd.status == RoundStatus.COMPUTED
    can_score = is_computed and _may(user, "assessments.score", result)
    can_adjust = is_computed and _may(user, "assessments.adjust", result)
    can_approve = is_computed and _may(user, "assessments.approve", result)
    scores = {s.indicator_id: s for s in IndicatorScore.objects.filter(result=result)
              .select_related("entered_by")}
    lines = []
    for ind in rnd.version.indicators.all():
        s = scores.get(ind.pk)
        figure = catalogue.get(ind.figure)
        value = s.value if s else None
        if value is None:
            shown = "—"
        elif figure is not None and figure.is_rate:
            shown = f"{value * 100:.1f}%"
        else:
            shown = plain(round(Decimal(str(value)), 2))
        lines.append({"ind": ind, "s": s, "value": shown,
                      "rule": describe_rule(ind),
                      "figure": figure.label if figure else "",
                      "contribution": (s.score * ind.weight / 100).quantize(Decimal("0.01"))
                      if s and s.score is not None else None})
    adjustments = list(result.adjustments.select_related("requested_by", "decided_by"))
    return render(request, "assessments/result.html", {
        "result": result, "round": rnd, "lines": lines, "error": error,
        "grade": GRADE_LABELS.get(result.grade, ""),
        "adjustments": adjustments,
        "can_score": can_score, "can_adjust": can_adjust, "can_approve": can_approve,
        "score_form": score_form or ScoreForm(), "adjust_form": adjust_form or AdjustmentForm(),
        "share_percent": plain(rnd.points_share * 100) if rnd.points_share else "",
        "counts": result.counts,
        "crumbs": _crumbs((rnd.title, reverse("assessments:round", args=[rnd.pk])),
                          (result.label, "")),
    }, status=status)


@login_required
@require_GET
def result_page(request, pk: int):
    return _result_page(request, _result(request, pk))


@login_required
@require_POST
def result_score(request, pk: int, indicator_id: int):
    result = _result(request, pk)
    indicator = get_object_or_404(result.round.version.indicators, pk=indicator_id,
                                  source=Source.MANUAL)
    form = ScoreForm(request.POST)
    if not form.is_valid():
        return _result_page(request, result, error=error_text(form), status=400)
    try:
        actions.do_enter_score(result, indicator, score=form.cleaned_data["score"],
                               evidence=form.cleaned_data["evidence"], acting_user=request.user)
    except ValidationError as exc:
        return _result_page(request, result, error=_error(exc), status=400)
    messages.success(request, _("评分已保存。"))
    return redirect("assessments:result", pk=result.pk)


@login_required
@require_POST
def result_adjust(request, pk: int):
    result = _result(request, pk)
    form = AdjustmentForm(request.POST)
    if not form.is_valid():
        return _result_page(request, result, error=error_text(form), status=400,
                            adjust_form=form)
    d = form.cleaned_data
    try:
        actions.do_request_adjustment(result, kind=d["kind"], points=d["points"],
                                      reason=d["reason"], acting_user=request.user)
    except ValidationError as exc:
        return _result_page(request, result, error=_error(exc), status=400, adjust_form=form)
    messages.success(request, _("加减分申请已提交，须由另一位审批人批准后计入。"))
    return redirect("assessments:result", pk=result.pk)


@login_required
@require_POST
def adjustment_decide(request, pk: int, decision: str):
    if decision not in ("approve", "reject"):
        raise PermissionDenied
    adj = get_object_or_404(Adjustment.objects.filter(
        result__in=UnitResult.objects.restrict(request.user, "view")), pk=pk)
    result = _result(request, adj.result_id)
    form = DecisionForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        actions.do_decide_adjustment(adj, approve=decision == "approve", note=note,
                                     acting_user=request.user)
    except ValidationError as exc:
        return _result_page(request, result, error=_error(exc), status=400)
    messages.success(request, _("已批准。") if decision == "approve" else _("已不予批准。"))
    return redirect("assessments:result", pk=result.pk)


# =============================================================================================
# Indicator systems


@login_required
@require_GET
def systems(request):
    user = request.user
    if not has_permission(user, "assessments.view"):
        raise PermissionDenied(_("您没有查看考核指标体系的权限。"))
    qs = IndicatorSystem.objects.restrict(user, "view").select_related("place").order_by(
        "county_id", "unit_kind", "name")
    counties = _places(user, "assessments.systems", (PlaceKind.COUNTY,))
    return render(request, "assessments/systems.html", {
        "systems": list(qs), "form": PresetForm(counties=counties) if counties else None,
        "crumbs": _crumbs((_("指标体系"), "")),
    })


@login_required
@require_POST
def system_adopt(request):
    user = request.user
    counties = _places(user, "assessments.systems", (PlaceKind.COUNTY,))
    form = PresetForm(request.POST, counties=counties)
    if not form.is_valid():
        messages.error(request, error_text(form))
        return redirect("assessments:systems")
    county = next(c for c in counties if c.pk == form.cleaned_data["county"])
    try:
        system = actions.do_adopt_system(county, form.cleaned_data["preset"],
                                         name=form.cleaned_data["name"], acting_user=user)
    except ValidationError as exc:
        messages.error(request, _error(exc))
        return redirect("assessments:systems")
    messages.success(request, _("指标体系已建立。"))
    return redirect("assessments:system", pk=system.pk)


def _system(request, pk: int) -> IndicatorSystem:
    return get_object_or_404(IndicatorSystem.objects.restrict(request.user, "view")
                             .select_related("place"), pk=pk)


@login_required
@require_GET
def system_page(request, pk: int):
    system = _system(request, pk)
    versions = list(system.versions.select_related("created_by").order_by("-number"))
    number = request.GET.get("version")
    version = next((v for v in versions if str(v.number) == number), versions[0] if versions
                   else None)
    indicators = list(version.indicators.all()) if version else []
    catalogue = figure_catalogue()
    policy = version.policy if version else {}
    return render(request, "assessments/system.html", {
        "system": system, "version": version, "versions": versions,
        "lines": [{"ind": i, "rule": describe_rule(i),
                   "figure": catalogue[i.figure].label if i.figure in catalogue else ""}
                  for i in indicators],
        "policy": policy,
        "share_percent": plain(Decimal(str(policy.get("points_share", {}).get("share", 0)))
                               * 100) if policy else "",
        "can_edit": has_permission(request.user, "assessments.systems", system.place),
        "crumbs": _crumbs((_("指标体系"), reverse("assessments:systems")), (system.name, "")),
    })


@login_required
@require_http_methods(["GET", "POST"])
def system_edit(request, pk: int):
    system = _system(request, pk)
    user = request.user
    if not has_permission(user, "assessments.systems", system.place):
        raise PermissionDenied(_("您没有维护考核指标体系的权限。"))
    version = system.current()
    context = {"system": system, "version": version,
               "crumbs": _crumbs((_("指标体系"), reverse("assessments:systems")),
                                 (system.name, reverse("assessments:system", args=[pk])),
                                 (_("修订"), ""))}
    if request.method == "GET":
        context["policy_form"] = PolicyForm(
            unit_kind=system.unit_kind, initial=PolicyForm.initial_from(version.policy))
        context["formset"] = IndicatorFormSet(initial=[
            IndicatorFormSet.form.initial_from(indicator_dict(i))
            for i in version.indicators.all()])
        return render(request, "assessments/system_edit.html", context)
    policy_form = PolicyForm(request.POST, unit_kind=system.unit_kind)
    formset = IndicatorFormSet(request.POST)
    context.update(policy_form=policy_form, formset=formset)
    if not policy_form.is_valid() or not formset.is_valid():
        errors = [error_text(policy_form)] if policy_form.errors else []
        errors += [error_text(f) for f in formset.forms if f.errors]
        errors += [str(e) for e in formset.non_form_errors()]
        context["error"] = " ".join(e for e in errors if e)
        return render(request, "assessments/system_edit.html", context, status=400)
    try:
        items = [f.item() for f in formset.forms
                 if not f.is_blank() and not f.cleaned_data.get("DELETE")]
        actions.do_save_system_version(system, indicators=items,
                                       policy=policy_form.policy(version.policy),
                                       note=policy_form.cleaned_data["note"], acting_user=user)
    except ValidationError as exc:
        context["error"] = _error(exc)
        return render(request, "assessments/system_edit.html", context, status=400)
    messages.success(request, _("已保存为新版本；已建立的考核仍按原版本计算。"))
    return redirect("assessments:system", pk=system.pk)
