"""Pages of 志愿服务: the residents' phone page (activities near me, sign up, my sign-ups,
check in with the code, my hours, order a service, rate it), an activity's page (for residents
and for its organisers: roster, code and QR code, hours), and the organisers' workbench
(teams, menu, activities, orders, hours by team).

Views translate: they parse, load through the access functions (anything outside the user's
scope is a 404), call one action and redirect or render.
"""

from __future__ import annotations

import datetime as dt

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, Sum
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from gongzhi.core.access import has_permission
from gongzhi.core.errors import ActionError
from gongzhi.places.models import Organisation, OrganisationKind, Person, Place

from . import actions
from .access import (
    activities_for,
    managed_place,
    may_manage,
    near_menu,
    near_teams,
    participant_household,
    root_places,
    serves_team,
)
from .api import orders_for
from .figures import hours_by_team
from .models import (
    Activity,
    ActivityStatus,
    MemberKind,
    OrderStatus,
    ServiceItem,
    ServiceOrder,
    Signup,
    SignupStatus,
    Team,
    TeamKind,
    TeamMember,
)

LIST_LIMIT = 50


def _errors(exc: ActionError) -> str:
    return " ".join(str(m) for m in exc.messages)


def _run(request, fn, success: str, *args, **kwargs):
    """Call one action; a refusal becomes an error message on the page, nothing lost."""
    try:
        result = fn(*args, acting_user=request.user, **kwargs)
    except ActionError as exc:
        messages.error(request, _errors(exc))
        return None
    messages.success(request, success)
    return result


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _moment(text: str | None) -> dt.datetime | None:
    """A ``datetime-local`` field's value, in the current time zone."""
    try:
        value = parse_datetime(text or "")
    except ValueError:
        return None
    if value is None:
        return None
    return timezone.make_aware(value) if timezone.is_naive(value) else value


# ---------------------------------------------------------------------------------------------
# The residents' page (made for a phone)


def _mine(user):
    return (Signup.objects.filter(user=user).select_related("activity", "activity__place")
            .order_by("-activity__starts_at", "-pk"))


@never_cache
@login_required
def index(request):
    user = request.user
    takes_part = has_permission(user, "volunteers.take_part")
    if not takes_part:
        if has_permission(user, "volunteers.view"):
            return redirect("volunteers:workbench")
        raise PermissionDenied(_("您没有参加志愿服务的权限。"))
    now = timezone.now()
    signups = list(_mine(user)[:LIST_LIMIT])
    mine_ids = {s.activity_id: s for s in signups if s.is_active}
    upcoming = list(activities_for(user).filter(
        status__in=(ActivityStatus.PUBLISHED, ActivityStatus.ONGOING), ends_at__gt=now)
        .select_related("place", "team").annotate(
            taken=Count("signups", filter=Q(signups__status=SignupStatus.SIGNED_UP)))
        .order_by("starts_at", "pk")[:LIST_LIMIT])
    for a in upcoming:
        a.my_signup = mine_ids.get(a.pk)
        a.left = max(a.slots - a.taken, 0)
    totals = Signup.objects.filter(user=user, status=SignupStatus.SIGNED_UP).aggregate(
        total_minutes=Sum("minutes", filter=Q(activity__hours_confirmed_at__isnull=False)),
        total_points=Sum("points"), served=Count("pk", filter=Q(minutes__gt=0)))
    orders = list(ServiceOrder.objects.filter(requested_by=user).select_related("item", "team")
                  .order_by("-created_at")[:20])
    return render(request, "volunteers/index.html", {
        "upcoming": upcoming,
        "current": [s for s in signups if s.is_active and s.activity.status in (
            ActivityStatus.PUBLISHED, ActivityStatus.ONGOING)],
        "past": [s for s in signups if s.activity.status == ActivityStatus.FINISHED
                 and s.is_active],
        "hours": round((totals["total_minutes"] or 0) / 60, 1),
        "points": totals["total_points"] or 0, "served": totals["served"] or 0,
        "menu": list(near_menu(user).select_related("team").order_by("name", "pk")[:30]),
        "teams": list(near_teams(user).order_by("name", "pk")[:30]),
        "my_teams": set(TeamMember.objects.filter(user=user, left_at__isnull=True)
                        .values_list("team_id", flat=True)),
        "orders": orders, "household": participant_household(user),
        "can_manage": has_permission(user, "volunteers.manage"),
    })


def _activity(user, pk: int) -> Activity:
    return get_object_or_404(activities_for(user).select_related(
        "place", "team", "service_item", "organiser"), pk=pk)


