"""Pages of 议事: the staff side (meetings list and calendar, the meeting page with its agenda,
sign-in, votes and resolutions, minutes; members, schedules, kinds), the residents' side
(propose and second topics from a phone) and the public agenda and results (no login).

Views translate: they load objects only through ``restrict`` (outside it, a 404), parse the
form, call one action and render. A refused action shows its sentence (400) or, when the user
may not do it, a 403; nothing changes.
"""

from __future__ import annotations

import calendar as month_calendar
import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Prefetch, Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime, parse_time
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gongzhi.accounts.models import RoleGrant, User
from gongzhi.core.access import has_permission
from gongzhi.core.errors import ActionError, ActionForbidden
from gongzhi.core.registry import registry
from gongzhi.matters.models import Matter
from gongzhi.places.models import Organisation, Person, Place, PlaceKind

from . import actions
from .access import may_at_village, villages_for
from .kinds import DECISIONS, allows_consensus, ensure_kinds, quorum_label, quorum_needed
from .minutes import minutes_context, minutes_html, minutes_pdf, related
from .models import (
    HolidayPolicy,
    Invitation,
    Meeting,
    MeetingKind,
    MeetingSchedule,
    MeetingStatus,
    Member,
    MemberGroup,
    Resolution,
    Second,
    Topic,
    TopicStatus,
)
from .progress import resolution_progress
from .scheduling import HORIZON_DAYS, generate_meetings, schedule_dates

UPCOMING = (MeetingStatus.SCHEDULED, MeetingStatus.FROZEN, MeetingStatus.IN_PROGRESS)


# ---------------------------------------------------------------------------------------------
# Helpers


def _error_text(exc: ActionError) -> str:
    return " ".join(exc.messages)


def _int(value: Any, message: str, *, required: bool = True) -> int | None:
    if value in (None, "") and not required:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ActionError(message) from None


def _village_choice(request, permission: str, param: str = "village") -> tuple[list[Place],
                                                                            Place | None]:
    villages = list(villages_for(request.user, permission))
    raw = request.GET.get(param) or request.POST.get(param)
    chosen = None
    if raw:
        chosen = next((v for v in villages if str(v.pk) == str(raw)), None)
        if chosen is None:
            raise Http404
    elif len(villages) == 1:
        chosen = villages[0]
    return villages, chosen


def _meeting(request, pk: int, action: str = "view") -> Meeting:
    return get_object_or_404(
        Meeting.objects.restrict(request.user, action).select_related("kind", "village", "town"),
        pk=pk,
    )


def _may(request, permission: str, village: Place) -> bool:
    return may_at_village(request.user, permission, village)


def _done(request, notice: str, url: str):
    messages.success(request, notice)
    return redirect(url)


def _run(request, url: str, call, *, error_view=None):
    """Run ``call()`` (which parses and calls one action) and answer: a notice and back to
    ``url``, or the refusal (on the page again with status 400, or a 403)."""
    try:
        notice = call()
    except ActionForbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    except ActionError as exc:
        if error_view is not None:
            return error_view(_error_text(exc))
        messages.error(request, _error_text(exc))
        return redirect(url)
    return _done(request, notice, url)


def _responsible_users(village: Place) -> list[User]:
    roles = registry.roles_with("matters.handle")
    grants = RoleGrant.objects.filter(place_id__in=village.ancestor_ids(), role__in=roles,
                                      is_active=True).values("user_id")
    return list(User.objects.filter(pk__in=grants, is_active=True).order_by("username")[:200])


# ---------------------------------------------------------------------------------------------
# Staff: meetings list and calendar


def _month(value: str | None) -> dt.date:
    if value:
        try:
            year, month = (int(x) for x in value.split("-", 1))
            return dt.date(year, month, 1)
        except ValueError:
            pass
    today = timezone.localdate()
    return dt.date(today.year, today.month, 1)


def _calendar_weeks(first: dt.date, meetings: list[Meeting]) -> list[list[dict[str, Any]]]:
    by_day: dict[dt.date, list[Meeting]] = {}
    for m in meetings:
        by_day.setdefault(timezone.localtime(m.starts_at).date(), []).append(m)
    weeks = []
    for week in month_calendar.Calendar(firstweekday=0).monthdatescalendar(first.year,
                                                                          first.month):
        weeks.append([{"day": d, "in_month": d.month == first.month,
                       "meetings": by_day.get(d, [])} for d in week])
    return weeks


