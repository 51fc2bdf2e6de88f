"""Pages of 办: the handling panel's forms, a department's 待报到 list, check-in statistics.

Views translate: they load objects through the access path (``Matter.objects.restrict``, and
summonses through the matters their user may see), parse the form, call one action and
render. An htmx request gets the re-rendered panel (or summons card); a plain one is
redirected back to the matter page. A refused action shows its sentence: on the page (400)
when the input was wrong, as a 403 when the user may not do it.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Case, IntegerField, Value, When
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from gongzhi.core.access import has_permission
from gongzhi.core.errors import ActionError, ActionForbidden
from gongzhi.matters.models import Matter

from . import actions
from .access import organisation_summons, visible_summons
from .forms import (
    AssignForm,
    CheckInForm,
    EscalateForm,
    MediationForm,
    ResultForm,
    SummonForm,
    SummonsActionForm,
    TransferForm,
)
from .models import Summons, SummonsStatus
from .panels import handling_panel_context, padded
from .stats import summons_stats, summons_stats_by_organisation

PANEL = "handling/panels/handling.html"


def _matter(request, pk: int) -> Matter:
    return get_object_or_404(
        Matter.objects.restrict(request.user, "view").select_related(
            "place", "queue_place", "workflow", "responsible_org", "responsible_user"),
        pk=pk,
    )


def _matter_page_url(matter: Matter) -> str:
    """The matter page, when there is one (this page is its fallback)."""
    try:
        return reverse("matters:detail", kwargs={"pk": matter.pk})
    except NoReverseMatch:
        return ""


def _error_text(exc: ActionError) -> str:
    return " ".join(exc.messages)


def _panel_response(request, matter: Matter, *, error: str = "", notice: str = "",
                    open_form: str = "", status: int = 200):
    ctx = handling_panel_context(request, matter) or {}
    ctx.update(matter=matter, error=error, notice=notice, open_form=open_form,
               form_data=request.POST if error else {})
    if error and open_form == "mediation":
        form = MediationForm(matter, request.POST)
        ctx.update(party_rows=padded(form.parties(), 2), term_rows=padded(form.terms(), 3))
    if not request.htmx:
        ctx["matter_page_url"] = _matter_page_url(matter)
    template = PANEL if request.htmx else "handling/matter.html"
    return render(request, template, ctx, status=200 if request.htmx else status)


def _run(request, pk: int, form_key: str, call):
    """Load the matter, run ``call(matter)`` (which parses and calls the action), answer."""
    matter = _matter(request, pk)
    try:
        notice = call(matter)
    except ActionForbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    except ActionError as exc:
        return _panel_response(request, matter, error=_error_text(exc), open_form=form_key,
                               status=400)
    matter = _matter(request, pk)
    if request.htmx:
        return _panel_response(request, matter, notice=notice)
    messages.success(request, notice)
    return redirect(actions.matter_url(matter))


def _valid(form) -> None:
    if not form.is_valid():
        raise ActionError(form.error_text())


@login_required
@require_GET
def matter_handling(request, pk: int):
    """The handling panel of one matter on a page of its own (the matter page embeds it)."""
    matter = _matter(request, pk)
    return _panel_response(request, matter)


@login_required
@require_POST
def assign(request, pk: int):
    def call(matter):
        form = AssignForm(matter, request.POST)
        _valid(form)
        d = form.cleaned_data
        actions.do_assign(matter, acting_user=request.user, mode=d["mode"],
                          responsible_user=d["responsible_user"],
                          responsible_org=d["responsible_org"], co_orgs=list(d["co_orgs"]),
                          due_at=d["due_at"], instructions=d["instructions"])
        return _("已交办。")
    return _run(request, pk, "assign", call)


@login_required
@require_POST
def report_result(request, pk: int):
    def call(matter):
        form = ResultForm(request.POST)
        _valid(form)
        d = form.cleaned_data
        actions.do_report_result(matter, d["transition"], acting_user=request.user,
                                 outcome=d["outcome"], outcome_text=d["outcome_text"],
                                 explanation=d["explanation"], comment=d["comment"],
                                 attachments=request.FILES.getlist("attachments") or None)
        return _("已记录办理结果。")
    return _run(request, pk, "result", call)


@login_required
@require_POST
def summon(request, pk: int):
    def call(matter):
        form = SummonForm(matter, request.POST)
        _valid(form)
        d = form.cleaned_data
        created = actions.do_summon(matter, list(d["organisations"]), acting_user=request.user,
                                    reason=d["reason"], urgent=d["urgent"])
        return _("已吹哨召集 %(n)d 个单位。") % {"n": len(created)}
    return _run(request, pk, "summon", call)


@login_required
@require_POST
def escalate(request, pk: int):
    def call(matter):
        form = EscalateForm(matter, request.POST)
        _valid(form)
        escalation = actions.do_escalate(matter, acting_user=request.user,
                                         reason=form.cleaned_data["reason"])
        return _("已提级上报至%(place)s。") % {"place": escalation.to_place.name}
    return _run(request, pk, "escalate", call)


@login_required
@require_POST
def transfer(request, pk: int):
    def call(matter):
        form = TransferForm(matter, request.POST)
        _valid(form)
        d = form.cleaned_data
        actions.do_transfer(matter, acting_user=request.user, organisation=d["organisation"],
                            reason=d["reason"])
        return _("已移交%(org)s处置。") % {"org": d["organisation"].name}
    return _run(request, pk, "transfer", call)


@login_required
@require_POST
def mediation(request, pk: int):
    def call(matter):
        form = MediationForm(matter, request.POST)
        _valid(form)
        d = form.cleaned_data
        actions.do_record_mediation(
            matter, acting_user=request.user, way=d["way"], method=d["method"],
            parties=form.parties(), consent=d["consent"], facts=d["facts"],
            responsibilities=d["responsibilities"], terms=form.terms(),
            work_record=d["work_record"], signed_at=d["signed_at"], outcome=d["outcome"],
            outcome_reason=d["outcome_reason"], transfer_to=d["transfer_to"],
        )
        return _("已记录说事评理。")
    return _run(request, pk, "mediation", call)


# ---------------------------------------------------------------------------------------------
# A department's 待报到


def _ordered(qs):
    """Waiting first (the most pressing deadline first), then checked in, then done."""
    return qs.annotate(rank=Case(
        When(status=SummonsStatus.WAITING, then=Value(0)),
        When(status=SummonsStatus.CHECKED_IN, then=Value(1)),
        default=Value(2), output_field=IntegerField(),
    )).order_by("rank", "check_in_due", "pk")


def _decorate(summonses, now):
    for s in summonses:
        s.missing = s.is_missing(now)
        s.url = actions.matter_url(s.matter)
    return summonses


@login_required
@require_GET
def summonses(request):
    """待报到: the summonses of the user's organisation, waiting first, overdue marked."""
    if not has_permission(request.user, "handling.check_in"):
        raise PermissionDenied(_("只有部门联络员可以查看待报到事项。"))
    now = timezone.now()
    base = organisation_summons(request.user)
    status = request.GET.get("status", "")
    qs = base.filter(status=status) if status in SummonsStatus.values else base
    items = _decorate(list(_ordered(qs).select_related(
        "matter", "matter__place", "organisation", "summoned_by")[:200]), now)
    return render(request, "handling/summonses.html", {
        "summonses": items, "stats": summons_stats(base, now), "status": status,
        "statuses": SummonsStatus.choices, "now": now,
        "organisation": request.user.organisation,
    })