@never_cache
@login_required
def activity(request, pk: int):
    """An activity's page: for residents, sign up and check in/out; for its organisers, the
    code and QR code, the roster and the hours."""
    user = request.user
    a = _activity(user, pk)
    manage = may_manage(user, a.place)
    signup = Signup.objects.filter(activity=a, user=user).first()
    roster = (list(a.signups.select_related("household", "claim").order_by("status", "pk"))
              if manage else [])
    taken = a.signups.filter(status=SignupStatus.SIGNED_UP).count()
    return render(request, "volunteers/activity.html", {
        "a": a, "manage": manage, "signup": signup if signup and signup.is_active else None,
        "roster": roster, "taken": taken, "left": max(a.slots - taken, 0),
        "code": request.GET.get("code", "")[:8],
        "now": timezone.now(), "in_window": a.check_in_window(),
        "out_window": a.check_out_window(),
        "checkin_url": request.build_absolute_uri(
            reverse("volunteers:activity", args=[a.pk])) + f"?code={a.code}" if manage else "",
    })


@require_POST
@login_required
def sign_up(request, pk: int):
    a = _activity(request.user, pk)
    _run(request, actions.do_sign_up, _("报名成功，活动当天请到现场签到。"), a)
    return redirect("volunteers:activity", pk=a.pk)


@require_POST
@login_required
def cancel_sign_up(request, pk: int):
    a = _activity(request.user, pk)
    signup = get_object_or_404(Signup, activity=a, user=request.user)
    _run(request, actions.do_cancel_signup, _("已取消报名。"), signup)
    return redirect("volunteers:activity", pk=a.pk)


@require_POST
@login_required
def check(request, pk: int):
    """Check in or out with the code the organiser shows (``step`` = in or out)."""
    a = _activity(request.user, pk)
    code = request.POST.get("code", "")
    if request.POST.get("step") == "out":
        signup = _run(request, actions.do_check_out, _("签退成功，谢谢您的服务！"), a, code=code)
        if signup is not None and signup.minutes is not None:
            messages.info(request, _("本次服务 %(h)s 小时，组织者确认后记入积分。")
                          % {"h": signup.hours})
    else:
        _run(request, actions.do_check_in, _("签到成功。"), a, code=code)
    return redirect("volunteers:activity", pk=a.pk)


# ---------------------------------------------------------------------------------------------
# Organising an activity


def _managed_activity(request, pk: int) -> Activity:
    a = _activity(request.user, pk)
    if not may_manage(request.user, a.place):
        raise PermissionDenied(_("您没有管理这项活动的权限。"))
    return a


STEPS = {
    "publish": (actions.do_publish_activity, _("活动已发布，居民可以报名了。")),
    "start": (actions.do_start_activity, _("活动已开始。")),
    "finish": (actions.do_finish_activity, _("活动已结束，请核对时长后确认。")),
    "confirm": (actions.do_confirm_hours, _("时长已确认，积分已按积分细则记入各户。")),
    "renew": (actions.do_renew_code, _("已换新的签到码，旧码不能再用。")),
}


@require_POST
@login_required
def step(request, pk: int, name: str):
    if name not in STEPS and name != "cancel":
        raise Http404
    a = _managed_activity(request, pk)
    if name == "cancel":
        _run(request, actions.do_cancel_activity, _("活动已取消，已通知报名的人。"), a,
             reason=request.POST.get("reason", ""))
    else:
        fn, success = STEPS[name]
        _run(request, fn, success, a)
    return redirect("volunteers:activity", pk=a.pk)


@require_POST
@login_required
def correct_hours(request, pk: int):
    signup = get_object_or_404(Signup.objects.select_related("activity"), pk=pk,
                               activity__in=activities_for(request.user))
    _run(request, actions.do_correct_hours, _("时长已更正。"), signup,
         minutes=_int(request.POST.get("minutes")), reason=request.POST.get("reason", ""))
    return redirect("volunteers:activity", pk=signup.activity_id)


@never_cache
@login_required
def qr(request, pk: int):
    """The check-in QR code (SVG) an organiser shows on site: it opens the activity's page
    with the code filled in."""
    a = _managed_activity(request, pk)
    if not a.code:
        raise Http404
    url = request.build_absolute_uri(reverse("volunteers:activity", args=[a.pk]))
    svg = segno.make(f"{url}?code={a.code}", error="m").svg_inline(scale=6, border=2)
    return HttpResponse(svg, content_type="image/svg+xml")