@login_required
@require_GET
def meeting_list(request):
    if not has_permission(request.user, "meetings.view"):
        raise PermissionDenied(_("您没有查看议事会议的权限。"))
    villages = list(villages_for(request.user, "meetings.view"))
    qs = Meeting.objects.restrict(request.user, "view").select_related("kind", "village")
    village = None
    if request.GET.get("village"):
        village = next((v for v in villages if str(v.pk) == request.GET["village"]), None)
        if village is None:
            raise Http404
        qs = qs.filter(village=village)
    view = "calendar" if request.GET.get("view") == "calendar" else "list"
    ctx: dict[str, Any] = {"villages": villages, "village": village, "view": view,
                           "may_manage": any(_may(request, "meetings.manage", v)
                                             for v in villages[:50]),
                           "crumbs": [{"label": _("议事会议"), "url": None}]}
    if view == "calendar":
        first = _month(request.GET.get("month"))
        last = first.replace(day=month_calendar.monthrange(first.year, first.month)[1])
        start = timezone.make_aware(dt.datetime.combine(first, dt.time.min))
        end = timezone.make_aware(dt.datetime.combine(last, dt.time.max))
        month_meetings = list(qs.filter(starts_at__range=(start, end)).order_by("starts_at"))
        prev_month = (first - dt.timedelta(days=1)).replace(day=1)
        next_month = last + dt.timedelta(days=1)
        ctx.update(month=first, weeks=_calendar_weeks(first, month_meetings),
                   prev_month=prev_month.strftime("%Y-%m"),
                   next_month=next_month.strftime("%Y-%m"))
    else:
        now = timezone.now()
        ctx["upcoming"] = list(
            qs.filter(status__in=UPCOMING).annotate(
                topic_count=Count("topics", filter=Q(topics__status=TopicStatus.ON_AGENDA)))
            .order_by("starts_at")[:100])
        ctx["past"] = list(qs.exclude(status__in=UPCOMING).order_by("-starts_at")[:50])
        ctx["now"] = now
    return render(request, "meetings/list.html", ctx)


@login_required
@require_http_methods(["GET", "POST"])
def meeting_new(request):
    villages, village = _village_choice(request, "meetings.manage")
    if not villages:
        raise PermissionDenied(_("您不能安排会议。"))
    kinds = []
    if village is not None:
        ensure_kinds(village.county_id)
        kinds = list(MeetingKind.objects.filter(county_id=village.county_id, is_active=True)
                     .order_by("pk"))
    error = ""
    if request.method == "POST":
        try:
            if village is None:
                raise ActionError(_("请选择村（社区）。"))
            kind = next((k for k in kinds if str(k.pk) == request.POST.get("kind")), None)
            if kind is None:
                raise ActionError(_("请选择会议类型。"))
            starts_at = parse_datetime(request.POST.get("starts_at") or "")
            if starts_at is None:
                raise ActionError(_("请填写会议时间。"))
            meeting = actions.do_create_meeting(
                village, kind, acting_user=request.user, title=request.POST.get("title", ""),
                starts_at=starts_at, location=request.POST.get("location", ""))
        except ActionForbidden as exc:
            raise PermissionDenied(str(exc)) from exc
        except ActionError as exc:
            error = _error_text(exc)
        else:
            return _done(request, _("已安排会议，并已通知参会人员。"), actions.meeting_url(meeting))
    return render(request, "meetings/new.html", {
        "villages": villages, "village": village, "kinds": kinds, "error": error,
        "form": request.POST if error else {},
        "crumbs": [{"label": _("议事会议"), "url": reverse("meetings:list")},
                   {"label": _("安排会议"), "url": None}],
    }, status=400 if error else 200)


# ---------------------------------------------------------------------------------------------
# Staff: the meeting page


def _topics(meeting: Meeting) -> list[Topic]:
    topics = list(
        meeting.topics.exclude(status=TopicStatus.WITHDRAWN)
        .select_related("vote", "resolution", "resolution__matter__workflow",
                        "resolution__responsible_org", "resolution__responsible_user", "matter")
        .order_by("order", "pk"))
    for t in topics:
        t.vote_or_none = related(t, "vote")
        t.resolution_or_none = related(t, "resolution")
        if t.resolution_or_none is not None:
            t.progress = resolution_progress(t.resolution_or_none)
    return topics