def _summons(request, pk: int) -> Summons:
    return get_object_or_404(visible_summons(request.user).select_related(
        "matter", "matter__place", "organisation", "summoned_by"), pk=pk)


def _back(request, fallback: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()},
                                                  request.is_secure()):
        return target
    return fallback


def _run_summons(request, pk: int, call):
    summons = _summons(request, pk)
    error = ""
    try:
        notice = call(summons)
    except ActionForbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    except ActionError as exc:
        error, notice = _error_text(exc), ""
    summons = _summons(request, pk)
    if request.htmx and request.POST.get("from") == "panel":
        return _panel_response(request, _matter(request, summons.matter_id), error=error,
                               notice=notice)
    if request.htmx:
        _decorate([summons], timezone.now())
        return render(request, "handling/partials/summons_card.html",
                      {"s": summons, "error": error, "notice": notice})
    if error:
        messages.error(request, error)
    else:
        messages.success(request, notice)
    return redirect(_back(request, actions.summonses_url()))


@login_required
@require_POST
def check_in(request, pk: int):
    def call(summons):
        form = CheckInForm(request.POST)
        form.is_valid()
        s = actions.do_check_in(summons, acting_user=request.user,
                                note=form.cleaned_data.get("note", ""))
        return _("已迟到报到，请尽快处置。") if s.is_late else _("已按时报到。")
    return _run_summons(request, pk, call)


@login_required
@require_POST
def summons_action(request, pk: int):
    def call(summons):
        form = SummonsActionForm(request.POST)
        form.is_valid()
        d = form.cleaned_data
        actions.do_record_summons_action(summons, acting_user=request.user,
                                         action_taken=d.get("action_taken", ""),
                                         done=bool(d.get("done")))
        return _("已记录处置情况。")
    return _run_summons(request, pk, call)


# ---------------------------------------------------------------------------------------------
# Check-in statistics for those who blow the whistle and those who supervise


@login_required
@require_GET
def stats(request):
    """Summonses on the matters the user may see, counted per summoned unit."""
    if not has_permission(request.user, "handling.view_stats"):
        raise PermissionDenied(_("您没有查看吹哨报到统计的权限。"))
    now = timezone.now()
    qs = visible_summons(request.user)
    since = parse_date(request.GET.get("since", "") or "")
    if since:
        qs = qs.filter(summoned_at__date__gte=since)
    return render(request, "handling/stats.html", {
        "totals": summons_stats(qs, now), "rows": summons_stats_by_organisation(qs, now),
        "since": since, "missing": _decorate(list(
            qs.filter(status=SummonsStatus.WAITING, checked_in_at__isnull=True,
                      check_in_due__lt=now).select_related("matter", "organisation")
            .order_by("check_in_due")[:50]), now),
    })
