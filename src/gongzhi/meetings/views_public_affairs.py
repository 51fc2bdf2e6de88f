"""Pages of 四议两公开, 三务公开 and the sunshine report meetings.

Staff pages need ``meetings.view`` somewhere (403 otherwise: residents read the public pages
only); every object named in a request is loaded through ``restrict`` or the villages the user
reaches (404 outside them). Writes call one action each; a refused action shows its sentence on
the page (400), a forbidden one answers 403.

The public page of a village (``/meetings/public/<village>/disclosures/``, no login) shows the
published items, which periods are covered, the 四议两公开 procedures and the sunshine figures,
with phones and ID numbers in texts masked and nobody's name shown.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gongzhi.board.anonymise import mask_numbers
from gongzhi.core.access import has_permission, user_grants
from gongzhi.core.errors import ActionError
from gongzhi.matters.models import Ledger, Matter
from gongzhi.places.models import Place, PlaceKind

from . import disclosure as dis
from . import procedures as proc
from . import sunshine as sun
from .access import villages_for
from .kinds import SUNSHINE
from .models import (
    Disclosure,
    DisclosureDomain,
    DisclosurePolicy,
    DisclosureRhythm,
    FourStepProcedure,
    FourStepStep,
    Meeting,
    SunshineQuestion,
    Topic,
)

VIEW = "meetings.view"
PER_PAGE = 30


def _require_staff(user) -> None:
    if not has_permission(user, VIEW):
        raise PermissionDenied(_("您没有查看议事的权限。"))


def _error_text(exc: ValidationError) -> str:
    return " ".join(str(m) for m in exc.messages)


def _meeting_url(meeting: Meeting) -> str:
    try:
        return reverse("meetings:detail", kwargs={"pk": meeting.pk})
    except NoReverseMatch:
        return ""


def _may(user, permission: str, place: Place) -> bool:
    return has_permission(user, permission, place)


def _village(request, village_id: int) -> Place:
    return get_object_or_404(villages_for(request.user, VIEW), pk=village_id)


def _date(value: str | None, default: dt.date) -> dt.date:
    return parse_date(value or "") or default


# =============================================================================================
# 四议两公开


def _procedures(request):
    return FourStepProcedure.objects.restrict(request.user, "view").select_related("village")


@login_required
@require_GET
def fourstep_list(request):
    user = request.user
    _require_staff(user)
    qs = _procedures(request)
    state = request.GET.get("state", "")
    if state == "open":
        qs = qs.filter(is_complete=False)
    elif state == "complete":
        qs = qs.filter(is_complete=True)
    page = Paginator(qs.order_by("is_complete", "-created_at", "-pk"), PER_PAGE).get_page(
        request.GET.get("page"))
    villages = [v for v in villages_for(user, VIEW) if _may(user, proc.PERMISSION, v)]
    return render(request, "meetings/fourstep_list.html", {
        "page": page, "procedures": page.object_list, "state": state, "villages": villages,
        "crumbs": [{"label": _("四议两公开"), "url": ""}],
    })


@login_required
@require_POST
def fourstep_new(request):
    user = request.user
    _require_staff(user)
    village = _village(request, _int(request.POST.get("village")) or 0)
    matter = None
    matter_id = _int(request.POST.get("matter"))
    if matter_id:
        matter = get_object_or_404(Matter.objects.restrict(user, "view"), pk=matter_id)
    try:
        procedure = proc.do_start_fourstep(village, acting_user=user,
                                           title=request.POST.get("title", ""),
                                           description=request.POST.get("description", ""),
                                           matter=matter)
    except ActionError as exc:
        messages.error(request, _error_text(exc))
        return redirect("meetings:fourstep_list")
    messages.success(request, _("已启动四议两公开程序，请先完成“党支部提议”。"))
    return redirect("meetings:fourstep_detail", pk=procedure.pk)


def _fourstep_page(request, procedure: FourStepProcedure, *, error: str = "", status: int = 200):
    user = request.user
    can_act = _may(user, proc.PERMISSION, procedure.place)
    steps = proc.procedure_steps(procedure)
    for s in steps:
        s.meeting_url = _meeting_url(s.meeting) if s.meeting else ""
    candidates = list(proc.candidate_topics(procedure, user)[:50]) if can_act else []
    return render(request, "meetings/fourstep_detail.html", {
        "procedure": procedure, "steps": steps, "can_act": can_act, "candidates": candidates,
        "current": procedure.current_step, "meeting_steps": proc.MEETING_STEPS,
        "public_url": reverse("meetings:public_disclosures", args=[procedure.village_id]),
        "error": error,
        "crumbs": [{"label": _("四议两公开"), "url": reverse("meetings:fourstep_list")},
                   {"label": procedure.title, "url": ""}],
    }, status=status)


@login_required
@require_GET
def fourstep_detail(request, pk: int):
    _require_staff(request.user)
    procedure = get_object_or_404(_procedures(request).select_related("place", "matter"), pk=pk)
    return _fourstep_page(request, procedure)


@login_required
@require_POST
def fourstep_step(request, pk: int):
    """Complete a meeting step with a topic, or publish (决议公开 / 实施结果公开)."""
    user = request.user
    _require_staff(user)
    procedure = get_object_or_404(_procedures(request).select_related("place", "matter"), pk=pk)
    step = request.POST.get("step", "")
    try:
        if step in (FourStepStep.RESOLUTION_PUBLISHED, FourStepStep.RESULT_PUBLISHED):
            publish = (proc.do_publish_fourstep_resolution
                       if step == FourStepStep.RESOLUTION_PUBLISHED
                       else proc.do_publish_fourstep_result)
            publish(procedure, acting_user=user, content=request.POST.get("content", ""))
        else:
            topic_id = _int(request.POST.get("topic"))
            if not topic_id:
                raise ActionError(_("请选择作为依据的会议议题。"))
            topic = get_object_or_404(Topic.objects.restrict(user, "view"), pk=topic_id)
            proc.do_record_fourstep_step(procedure, step, topic, acting_user=user)
    except ActionError as exc:
        procedure.refresh_from_db()
        return _fourstep_page(request, procedure, error=_error_text(exc), status=400)
    messages.success(request, _("“%(step)s”已完成。") % {"step": proc.step_label(step)})
    return redirect("meetings:fourstep_detail", pk=procedure.pk)


# =============================================================================================
# 三务公开


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@login_required
@require_GET
def disclosures(request):
    """Per village in reach: the last ended period of each domain and the gaps of the year."""
    user = request.user
    _require_staff(user)
    today = timezone.localdate()
    villages = villages_for(user, VIEW).select_related("town")
    town = _int(request.GET.get("town"))
    if town:
        villages = villages.filter(town_id=town)
    page = Paginator(villages, PER_PAGE).get_page(request.GET.get("page"))
    cov = dis.coverage(page.object_list, today)
    rows = []
    for v in page.object_list:
        cells = []
        for domain in DisclosureDomain.values:
            statuses = cov[v.pk][domain]
            cells.append({"latest": dis.latest_ended(statuses, today),
                          "gaps": sum(1 for s in statuses if s.is_gap)})
        rows.append({"village": v, "cells": cells})
    return render(request, "meetings/disclosure_overview.html", {
        "page": page, "rows": rows, "domains": DisclosureDomain.choices, "today": today,
        "can_configure": bool(_managed_counties(user)),
        "crumbs": [{"label": _("三务公开"), "url": ""}],
    })


def _village_page(request, village: Place, *, error: str = "", status: int = 200, form=None):
    user = request.user
    today = timezone.localdate()
    cov = dis.coverage([village], today)[village.pk]
    rhythm = dis.disclosure_rhythm(village.county_id)
    items = (Disclosure.objects.restrict(user, "view").filter(village_id=village.pk)
             .select_related("meeting").order_by("-published_at", "-pk"))
    page = Paginator(items, PER_PAGE).get_page(request.GET.get("page"))
    can_publish = _may(user, dis.PERMISSION, village)
    meetings = []
    if can_publish:
        meetings = list(Meeting.objects.restrict(user, "view")
                        .filter(village_id=village.pk, kind__code=SUNSHINE)
                        .exclude(status="cancelled").order_by("-starts_at")[:20])
    sections = [{"domain": d, "label": label, "rhythm": rhythm.of(d),
                 "rhythm_label": DisclosureRhythm(rhythm.of(d)).label, "periods": cov[d]}
                for d, label in DisclosureDomain.choices]
    return render(request, "meetings/disclosure_village.html", {
        "village": village, "sections": sections, "page": page, "items": page.object_list,
        "can_publish": can_publish, "domains": DisclosureDomain.choices, "meetings": meetings,
        "due_days": rhythm.due_days, "error": error, "form": form or {},
        "public_url": reverse("meetings:public_disclosures", args=[village.pk]),
        "crumbs": [{"label": _("三务公开"), "url": reverse("meetings:disclosures")},
                   {"label": village.name, "url": ""}],
    }, status=status)


@login_required
@require_GET
def disclosure_village(request, village_id: int):
    _require_staff(request.user)
    return _village_page(request, _village(request, village_id))


@login_required
@require_POST
def disclosure_publish(request, village_id: int):
    user = request.user
    _require_staff(user)
    village = _village(request, village_id)
    post = request.POST
    meeting = None
    meeting_id = _int(post.get("meeting"))
    if meeting_id:
        meeting = get_object_or_404(Meeting.objects.restrict(user, "view"), pk=meeting_id)
    try:
        item = dis.do_publish_disclosure(
            village, acting_user=user, domain=post.get("domain", ""), title=post.get("title", ""),
            content=post.get("content", ""), period_start=parse_date(post.get("period_start", "")),
            period_end=parse_date(post.get("period_end", "")),
            is_major=post.get("is_major") in ("on", "1", "true"), meeting=meeting)
    except ActionError as exc:
        return _village_page(request, village, error=_error_text(exc), status=400, form=post)
    messages.success(request, _("“%(title)s”已在公开栏发布。") % {"title": item.title})
    if meeting is not None and post.get("next") == "sunshine":
        return redirect("meetings:sunshine_meeting", meeting_id=meeting.pk)
    return redirect("meetings:disclosure_village", village_id=village.pk)


def _managed_counties(user) -> list[Place]:
    """The counties where the user sets the rhythm (``meetings.manage`` at the county)."""
    counties = Place.objects.filter(kind=PlaceKind.COUNTY, is_active=True)
    if not user.is_superuser:
        counties = counties.filter(pk__in={g.county_id for g in user_grants(user)})
    return [c for c in counties.order_by("pk") if has_permission(user, "meetings.manage", c)]


@login_required
@require_http_methods(["GET", "POST"])
def disclosure_rhythm(request):
    """The county's rhythm (``meetings.manage`` at the county)."""
    user = request.user
    _require_staff(user)
    counties = _managed_counties(user)
    if not counties:
        raise PermissionDenied(_("三务公开周期由县（区）设定。"))
    error = ""
    status = 200
    if request.method == "POST":
        county = next((c for c in counties if c.pk == _int(request.POST.get("county"))), None)
        if county is None:
            raise Http404
        try:
            dis.do_set_disclosure_policy(
                county, acting_user=user, party=request.POST.get("party", ""),
                village=request.POST.get("village", ""),
                finance=request.POST.get("finance", ""),
                due_days=_int(request.POST.get("due_days")) or 0)
        except ActionError as exc:
            error, status = _error_text(exc), 400
        else:
            messages.success(request, _("三务公开周期已保存。"))
            return redirect("meetings:disclosure_rhythm")
    rows = {p.county_id: p for p in DisclosurePolicy.objects.filter(
        county_id__in=[c.pk for c in counties])}
    forms = []
    for c in counties:
        r = dis._rhythm_of(rows.get(c.pk))
        forms.append({"county": c, "rhythm": r.by_domain, "due_days": r.due_days,
                      "fields": [(d, label, [(v, DisclosureRhythm(v).label)
                                             for v in dis.ALLOWED_RHYTHMS[d]])
                                 for d, label in DisclosureDomain.choices]})
    return render(request, "meetings/disclosure_rhythm.html", {
        "forms": forms, "error": error,
        "crumbs": [{"label": _("三务公开"), "url": reverse("meetings:disclosures")},
                   {"label": _("公开周期"), "url": ""}],
    }, status=status)