def meeting_context(request, meeting: Meeting, **extra: Any) -> dict[str, Any]:
    village = meeting.village
    invitations = list(meeting.invitations.select_related("member").order_by("group", "pk"))
    present = sum(1 for i in invitations if i.signed_in_at)
    may_agenda = _may(request, "meetings.agenda", village)
    may_record = _may(request, "meetings.record", village)
    ctx = {
        "meeting": meeting, "kind": meeting.kind, "village": village,
        "topics": _topics(meeting),
        "invitations": invitations, "present": present,
        "quorum_needed": quorum_needed(meeting.kind.quorum, meeting.invited_count),
        "quorum_text": quorum_label(meeting.kind.quorum),
        "decision_text": DECISIONS.get(meeting.kind.decision, meeting.kind.decision),
        "allows_consensus": allows_consensus(meeting.kind),
        "frozen": actions.agenda_frozen(meeting),
        "may_agenda": may_agenda, "may_record": may_record,
        "may_vote": _may(request, "meetings.vote", village),
        "may_adopt": _may(request, "meetings.adopt", village),
        "may_manage": _may(request, "meetings.manage", village),
        "public_url": reverse("meetings:public_meeting", args=[village.pk, meeting.pk]),
        "crumbs": [{"label": _("议事会议"), "url": reverse("meetings:list")},
                   {"label": meeting.title, "url": None}],
    }
    if may_agenda and meeting.status in UPCOMING:
        ctx["pool"] = list(
            Topic.objects.restrict(request.user, "view").filter(village=village).filter(
                Q(status=TopicStatus.PROPOSED, meeting__isnull=True)
                | Q(status=TopicStatus.DEFERRED))
            .order_by("-seconds_count", "created_at")[:100])
    if may_record:
        ctx["organisations"] = list(Organisation.objects.filter(
            county_id=meeting.county_id, is_active=True).order_by("kind", "name"))
        ctx["responsible_users"] = _responsible_users(village)
    ctx.update(extra)
    return ctx


def _meeting_page(request, meeting: Meeting, error: str = "", status: int = 200):
    return render(request, "meetings/detail.html",
                  meeting_context(request, meeting, error=error), status=status)


@login_required
@require_GET
def meeting_detail(request, pk: int):
    return _meeting_page(request, _meeting(request, pk))


def _meeting_post(request, pk: int, call):
    """Load the meeting, run ``call(meeting)`` in one transaction (a view may take two actions
    that stand or fall together); on a refusal show the page again (400)."""
    meeting = _meeting(request, pk)
    url = actions.meeting_url(meeting)

    def atomic_call():
        with transaction.atomic():
            return call(meeting)

    return _run(request, url, atomic_call,
                error_view=lambda error: _meeting_page(request, _meeting(request, pk), error,
                                                       status=400))


def _topic_of(request, meeting: Meeting, topic_id: Any) -> Topic:
    tid = _int(topic_id, _("请选择议题。"))
    return get_object_or_404(Topic.objects.restrict(request.user, "view").filter(
        village_id=meeting.village_id), pk=tid)


@login_required
@require_POST
def meeting_freeze(request, pk: int):
    def call(meeting):
        actions.do_freeze_agenda(meeting, acting_user=request.user)
        return _("议程已确定并已公布。")
    return _meeting_post(request, pk, call)


@login_required
@require_POST
def meeting_open(request, pk: int):
    def call(meeting):
        actions.do_open_meeting(meeting, acting_user=request.user,
                                chair=request.POST.get("chair", ""),
                                recorder=request.POST.get("recorder", ""))
        return _("会议已开始，请为到会人员签到。")
    return _meeting_post(request, pk, call)


@login_required
@require_POST
def meeting_close(request, pk: int):
    def call(meeting):
        actions.do_close_meeting(meeting, acting_user=request.user,
                                 notes=request.POST.get("notes"))
        return _("会议已结束，决议已公开。")
    return _meeting_post(request, pk, call)


@login_required
@require_POST
def meeting_cancel(request, pk: int):
    def call(meeting):
        actions.do_cancel_meeting(meeting, acting_user=request.user,
                                  reason=request.POST.get("reason", ""))
        return _("会议已取消，议题已退回待议。")
    return _meeting_post(request, pk, call)


@login_required
@require_POST
def agenda_add(request, pk: int):
    def call(meeting):
        topic = _topic_of(request, meeting, request.POST.get("topic"))
        actions.do_put_on_agenda(topic, meeting, acting_user=request.user,
                                 urgent=bool(request.POST.get("urgent")),
                                 reason=request.POST.get("reason", ""))
        return _("已列入议程。")
    return _meeting_post(request, pk, call)