@never_cache
@login_required
def new_activity(request):
    user = request.user
    if not has_permission(user, "volunteers.manage"):
        raise PermissionDenied(_("您没有组织志愿活动的权限。"))
    place = managed_place(user, request.GET.get("place") or request.POST.get("place"))
    teams = list(Team.objects.restrict(user, "view").filter(is_active=True, county=place.county)
                 .order_by("name"))
    items = list(ServiceItem.objects.restrict(user, "view").filter(is_active=True,
                                                                   county=place.county)
                 .order_by("name"))
    data = request.POST if request.method == "POST" else {}
    if request.method == "POST":
        team = next((t for t in teams if t.pk == _int(data.get("team"))), None)
        item = next((i for i in items if i.pk == _int(data.get("service_item"))), None)
        try:
            a = actions.do_create_activity(
                place, title=data.get("title", ""), description=data.get("description", ""),
                address=data.get("address", ""), starts_at=_moment(data.get("starts_at")),
                ends_at=_moment(data.get("ends_at")), slots=_int(data.get("slots")) or 0,
                team=team, service_item=item, acting_user=user)
            if data.get("publish"):
                actions.do_publish_activity(a, acting_user=user)
        except ActionError as exc:
            messages.error(request, _errors(exc))
        else:
            messages.success(request, _("活动已保存。"))
            return redirect("volunteers:activity", pk=a.pk)
    return render(request, "volunteers/activity_form.html", {
        "place": place, "places": _manage_places(user), "teams": teams, "items": items,
        "data": data,
    })


def _manage_places(user) -> list[Place]:
    roots = root_places(user, "volunteers.manage")
    out = []
    for root in roots:
        out.append(root)
        if root.kind in ("county", "town"):
            out.extend(root.descendants().filter(kind__in=("town", "village"))
                       .order_by("kind", "sort_order", "pk")[:100])
    return out


# ---------------------------------------------------------------------------------------------
# The workbench


@never_cache
@login_required
def workbench(request):
    user = request.user
    if not has_permission(user, "volunteers.view"):
        raise PermissionDenied(_("您没有查看志愿服务的权限。"))
    roots = root_places(user)
    if not roots:
        raise PermissionDenied(_("您没有查看志愿服务的权限。"))
    scope = roots[0]
    if request.GET.get("place"):
        scope = get_object_or_404(Place, pk=_int(request.GET.get("place")) or 0)
        if not has_permission(user, "volunteers.view", scope):
            raise Http404
    today = timezone.localdate()
    activities = list(Activity.objects.restrict(user, "view").filter(scope.scope_q())
                      .select_related("place", "team").annotate(
                          taken=Count("signups",
                                      filter=Q(signups__status=SignupStatus.SIGNED_UP)))
                      .order_by("-starts_at", "-pk")[:LIST_LIMIT])
    teams = list(Team.objects.restrict(user, "view").filter(scope.scope_q())
                 .select_related("place").annotate(
                     n=Count("members", filter=Q(members__left_at__isnull=True)))
                 .order_by("place_id", "name"))
    menu = list(ServiceItem.objects.restrict(user, "view").filter(scope.scope_q())
                .select_related("team", "place").order_by("place_id", "name"))
    status = request.GET.get("status", "")
    orders = orders_for(user).filter(scope.scope_q()).select_related(
        "item", "team", "household")
    counts = dict(orders.order_by().values_list("status").annotate(n=Count("pk")))
    late = orders.filter(status__in=(OrderStatus.REQUESTED, OrderStatus.ACCEPTED),
                         wanted_on__lt=today)
    if status == "late":
        shown = late
    elif status in OrderStatus.values:
        shown = orders.filter(status=status)
    else:
        shown = orders.filter(status__in=(OrderStatus.REQUESTED, OrderStatus.ACCEPTED))
    year_start = timezone.make_aware(dt.datetime(today.year, 1, 1))
    return render(request, "volunteers/workbench.html", {
        "scope": scope, "roots": roots, "activities": activities, "teams": teams,
        "menu": menu, "orders": list(shown.order_by("wanted_on", "pk")[:LIST_LIMIT]),
        "status": status, "order_counts": [(v, label, counts.get(v, 0))
                                           for v, label in OrderStatus.choices],
        "late_count": late.count(), "today": today,
        "by_team": hours_by_team(scope, year_start, timezone.now()),
        "team_kinds": TeamKind.choices,
        "can_manage": may_manage(user, scope),
    })


@require_POST
@login_required
def new_team(request):
    place = managed_place(request.user, request.POST.get("place"))
    team = _run(request, actions.do_create_team, _("队伍已建立。"), place,
                name=request.POST.get("name", ""), kind=request.POST.get("kind", ""),
                description=request.POST.get("description", ""))
    if team is None:
        return redirect(f"{reverse('volunteers:workbench')}?place={place.pk}")
    return redirect("volunteers:team", pk=team.pk)


def _team(user, pk: int) -> Team:
    return get_object_or_404((Team.objects.restrict(user, "view") | near_teams(user))
                             .select_related("place"), pk=pk)