# =============================================================================================
# Sunshine report meetings


def _scope_places(user):
    """The places a user may see figures for: counties, towns and villages in reach."""
    villages = villages_for(user, VIEW)
    ids = set()
    for v in villages.values("county_id", "town_id", "pk"):
        ids.update(i for i in (v["county_id"], v["town_id"], v["pk"]) if i)
    allowed = [p for p in Place.objects.filter(pk__in=ids).order_by("kind", "sort_order", "pk")
               if p.kind == PlaceKind.VILLAGE or has_permission(user, VIEW, p)]
    order = {PlaceKind.COUNTY: 0, PlaceKind.TOWN: 1, PlaceKind.VILLAGE: 2}
    return sorted(allowed, key=lambda p: (order[p.kind], p.sort_order, p.pk))


@login_required
@require_GET
def sunshine(request):
    user = request.user
    _require_staff(user)
    places = _scope_places(user)
    if not places:
        raise PermissionDenied(_("您没有查看议事的权限。"))
    place_id = _int(request.GET.get("place"))
    place = next((p for p in places if p.pk == place_id), None) if place_id else places[0]
    if place is None:
        raise Http404
    today = timezone.localdate()
    start = _date(request.GET.get("start"), dt.date(today.year, 1, 1))
    end = _date(request.GET.get("end"), dt.date(today.year, 12, 31))
    meetings_qs = sun.sunshine_meetings(place, start, end).filter(
        pk__in=Meeting.objects.restrict(user, "view").values("pk"))
    figures = sun.figures_of(meetings_qs)
    meetings = list(meetings_qs.select_related("village").order_by("-starts_at")[:100])
    per = sun.figures_by_meeting(meetings)
    return render(request, "meetings/sunshine.html", {
        "places": places, "place": place, "start": start, "end": end, "figures": figures,
        "rows": [{"meeting": m, "figures": per[m.pk]} for m in meetings],
        "crumbs": [{"label": _("阳光报告会"), "url": ""}],
    })