@login_required
@require_POST
def agenda_new(request, pk: int):
    """A staff topic written on the meeting page and put straight on its agenda."""
    def call(meeting):
        topic = actions.do_propose_topic(meeting.village, acting_user=request.user,
                                         title=request.POST.get("title", ""),
                                         description=request.POST.get("description", ""))
        actions.do_put_on_agenda(topic, meeting, acting_user=request.user,
                                 urgent=bool(request.POST.get("urgent")),
                                 reason=request.POST.get("reason", ""))
        return _("已列入议程。")
    return _meeting_post(request, pk, call)


@login_required
@require_POST
def agenda_remove(request, pk: int, topic_id: int):
    def call(meeting):
        actions.do_remove_from_agenda(_topic_of(request, meeting, topic_id),
                                      acting_user=request.user)
        return _("已移出议程。")
    return _meeting_post(request, pk, call)


@login_required
@require_POST
def sign_in(request, pk: int, invitation_id: int):
    """Tick an attendee (htmx: the attendance section comes back with the quorum)."""
    meeting = _meeting(request, pk)
    invitation = get_object_or_404(Invitation, pk=invitation_id, meeting=meeting)
    error = ""
    try:
        actions.do_sign_in(invitation, acting_user=request.user,
                           present=request.POST.get("present", "1") == "1")
    except ActionForbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    except ActionError as exc:
        error = _error_text(exc)
    meeting = _meeting(request, pk)
    if request.htmx:
        return render(request, "meetings/partials/attendance.html",
                      meeting_context(request, meeting, signin_error=error))
    if error:
        return _meeting_page(request, meeting, error, status=400)
    return redirect(actions.meeting_url(meeting) + "#attendance")


@login_required
@require_POST
def topic_discussion(request, pk: int, topic_id: int):
    def call(meeting):
        actions.do_record_discussion(_topic_of(request, meeting, topic_id),
                                     request.POST.get("discussion", ""), acting_user=request.user)
        return _("已记录讨论情况。")
    return _meeting_post(request, pk, call)


@login_required
@require_POST
def topic_vote(request, pk: int, topic_id: int):
    def call(meeting):
        topic = _topic_of(request, meeting, topic_id)
        msg = _("票数须为不小于0的整数。")
        vote = actions.do_record_vote(
            topic, acting_user=request.user,
            votes_for=_int(request.POST.get("votes_for") or 0, msg),
            votes_against=_int(request.POST.get("votes_against") or 0, msg),
            abstentions=_int(request.POST.get("abstentions") or 0, msg))
        return _("表决通过。") if vote.passed else _("表决未通过。")
    return _meeting_post(request, pk, call)


@login_required
@require_POST
def topic_consensus(request, pk: int, topic_id: int):
    def call(meeting):
        actions.do_record_consensus(_topic_of(request, meeting, topic_id),
                                    acting_user=request.user)
        return _("已记录协商一致。")
    return _meeting_post(request, pk, call)


@login_required
@require_POST
def topic_resolution(request, pk: int, topic_id: int):
    def call(meeting):
        topic = _topic_of(request, meeting, topic_id)
        deadline = parse_date(request.POST.get("deadline") or "")
        if deadline is None:
            raise ActionError(_("请填写完成时限。"))
        org_id = _int(request.POST.get("responsible_org"), _("请选择责任单位。"), required=False)
        user_id = _int(request.POST.get("responsible_user"), _("请选择责任人。"), required=False)
        org = None
        if org_id is not None:
            org = Organisation.objects.filter(pk=org_id, county_id=meeting.county_id).first()
            if org is None:
                raise ActionError(_("责任单位不存在或不属于本县（区）。"))
        user = None
        if user_id is not None:
            user = next((u for u in _responsible_users(meeting.village) if u.pk == user_id), None)
            if user is None:
                raise ActionError(_("责任人不存在或无权办理本村事项。"))
        resolution = actions.do_record_resolution(
            topic, acting_user=request.user, text=request.POST.get("text", ""),
            deadline=deadline, responsible_org=org, responsible_user=user,
            responsible_name=request.POST.get("responsible_name", ""))
        if request.POST.get("adopt") and may_at_village(request.user, "meetings.adopt",
                                                        meeting.village):
            if org is None and user is None:
                return _("已形成决议。未指定责任单位或责任人，暂未转为事项。")
            actions.do_adopt_resolution(resolution, acting_user=request.user)
            return _("已形成决议，并已转为事项交办。")
        return _("已形成决议。")
    return _meeting_post(request, pk, call)