@never_cache
@login_required
def team(request, pk: int):
    user = request.user
    t = _team(user, pk)
    manage = may_manage(user, t.place)
    members = list(t.members.filter(left_at__isnull=True).select_related("organisation"))
    return render(request, "volunteers/team.html", {
        "team": t, "manage": manage, "members": members,
        "me": next((m for m in members if m.user_id == user.pk), None),
        "member_kinds": MemberKind.choices,
        "units": list(Organisation.objects.filter(county_id=t.county_id,
                                                  kind=OrganisationKind.RESIDENT_UNIT,
                                                  is_active=True).order_by("name")[:200])
        if manage else [],
        "items": list(t.menu_items.filter(is_active=True)),
    })


@require_POST
@login_required
def team_member(request, pk: int):
    """Join (``op=join``), leave (``op=leave``), add a member or make one the leader."""
    user = request.user
    t = _team(user, pk)
    op = request.POST.get("op")
    if op == "join":
        _run(request, actions.do_join_team, _("您已加入这支队伍。"), t)
    elif op in ("leave", "leader"):
        member = get_object_or_404(TeamMember, team=t, pk=_int(request.POST.get("member")) or 0)
        if op == "leave":
            _run(request, actions.do_leave_team, _("已离队。"), member)
        else:
            _run(request, actions.do_set_leader, _("队长已设定。"), member)
    elif op == "add":
        if not may_manage(user, t.place):
            raise PermissionDenied(_("您没有管理这支队伍的权限。"))
        person = None
        if request.POST.get("person"):
            person = get_object_or_404(Person.objects.restrict(user, "view"),
                                       pk=_int(request.POST.get("person")) or 0)
        unit = None
        if request.POST.get("organisation"):
            unit = Organisation.objects.filter(pk=_int(request.POST.get("organisation")) or 0,
                                               county_id=t.county_id).first()
        _run(request, actions.do_add_member, _("队员已添加。"), t,
             kind=request.POST.get("kind", ""), person=person, organisation=unit,
             name=request.POST.get("name", ""), is_leader=bool(request.POST.get("is_leader")))
    else:
        raise Http404
    return redirect("volunteers:team", pk=t.pk)


@require_POST
@login_required
def new_item(request):
    user = request.user
    place = managed_place(user, request.POST.get("place"))
    t = get_object_or_404(Team.objects.restrict(user, "view"),
                          pk=_int(request.POST.get("team")) or 0)
    _run(request, actions.do_save_service_item, _("服务已加入菜单。"), place,
         name=request.POST.get("name", ""), team=t,
         description=request.POST.get("description", ""),
         typical_minutes=_int(request.POST.get("typical_minutes")) or 0)
    return redirect(f"{reverse('volunteers:workbench')}?place={place.pk}")


# ---------------------------------------------------------------------------------------------
# Orders


@never_cache
@login_required
def order_new(request, pk: int):
    """A resident orders a menu item (a phone form)."""
    user = request.user
    item = get_object_or_404(near_menu(user).select_related("team"), pk=pk)
    data = request.POST if request.method == "POST" else {}
    if request.method == "POST":
        try:
            wanted = parse_date(data.get("wanted_on", ""))
        except ValueError:
            wanted = None
        order = _run(request, actions.do_order_service, _("点单成功，服务队受理后会通知您。"),
                     item, wanted_on=wanted, note=data.get("note", ""))
        if order is not None:
            return redirect("volunteers:order", pk=order.pk)
    return render(request, "volunteers/order_form.html", {
        "item": item, "data": data, "today": timezone.localdate(),
    })


@never_cache
@login_required
def order(request, pk: int):
    user = request.user
    o = get_object_or_404(orders_for(user).select_related("item", "team", "household"), pk=pk)
    return render(request, "volunteers/order.html", {
        "o": o, "serves": serves_team(user, o.team), "mine": o.requested_by_id == user.pk,
        "late": o.is_late(), "stars": range(1, 6),
    })


ORDER_STEPS = {
    "accept": (actions.do_accept_order, _("已受理。"), ()),
    "decline": (actions.do_decline_order, _("已告知居民不能受理的原因。"), ("reason",)),
    "deliver": (actions.do_deliver_order, _("服务情况已登记，等居民评价。"), ("note", "minutes")),
    "rate": (actions.do_rate_order, _("谢谢您的评价。"), ("rating", "comment")),
}


@require_POST
@login_required
def order_step(request, pk: int, name: str):
    if name not in ORDER_STEPS:
        raise Http404
    o = get_object_or_404(orders_for(request.user), pk=pk)
    fn, success, fields = ORDER_STEPS[name]
    kwargs = {f: request.POST.get(f, "") for f in fields}
    _run(request, fn, success, o, **kwargs)
    return redirect("volunteers:order", pk=o.pk)