def _sunshine_meeting(request, meeting_id: int) -> Meeting:
    return get_object_or_404(Meeting.objects.restrict(request.user, "view")
                             .select_related("kind", "village", "place"),
                             pk=meeting_id, kind__code=SUNSHINE)


def _sunshine_page(request, meeting: Meeting, *, error: str = "", status: int = 200):
    user = request.user
    can_record = _may(user, sun.RECORD, meeting.place)
    can_publish = _may(user, dis.PERMISSION, meeting.place)
    questions = list(SunshineQuestion.objects.filter(meeting=meeting)
                     .select_related("matter", "matter__merged_into").order_by("at", "pk"))
    items = list(Disclosure.objects.filter(meeting=meeting).order_by("domain", "pk"))
    linkable = []
    if can_publish:
        linkable = list(Disclosure.objects.filter(village_id=meeting.village_id,
                                                  meeting__isnull=True,
                                                  published_at__isnull=False)
                        .order_by("-published_at")[:50])
    return render(request, "meetings/sunshine_meeting.html", {
        "meeting": meeting, "questions": questions, "items": items, "linkable": linkable,
        "figures": sun.figures_by_meeting([meeting])[meeting.pk], "can_record": can_record,
        "can_publish": can_publish, "domains": DisclosureDomain.choices,
        "ledgers": Ledger.choices, "meeting_url": _meeting_url(meeting), "error": error,
        "recordable": meeting.status in sun.RECORDABLE,
        "crumbs": [{"label": _("阳光报告会"), "url": reverse("meetings:sunshine")},
                   {"label": meeting.title, "url": ""}],
    }, status=status)