@login_required
@require_POST
def resolution_adopt(request, pk: int, resolution_id: int):
    def call(meeting):
        resolution = get_object_or_404(Resolution, pk=resolution_id, topic__meeting=meeting)
        matter = actions.do_adopt_resolution(resolution, acting_user=request.user)
        return _("决议已转为事项 %(code)s 交办。") % {"code": matter.tracking_code}
    return _meeting_post(request, pk, call)


# ---------------------------------------------------------------------------------------------
# Minutes


@login_required
@require_GET
def minutes_preview(request, pk: int):
    meeting = _meeting(request, pk)
    return render(request, "meetings/minutes.html", minutes_context(meeting))


@login_required
@require_GET
def minutes_download(request, pk: int):
    meeting = _meeting(request, pk)
    pdf = minutes_pdf(meeting, minutes_html(meeting))
    response = HttpResponse(pdf, content_type="application/pdf")
    day = timezone.localtime(meeting.starts_at).strftime("%Y%m%d")
    response["Content-Disposition"] = f'attachment; filename="minutes-{meeting.pk}-{day}.pdf"'
    return response


# ---------------------------------------------------------------------------------------------
# Topics: residents propose and second from a phone; staff propose (from matters too)


@login_required
@require_GET
def topics(request):
    villages = list(villages_for(request.user, "meetings.propose"))
    if not villages:
        raise PermissionDenied(_("您不能提出或附议议题。"))
    village = None
    raw = request.GET.get("village")
    if raw:
        village = next((v for v in villages if str(v.pk) == raw), None)
        if village is None:
            raise Http404
    elif len(villages) == 1:
        village = villages[0]
    return _topics_page(request, villages, village)


def _topics_page(request, villages, village, error: str = "", status: int = 200):
    qs = Topic.objects.restrict(request.user, "propose").filter(
        status__in=(TopicStatus.PROPOSED, TopicStatus.ON_AGENDA)).select_related(
        "meeting", "village").order_by("-seconds_count", "-created_at")
    if village is not None:
        qs = qs.filter(village=village)
    items = list(qs[:100])
    mine = set(Second.objects.filter(topic__in=[t.pk for t in items], user=request.user)
               .values_list("topic_id", flat=True))
    for t in items:
        t.seconded = t.pk in mine
        t.may_second = (t.proposed_by_id != request.user.pk and not t.seconded
                        and (t.meeting is None or t.meeting.status in actions.NOT_STARTED))
    upcoming = []
    if village is not None:
        upcoming = list(Meeting.objects.filter(village=village, status__in=UPCOMING)
                        .select_related("kind").order_by("starts_at")[:3])
    return render(request, "meetings/topics.html", {
        "villages": villages, "village": village, "topics": items, "upcoming": upcoming,
        "may_second": has_permission(request.user, "meetings.second"),
        "error": error, "form": request.POST if error else {},
        "crumbs": [{"label": _("议题征集"), "url": None}],
    }, status=status)


@login_required
@require_POST
def topic_propose(request):
    villages = list(villages_for(request.user, "meetings.propose"))
    if not villages:
        raise PermissionDenied(_("您不能提出议题。"))
    raw = request.POST.get("village")
    village = next((v for v in villages if str(v.pk) == str(raw)), None) if raw else (
        villages[0] if len(villages) == 1 else None)
    if raw and village is None:
        raise Http404
    matter = None
    if request.POST.get("matter"):
        mid = _int(request.POST.get("matter"), _("事项编号有误。"))
        matter = get_object_or_404(Matter.objects.restrict(request.user, "view")
                                   .select_related("village"), pk=mid)
        village = village or matter.village
    try:
        if village is None:
            raise ActionError(_("请选择村（社区）。"))
        actions.do_propose_topic(village, acting_user=request.user,
                                 title=request.POST.get("title", ""),
                                 description=request.POST.get("description", ""), matter=matter)
    except ActionForbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    except ActionError as exc:
        if matter is not None:
            messages.error(request, _error_text(exc))
            return redirect(_matter_url(matter))
        return _topics_page(request, villages, village, _error_text(exc), status=400)
    messages.success(request, _("议题已提交，欢迎邻里附议。") if matter is None
                     else _("事项已列为待议议题。"))
    if matter is not None:
        return redirect(_matter_url(matter))
    return redirect(reverse("meetings:topics") + (f"?village={village.pk}"
                                                  if len(villages) > 1 else ""))


