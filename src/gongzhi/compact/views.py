"""Pages of 村规民约与群众组织: the staff pages (compacts, amendments, associations, moral
reviews) and the public page of a village's compact with its history (no login).

Views translate: they load through ``restrict`` (anything outside the user's scope is a 404),
call one action and redirect with a message, or show the refusal.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from gongzhi.core.access import has_permission
from gongzhi.core.errors import ActionError
from gongzhi.core.views import error_text as _error
from gongzhi.core.views import run_action as _run
from gongzhi.meetings.access import villages_for
from gongzhi.meetings.models import Meeting, MeetingStatus
from gongzhi.places.models import Household, Person, Place, PlaceKind

from . import actions
from .diff import chinese_number
from .models import (
    Amendment,
    AmendmentStatus,
    Association,
    AssociationKind,
    Compact,
    CompactVersion,
    MemberRole,
    MoralReview,
    Verdict,
)


def numbered(articles: list[str]) -> list[dict]:
    return [{"label": _("第%(n)s条") % {"n": chinese_number(i)}, "text": a}
            for i, a in enumerate(articles, start=1)]


def _require_view(user) -> None:
    if not has_permission(user, "compact.view"):
        raise PermissionDenied(_("您没有查看村规民约与群众组织的权限。"))


def _village(request, permission: str, raw) -> Place:
    try:
        pk = int(raw)
    except (TypeError, ValueError):
        raise Http404 from None
    village = get_object_or_404(Place, pk=pk, kind=PlaceKind.VILLAGE)
    if not has_permission(request.user, permission, village):
        raise Http404
    return village


# ---------------------------------------------------------------------------------------------
# Staff: compacts and amendments


@login_required
@require_GET
def index(request):
    user = request.user
    _require_view(user)
    compacts = list(Compact.objects.restrict(user, "view").select_related("village")
                    .order_by("village__name"))
    amendments = list(Amendment.objects.restrict(user, "view").select_related("village")
                      .filter(status__in=(AmendmentStatus.PROPOSED, AmendmentStatus.PASSED)))
    registered = {c.village_id for c in compacts}
    villages = [v for v in villages_for(user, "compact.manage") if v.pk not in registered]
    return render(request, "compact/index.html", {
        "compacts": compacts, "amendments": amendments, "unregistered": villages,
        "crumbs": [{"label": _("村规民约与群众组织"), "url": None}],
    })


@login_required
def register(request):
    user = request.user
    village = _village(request, "compact.manage", request.GET.get("village")
                       or request.POST.get("village"))
    error = ""
    if request.method == "POST":
        p = request.POST
        try:
            compact = actions.do_register_compact(
                village, acting_user=user, title=p.get("title", ""),
                articles=p.get("articles", ""), adopted_on=parse_date(p.get("adopted_on") or ""),
                basis=p.get("basis", ""), preamble=p.get("preamble", ""),
                kind=p.get("kind") or None)
        except ActionError as exc:
            error = _error(exc)
        else:
            messages.success(request, _("村规民约已登记并公布。"))
            return redirect("compact:detail", compact.pk)
    return render(request, "compact/register.html", {
        "village": village, "error": error, "form": request.POST,
    }, status=400 if error else 200)


def _compact(request, pk: int) -> Compact:
    return get_object_or_404(Compact.objects.restrict(request.user, "view")
                             .select_related("village"), pk=pk)


@login_required
@require_GET
def compact_detail(request, pk: int):
    compact = _compact(request, pk)
    versions = list(compact.versions.select_related(
        "resolution__topic__meeting", "resolution__topic__vote").order_by("-number"))
    return render(request, "compact/detail.html", {
        "compact": compact, "current": versions[0] if versions else None,
        "articles": numbered(versions[0].articles) if versions else [],
        "versions": versions,
        "amendments": list(compact.amendments.select_related("topic__meeting")),
        "can_manage": has_permission(request.user, "compact.manage", compact.village),
        "crumbs": [{"label": _("村规民约与群众组织"), "url": "/compact/"},
                   {"label": compact.title, "url": None}],
    })


@login_required
def amend(request, pk: int):
    compact = _compact(request, pk)
    current = actions.current_version(compact)
    error = ""
    if request.method == "POST":
        p = request.POST
        try:
            amendment = actions.do_propose_amendment(
                compact, acting_user=request.user, reason=p.get("reason", ""),
                articles=p.get("articles", ""), title=p.get("title", ""))
        except ActionError as exc:
            error = _error(exc)
        else:
            messages.success(request, _("修订已提出，并已作为议题待列入会议议程。"))
            return redirect("compact:amendment", amendment.pk)
    return render(request, "compact/amend.html", {
        "compact": compact, "current": current, "error": error,
        "articles_text": request.POST.get("articles") if error else "\n".join(current.articles),
        "reason": request.POST.get("reason", ""),
    }, status=400 if error else 200)


def _amendment(request, pk: int) -> Amendment:
    return get_object_or_404(Amendment.objects.restrict(request.user, "view").select_related(
        "compact", "village", "topic__meeting", "base_version"), pk=pk)


@login_required
@require_GET
def amendment_detail(request, pk: int):
    amendment = _amendment(request, pk)
    meetings = []
    if amendment.status == AmendmentStatus.PROPOSED:
        meetings = list(Meeting.objects.restrict(request.user, "view").filter(
            village_id=amendment.village_id, kind__code__in=actions.ADOPTING_KINDS,
            status__in=(MeetingStatus.SCHEDULED, MeetingStatus.FROZEN,
                        MeetingStatus.IN_PROGRESS)).order_by("starts_at"))
    version = CompactVersion.objects.filter(amendment=amendment).first()
    return render(request, "compact/amendment.html", {
        "amendment": amendment, "meetings": meetings, "version": version,
        "can_manage": has_permission(request.user, "compact.manage", amendment.village),
    })


@login_required
@require_POST
def amendment_schedule(request, pk: int):
    amendment = _amendment(request, pk)
    meeting = get_object_or_404(Meeting.objects.restrict(request.user, "view"),
                                pk=request.POST.get("meeting") or 0)
    return _run(request, lambda: actions.do_schedule_amendment(
        amendment, meeting, acting_user=request.user, urgent=bool(request.POST.get("urgent")),
        reason=request.POST.get("reason", "")),
        _("已列入会议议程。"), f"/compact/amendments/{amendment.pk}/")


@login_required
@require_POST
def amendment_withdraw(request, pk: int):
    amendment = _amendment(request, pk)
    return _run(request, lambda: actions.do_withdraw_amendment(
        amendment, acting_user=request.user, reason=request.POST.get("reason", "")),
        _("修订已撤回。"), f"/compact/amendments/{amendment.pk}/")


# ---------------------------------------------------------------------------------------------
# Associations and moral reviews


@login_required
def associations(request):
    user = request.user
    _require_view(user)
    if request.method == "POST":
        village = _village(request, "compact.manage", request.POST.get("village"))
        return _run(request, lambda: actions.do_create_association(
            village, acting_user=user, kind=request.POST.get("kind", ""),
            name=request.POST.get("name", ""), duties=request.POST.get("duties", "")),
            _("群众组织已建立。"), "/compact/associations/")
    rows = list(Association.objects.restrict(user, "view").select_related("village")
                .order_by("village__name", "kind", "pk"))
    return render(request, "compact/associations.html", {
        "associations": rows, "kinds": AssociationKind.choices,
        "villages": list(villages_for(user, "compact.manage")),
        "crumbs": [{"label": _("村规民约与群众组织"), "url": "/compact/"},
                   {"label": _("群众组织"), "url": None}],
    })


def _association(request, pk: int) -> Association:
    return get_object_or_404(Association.objects.restrict(request.user, "view")
                             .select_related("village"), pk=pk)


@login_required
@require_GET
def association_detail(request, pk: int):
    association = _association(request, pk)
    members = sorted(association.members.filter(is_active=True).select_related("person"),
                     key=lambda m: ([r.value for r in MemberRole].index(m.role), m.pk))
    return render(request, "compact/association.html", {
        "association": association, "members": members, "roles": MemberRole.choices,
        "meetings": list(Meeting.objects.restrict(request.user, "view").filter(
            association=association.meeting_key).order_by("-starts_at")),
        "reviews": list(association.reviews.all()),
        "people": list(Person.objects.filter(village_id=association.village_id,
                                             is_active=True).order_by("name")[:500]),
        "can_manage": has_permission(request.user, "compact.manage", association.village),
        "can_review": has_permission(request.user, "compact.review", association.village),
    })


@login_required
@require_POST
def association_member_add(request, pk: int):
    association = _association(request, pk)
    person = get_object_or_404(Person, pk=request.POST.get("person") or 0,
                               village_id=association.village_id)
    return _run(request, lambda: actions.do_add_association_member(
        association, person, acting_user=request.user, role=request.POST.get("role", "member")),
        _("成员已加入。"), f"/compact/associations/{association.pk}/")


@login_required
@require_POST
def association_meeting(request, pk: int):
    association = _association(request, pk)
    starts_at = parse_datetime(request.POST.get("starts_at") or "")
    return _run(request, lambda: actions.do_call_association_meeting(
        association, acting_user=request.user, starts_at=starts_at,
        title=request.POST.get("title", ""), location=request.POST.get("location", "")),
        _("会议已安排，已通知成员。"), f"/compact/associations/{association.pk}/")


@login_required
@require_POST
def review_open(request, pk: int):
    association = _association(request, pk)
    try:
        review = actions.do_open_review(
            association, acting_user=request.user, title=request.POST.get("title", ""),
            held_on=parse_date(request.POST.get("held_on") or ""))
    except ActionError as exc:
        messages.error(request, _error(exc))
        return redirect("compact:association", association.pk)
    return redirect("compact:review", review.pk)


def _review(request, pk: int) -> MoralReview:
    return get_object_or_404(MoralReview.objects.restrict(request.user, "view")
                             .select_related("association", "village", "honour_list"), pk=pk)


@login_required
@require_GET
def review_detail(request, pk: int):
    review = _review(request, pk)
    return render(request, "compact/review.html", {
        "review": review,
        "results": list(review.results.select_related("person", "household")),
        "verdicts": Verdict.choices,
        "households": list(Household.objects.filter(place__village_id=review.village_id,
                                                    place__is_active=True).order_by("address")[:500]),
        "can_review": has_permission(request.user, "compact.review", review.village),
    })


@login_required
@require_POST
def review_result(request, pk: int):
    review = _review(request, pk)
    p = request.POST
    household = person = None
    if p.get("household"):
        household = get_object_or_404(Household, pk=p["household"])
    if p.get("person"):
        person = get_object_or_404(Person, pk=p["person"])
    return _run(request, lambda: actions.do_add_review_result(
        review, acting_user=request.user, verdict=p.get("verdict", ""),
        reason=p.get("reason", ""), household=household, person=person,
        honour=p.get("honour", "")), _("评议结果已记录。"), f"/compact/reviews/{review.pk}/")


@login_required
@require_POST
def review_conclude(request, pk: int):
    review = _review(request, pk)
    return _run(request, lambda: actions.do_conclude_review(review, acting_user=request.user),
                _("本轮评议已评定。"), f"/compact/reviews/{review.pk}/")


@login_required
@require_POST
def review_honour(request, pk: int):
    review = _review(request, pk)
    return _run(request, lambda: actions.do_propose_review_honour_list(
        review, acting_user=request.user),
        _("已将表扬对象提名红榜，待审批后在公示栏发布。"), f"/compact/reviews/{review.pk}/")


# ---------------------------------------------------------------------------------------------
# Public (no login)


def _public_compact(village_id: int) -> Compact:
    compact = Compact.objects.filter(village_id=village_id).select_related("village").first()
    if compact is None:
        raise Http404
    return compact


def _history(compact: Compact) -> list[CompactVersion]:
    return list(compact.versions.select_related(
        "resolution__topic__meeting", "resolution__topic__vote").order_by("-number"))


@require_GET
def public_compact(request, village_id: int):
    compact = _public_compact(village_id)
    versions = _history(compact)
    return render(request, "compact/public.html", {
        "compact": compact, "version": versions[0], "is_current": True,
        "articles": numbered(versions[0].articles), "versions": versions,
        "associations": list(Association.objects.filter(village_id=village_id, is_active=True)
                             .order_by("kind", "pk")),
    })


@require_GET
def public_version(request, village_id: int, number: int):
    compact = _public_compact(village_id)
    versions = _history(compact)
    version = next((v for v in versions if v.number == number), None)
    if version is None:
        raise Http404
    return render(request, "compact/public.html", {
        "compact": compact, "version": version, "is_current": version is versions[0],
        "articles": numbered(version.articles), "versions": versions, "associations": [],
    })