@login_required
@require_GET
def sunshine_meeting(request, meeting_id: int):
    _require_staff(request.user)
    return _sunshine_page(request, _sunshine_meeting(request, meeting_id))


def _run(request, meeting: Meeting, call, notice: str):
    try:
        call()
    except ActionError as exc:
        return _sunshine_page(request, meeting, error=_error_text(exc), status=400)
    messages.success(request, notice)
    return redirect("meetings:sunshine_meeting", meeting_id=meeting.pk)


@login_required
@require_POST
def sunshine_question(request, meeting_id: int):
    _require_staff(request.user)
    meeting = _sunshine_meeting(request, meeting_id)
    post = request.POST
    return _run(request, meeting, lambda: sun.do_record_question(
        meeting, acting_user=request.user, text=post.get("text", ""),
        asked_by=post.get("asked_by", ""), answer=post.get("answer", "")),
        _("已记录现场问题。"))


def _question(request, pk: int) -> SunshineQuestion:
    meetings = Meeting.objects.restrict(request.user, "view").filter(kind__code=SUNSHINE)
    return get_object_or_404(SunshineQuestion.objects.filter(meeting__in=meetings)
                             .select_related("meeting__kind", "meeting__place",
                                             "meeting__village"), pk=pk)


@login_required
@require_POST
def sunshine_answer(request, pk: int):
    _require_staff(request.user)
    question = _question(request, pk)
    return _run(request, question.meeting, lambda: sun.do_answer_question(
        question, acting_user=request.user, answer=request.POST.get("answer", "")),
        _("已登记当场答复。"))