def _matter_url(matter: Matter) -> str:
    from gongzhi.handling.actions import matter_url

    return matter_url(matter)


@login_required
@require_POST
def topic_second(request, topic_id: int):
    topic = get_object_or_404(Topic.objects.restrict(request.user, "propose"), pk=topic_id)
    error = ""
    try:
        actions.do_second_topic(topic, acting_user=request.user)
    except ActionForbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    except ActionError as exc:
        error = _error_text(exc)
    topic.refresh_from_db()
    if request.htmx:
        topic.seconded = Second.objects.filter(topic=topic, user=request.user).exists()
        topic.may_second = False
        return render(request, "meetings/partials/topic_card.html",
                      {"t": topic, "may_second": True, "error": error})
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("已附议。"))
    return redirect(reverse("meetings:topics") + f"?village={topic.village_id}")


# ---------------------------------------------------------------------------------------------
# Members, schedules, kinds (managers)


@login_required
@require_GET
def members(request):
    villages, village = _village_choice(request, "meetings.manage")
    if not villages:
        raise PermissionDenied(_("您不能管理议事成员。"))
    return _members_page(request, villages, village)


def _members_page(request, villages, village, error: str = "", status: int = 200):
    groups = []
    if village is not None:
        rows = list(Member.objects.restrict(request.user, "manage").filter(
            village=village, is_active=True).select_related("person", "user").order_by("name"))
        for value, label in MemberGroup.choices:
            in_group = [m for m in rows if m.group == value]
            groups.append({"value": value, "label": label, "members": in_group})
    return render(request, "meetings/members.html", {
        "villages": villages, "village": village, "groups": groups,
        "group_choices": MemberGroup.choices, "error": error,
        "form": request.POST if error else {},
        "crumbs": [{"label": _("议事会议"), "url": reverse("meetings:list")},
                   {"label": _("议事成员"), "url": None}],
    }, status=status)


@login_required
@require_GET
def member_people(request):
    """People of the village matching a name (htmx picker for adding a member)."""
    _villages, village = _village_choice(request, "meetings.manage")
    q = (request.GET.get("q") or "").strip()
    people = []
    if village is not None and q:
        people = list(Person.objects.restrict(request.user, "view").filter(
            village=village, is_active=True, name__contains=q).select_related("grid")
            .order_by("name")[:20])
    return render(request, "meetings/partials/people.html", {"people": people, "q": q})


@login_required
@require_POST
def member_add(request):
    villages, village = _village_choice(request, "meetings.manage")
    if village is None:
        raise Http404
    person = None
    if request.POST.get("person"):
        pid = _int(request.POST.get("person"), _("请选择人员。"))
        person = get_object_or_404(Person.objects.restrict(request.user, "view"), pk=pid)
    try:
        member = actions.do_add_member(village, request.POST.get("group", ""),
                                       acting_user=request.user, person=person,
                                       name=request.POST.get("name", ""))
    except ActionForbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    except ActionError as exc:
        return _members_page(request, villages, village, _error_text(exc), status=400)
    return _done(request, _("已添加%(name)s。") % {"name": member.name},
                 reverse("meetings:members") + f"?village={village.pk}")


@login_required
@require_POST
def member_remove(request, member_id: int):
    member = get_object_or_404(Member.objects.restrict(request.user, "manage"), pk=member_id)
    url = reverse("meetings:members") + f"?village={member.village_id}"

    def call():
        actions.do_remove_member(member, acting_user=request.user)
        return _("已移除%(name)s。") % {"name": member.name}
    return _run(request, url, call)


@login_required
@require_http_methods(["GET", "POST"])
def schedules(request):
    villages, village = _village_choice(request, "meetings.manage")
    if not villages:
        raise PermissionDenied(_("您不能安排例会。"))
    error = ""
    if request.method == "POST":
        try:
            if village is None:
                raise ActionError(_("请选择村（社区）。"))
            kinds = ensure_kinds(village.county_id)
            kind = next((k for k in kinds.values() if str(k.pk) == request.POST.get("kind")),
                        None)
            if kind is None:
                raise ActionError(_("请选择会议类型。"))
            days = [d for d in (request.POST.get("days") or "").replace("，", ",").split(",")
                    if d.strip()]
            actions.do_create_schedule(
                village, kind, acting_user=request.user, title=request.POST.get("title", ""),
                days_of_month=days, time=parse_time(request.POST.get("time") or ""),
                location=request.POST.get("location", ""),
                holiday_policy=request.POST.get("holiday_policy", ""))
        except ActionForbidden as exc:
            raise PermissionDenied(str(exc)) from exc
        except ActionError as exc:
            error = _error_text(exc)
        else:
            return _done(request, _("已设置例会。"),
                         reverse("meetings:schedules") + f"?village={village.pk}")
    qs = MeetingSchedule.objects.restrict(request.user, "manage").select_related("kind",
                                                                                 "village")
    if village is not None:
        qs = qs.filter(village=village)
    today = timezone.localdate()
    rows = []
    for s in qs.order_by("-is_active", "village_id", "pk")[:100]:
        s.next_dates = schedule_dates(s.days_of_month, s.holiday_policy, today,
                                      today + dt.timedelta(days=62))[:4] if s.is_active else []
        rows.append(s)
    kinds = []
    if village is not None:
        kinds = [k for k in ensure_kinds(village.county_id).values() if k.is_active]
    return render(request, "meetings/schedules.html", {
        "villages": villages, "village": village, "schedules": rows, "kinds": kinds,
        "policies": HolidayPolicy.choices, "error": error, "form": request.POST if error else {},
        "crumbs": [{"label": _("议事会议"), "url": reverse("meetings:list")},
                   {"label": _("例会安排"), "url": None}],
    }, status=400 if error else 200)


@login_required
@require_POST
def schedule_stop(request, schedule_id: int):
    schedule = get_object_or_404(MeetingSchedule.objects.restrict(request.user, "manage"),
                                 pk=schedule_id)
    url = reverse("meetings:schedules") + f"?village={schedule.village_id}"

    def call():
        actions.do_stop_schedule(schedule, acting_user=request.user)
        return _("例会已停止。")
    return _run(request, url, call)


@login_required
@require_POST
def schedule_generate(request, schedule_id: int):
    """Create this schedule's meetings for the coming two months now (as the hourly job does)."""
    schedule = get_object_or_404(MeetingSchedule.objects.restrict(request.user, "manage"),
                                 pk=schedule_id, is_active=True)
    until = timezone.localdate() + dt.timedelta(days=HORIZON_DAYS)
    created = generate_meetings(until, schedules=MeetingSchedule.objects.filter(pk=schedule.pk))
    return _done(request, _("已生成%(n)d次会议。") % {"n": len(created)},
                 reverse("meetings:list") + f"?village={schedule.village_id}")


def _kind_counties(request) -> list[Place]:
    counties = Place.objects.filter(kind=PlaceKind.COUNTY, is_active=True).order_by("pk")
    return [c for c in counties if has_permission(request.user, "meetings.manage", c)]


@login_required
@require_GET
def kinds(request):
    counties = _kind_counties(request)
    county = counties[0] if counties else None
    if county is None:
        # Village and town staff read the kinds of their county; only the county edits them.
        villages = list(villages_for(request.user, "meetings.view")[:1])
        if not villages:
            raise PermissionDenied(_("您不能查看会议类型设置。"))
        county = Place.objects.get(pk=villages[0].county_id)
    items = sorted(ensure_kinds(county).values(), key=lambda k: k.pk)
    for k in items:
        k.quorum_text = quorum_label(k.quorum)
        k.decision_text = DECISIONS.get(k.decision, k.decision)
        k.group_labels = [MemberGroup(g).label for g in k.invitee_groups
                          if g in MemberGroup.values]
    return render(request, "meetings/kinds.html", {
        "county": county, "kinds": items, "may_edit": county in counties,
        "crumbs": [{"label": _("议事会议"), "url": reverse("meetings:list")},
                   {"label": _("会议类型"), "url": None}],
    })