@login_required
@require_POST
def sunshine_to_matter(request, pk: int):
    user = request.user
    _require_staff(user)
    question = _question(request, pk)
    post = request.POST
    matter = None
    if _int(post.get("matter")):
        matter = get_object_or_404(Matter.objects.restrict(user, "view"), pk=int(post["matter"]))
    ledger = post.get("ledger") or Ledger.SUGGESTION
    return _run(request, question.meeting, lambda: sun.do_turn_question_into_matter(
        question, acting_user=user, title=post.get("title", ""), ledger=ledger, matter=matter),
        _("问题已转为事项办理。"))


@login_required
@require_POST
def sunshine_link_item(request, meeting_id: int):
    user = request.user
    _require_staff(user)
    meeting = _sunshine_meeting(request, meeting_id)
    item = get_object_or_404(Disclosure.objects.restrict(user, "view"),
                             pk=_int(request.POST.get("disclosure")) or 0)
    return _run(request, meeting, lambda: dis.do_report_disclosure_at_meeting(
        item, meeting, acting_user=user), _("已将公开事项列入本次报告会。"))


# =============================================================================================
# The public page of a village (no login)


def public_village(village_id: int) -> Place:
    village = Place.objects.filter(pk=village_id, kind=PlaceKind.VILLAGE, is_active=True).first()
    if village is None:
        raise Http404
    return village


def public_item(item: Disclosure) -> dict:
    """A disclosure as the public reads it: phones and ID numbers in its texts masked."""
    return {"id": item.pk, "domain": item.domain, "domain_label": item.get_domain_display(),
            "title": mask_numbers(item.title), "content": mask_numbers(item.content),
            "period_start": item.period_start, "period_end": item.period_end,
            "is_major": item.is_major, "published_at": item.published_at,
            "meeting_title": item.meeting.title if item.meeting_id else ""}


def public_procedure(procedure: FourStepProcedure) -> dict:
    steps = []
    for s in proc.procedure_steps(procedure):
        row = {"step": s.step, "label": s.label, "state": s.state, "date": None,
               "kind": "", "vote": None, "disclosure_id": None}
        if s.meeting is not None:
            row.update(date=timezone.localtime(s.meeting.starts_at).date(),
                       kind=s.meeting.kind.name)
            v = s.vote
            if v is not None:
                row["vote"] = {"consensus": v.consensus, "present": v.present,
                               "for": v.votes_for, "against": v.votes_against,
                               "abstain": v.abstentions,
                               "invited": s.meeting.invited_count}
        elif s.disclosure is not None:
            row.update(date=timezone.localtime(s.disclosure.published_at).date(),
                       disclosure_id=s.disclosure.pk)
        steps.append(row)
    return {"id": procedure.pk, "title": mask_numbers(procedure.title),
            "is_complete": procedure.is_complete, "current_step": procedure.current_step,
            "current_label": proc.step_label(procedure.current_step), "steps": steps}


@require_GET
def public_disclosures(request, village_id: int):
    village = public_village(village_id)
    today = timezone.localdate()
    domain = request.GET.get("domain", "")
    items = (Disclosure.objects.filter(village_id=village.pk, published_at__isnull=False)
             .select_related("meeting").order_by("-published_at", "-pk"))
    if domain in DisclosureDomain.values:
        items = items.filter(domain=domain)
    else:
        domain = ""
    page = Paginator(items, PER_PAGE).get_page(request.GET.get("page"))
    cov = dis.coverage([village], today)[village.pk]
    procedures = [public_procedure(p) for p in proc.with_records(FourStepProcedure.objects.filter(
        village_id=village.pk)).order_by("is_complete", "-created_at")[:20]]
    year_start = dt.date(today.year, 1, 1)
    figures = sun.sunshine_figures(village, year_start, dt.date(today.year, 12, 31))
    return render(request, "meetings/disclosure_public.html", {
        "village": village, "page": page, "items": [public_item(i) for i in page.object_list],
        "domain": domain, "domains": DisclosureDomain.choices,
        "coverage": [{"label": label, "periods": cov[d][:4]}
                     for d, label in DisclosureDomain.choices],
        "procedures": procedures, "figures": figures, "year": today.year,
        "board_url": _board_url(village),
    })


def _board_url(village: Place) -> str:
    try:
        return reverse("board:place", args=[village.pk])
    except NoReverseMatch:
        return ""