@login_required
@require_http_methods(["GET", "POST"])
def kind_edit(request, kind_id: int | None = None):
    counties = _kind_counties(request)
    if not counties:
        raise PermissionDenied(_("只有县（区）可以设置会议类型。"))
    kind = None
    if kind_id is not None:
        kind = get_object_or_404(MeetingKind, pk=kind_id, county__in=counties)
    county = kind.county if kind else counties[0]
    error = ""
    if request.method == "POST":
        p = request.POST
        try:
            quorum = None
            if p.get("quorum_num") or p.get("quorum_den"):
                msg = _("法定人数的写法有误：分子、分母须为正整数，且分子不大于分母。")
                quorum = {"num": _int(p.get("quorum_num"), msg),
                          "den": _int(p.get("quorum_den"), msg),
                          "strict": bool(p.get("quorum_strict"))}
            kind = actions.do_save_kind(
                county, acting_user=request.user, kind=kind, name=p.get("name", ""),
                invitee_groups=p.getlist("invitee_groups"), quorum=quorum,
                decision=p.get("decision", ""), allows_consensus=bool(p.get("allows_consensus")),
                freeze_days=_int(p.get("freeze_days") or 10, _("天数须为整数。")),
                is_active=bool(p.get("is_active")))
        except ActionForbidden as exc:
            raise PermissionDenied(str(exc)) from exc
        except ActionError as exc:
            error = _error_text(exc)
        else:
            return _done(request, _("已保存会议类型“%(name)s”。") % {"name": kind.name},
                         reverse("meetings:kinds"))
    return render(request, "meetings/kind_form.html", {
        "kind": kind, "county": county, "groups": MemberGroup.choices,
        "checked_groups": request.POST.getlist("invitee_groups") if error else (
            kind.invitee_groups if kind else []),
        "decisions": list(DECISIONS.items()), "error": error,
        "form": request.POST if error else None,
        "crumbs": [{"label": _("会议类型"), "url": reverse("meetings:kinds")},
                   {"label": kind.name if kind else _("新建会议类型"), "url": None}],
    }, status=400 if error else 200)


# ---------------------------------------------------------------------------------------------
# Public: the agenda and results of a village (no login)


def _public_village(village_id: int) -> Place:
    return get_object_or_404(Place, pk=village_id, kind=PlaceKind.VILLAGE, is_active=True)


def _public_topics() -> Prefetch:
    return Prefetch("topics", queryset=Topic.objects.filter(
        status__in=(TopicStatus.ON_AGENDA, TopicStatus.DECIDED, TopicStatus.REJECTED,
                    TopicStatus.DEFERRED))
        .select_related("vote", "resolution", "resolution__matter__workflow",
                        "resolution__responsible_org").order_by("order", "pk"))


def _public_meeting_rows(meetings: list[Meeting]) -> list[Meeting]:
    """What the public sees: the agenda once it is fixed (not while topics are gathered), the
    votes once the meeting is held, the resolutions and their progress once published."""
    held = (MeetingStatus.IN_PROGRESS, MeetingStatus.CLOSED)
    for m in meetings:
        m.agenda_fixed = actions.agenda_frozen(m)
        m.public_topics = []
        if not m.agenda_fixed:
            continue
        for t in m.topics.all():
            t.vote_or_none = related(t, "vote") if m.status in held else None
            resolution = related(t, "resolution")
            t.resolution_or_none = resolution if resolution and resolution.published_at else None
            if t.resolution_or_none is not None:
                t.progress = resolution_progress(resolution)
            m.public_topics.append(t)
    return meetings


@require_GET
def public_village(request, village_id: int):
    village = _public_village(village_id)
    base = Meeting.objects.filter(village=village).select_related("kind")
    upcoming = _public_meeting_rows(list(
        base.filter(status__in=UPCOMING).prefetch_related(_public_topics())
        .order_by("starts_at")[:10]))
    results = _public_meeting_rows(list(
        base.filter(status=MeetingStatus.CLOSED).prefetch_related(_public_topics())
        .order_by("-starts_at")[:10]))
    proposed = Topic.objects.filter(village=village, status=TopicStatus.PROPOSED).count()
    return render(request, "meetings/public/village.html", {
        "village": village, "upcoming": upcoming, "results": results,
        "proposed_count": proposed, "board_url": _board_url(village),
    })


@require_GET
def public_meeting(request, village_id: int, pk: int):
    village = _public_village(village_id)
    meeting = get_object_or_404(
        Meeting.objects.filter(village=village).exclude(status=MeetingStatus.CANCELLED)
        .select_related("kind").prefetch_related(_public_topics()), pk=pk)
    _public_meeting_rows([meeting])
    return render(request, "meetings/public/meeting.html", {
        "village": village, "meeting": meeting, "board_url": _board_url(village),
        "present": meeting.invitations.filter(signed_in_at__isnull=False).count()
        if meeting.status in (MeetingStatus.IN_PROGRESS, MeetingStatus.CLOSED) else None,
    })


def _board_url(village: Place) -> str:
    try:
        return reverse("board:place", args=[village.pk])
    except NoReverseMatch:
        return ""
