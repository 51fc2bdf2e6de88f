"""志愿服务 through /api/v1/.

Activities:

- ``GET /volunteers/activities`` the activities the caller may see (staff under their places,
  published ones near a resident, those they organise); ``GET /volunteers/activities/{id}``;
- ``POST /volunteers/activities`` creates a draft (``volunteers.manage`` at the place);
  ``POST .../{id}/publish|start|finish|cancel`` move it on; ``POST .../{id}/confirm-hours``
  confirms the hours of a finished activity and posts each participant's points (once);
- ``GET .../{id}/roster`` who signed up, their check-in/out, minutes and points (organisers);
- ``POST .../{id}/signup`` takes a place (201; 400 when full), ``POST .../{id}/signup/cancel``
  gives it up; ``POST .../{id}/check-in`` and ``.../check-out`` with ``{"code": "123456"}``;
- ``POST /volunteers/signups/{id}/hours`` corrects a participant's minutes with a reason;
- ``GET /volunteers/me/signups`` the caller's sign-ups, hours and points.

Menu and orders: ``GET /volunteers/menu``, ``POST /volunteers/orders`` (201),
``GET /volunteers/orders?status=&late=``, ``POST /volunteers/orders/{id}/accept|decline|
deliver|rate``. Teams: ``GET /volunteers/teams``, ``POST /volunteers/teams/{id}/join``.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Q
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from pydantic import ConfigDict

from gongzhi.api.errors import ErrorOut
from gongzhi.api.pagination import DEFAULT_LIMIT, MAX_LIMIT
from gongzhi.core.errors import ActionForbidden
from gongzhi.places.models import Place

from . import actions
from .access import activities_for, may_manage, near_menu, near_teams, serves_team
from .models import (
    Activity,
    ActivityStatus,
    OrderStatus,
    ServiceItem,
    ServiceOrder,
    Signup,
    SignupStatus,
    Team,
)

router = Router(tags=["volunteers"])
ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut}


class In(Schema):
    model_config = ConfigDict(use_enum_values=True, extra="forbid")


# ---------------------------------------------------------------- output


class ActivityOut(Schema):
    id: int
    title: str
    description: str
    place_id: int
    village_id: int | None
    team_id: int | None
    service_item_id: int | None
    address: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    slots: int
    taken: int
    status: str = Field(..., description="draft, published, ongoing, finished or cancelled")
    hours_confirmed: bool
    my_signup: int | None = Field(None, description="the caller's active sign-up, if any")
    code: str | None = Field(None, description="the on-site code; organisers only")


class SignupOut(Schema):
    id: int
    activity_id: int
    activity_title: str
    name: str
    household_id: int | None
    status: str
    checked_in_at: dt.datetime | None
    checked_out_at: dt.datetime | None
    minutes: int | None
    minutes_corrected: bool
    correction_reason: str
    points: int | None
    points_note: str


class OrderOut(Schema):
    id: int
    item_id: int
    item_name: str
    team_id: int
    household_id: int | None
    wanted_on: dt.date
    note: str
    status: str = Field(..., description="requested, accepted, declined, delivered or rated")
    late: bool
    decline_reason: str
    delivery_note: str
    minutes: int | None
    rating: int | None
    comment: str
    created_at: dt.datetime


class MenuItemOut(Schema):
    id: int
    name: str
    description: str
    team_id: int
    team_name: str
    typical_minutes: int
    place_id: int


class TeamOut(Schema):
    id: int
    name: str
    kind: str
    place_id: int
    members: int


class ActivityPage(Schema):
    items: list[ActivityOut]
    count: int


class OrderPage(Schema):
    items: list[OrderOut]
    count: int


# ---------------------------------------------------------------- input


class ActivityIn(In):
    place: int
    title: str = Field(..., max_length=120)
    description: str = Field("", max_length=2000)
    address: str = Field(..., max_length=200)
    starts_at: dt.datetime
    ends_at: dt.datetime
    slots: int = Field(..., ge=1, le=actions.MAX_SLOTS)
    team: int | None = None
    service_item: int | None = None
    window_before: int = Field(30, ge=0, le=240, description="minutes before the start "
                                                             "from which check-in opens")
    window_after: int = Field(60, ge=0, le=240, description="minutes after the end until "
                                                            "which check-out stays open")


class CodeIn(In):
    code: str = Field(..., max_length=16)


class ReasonIn(In):
    reason: str = Field(..., max_length=300)


class HoursIn(In):
    minutes: int = Field(..., ge=0, le=actions.MAX_MINUTES)
    reason: str = Field(..., max_length=300)


class OrderIn(In):
    item: int
    wanted_on: dt.date
    note: str = Field("", max_length=1000)


class DeliverIn(In):
    note: str = Field(..., max_length=1000)
    minutes: int = Field(..., ge=1, le=actions.MAX_MINUTES)


class RateIn(In):
    rating: int = Field(..., ge=1, le=5)
    comment: str = Field("", max_length=500)


# ---------------------------------------------------------------- shaping


def activity_out(user, activity: Activity, taken: int | None = None,
                 mine: int | None = None) -> dict:
    if taken is None:
        taken = activity.signups.filter(status=SignupStatus.SIGNED_UP).count()
    if mine is None:
        mine = (activity.signups.filter(user_id=user.pk, status=SignupStatus.SIGNED_UP)
                .values_list("pk", flat=True).first())
    return {
        "id": activity.pk, "title": activity.title, "description": activity.description,
        "place_id": activity.place_id, "village_id": activity.village_id,
        "team_id": activity.team_id, "service_item_id": activity.service_item_id,
        "address": activity.address, "starts_at": activity.starts_at,
        "ends_at": activity.ends_at, "slots": activity.slots, "taken": taken,
        "status": activity.status, "hours_confirmed": activity.hours_confirmed_at is not None,
        "my_signup": mine,
        "code": activity.code if activity.code and may_manage(user, activity.place) else None,
    }


def signup_out(s: Signup) -> dict:
    return {"id": s.pk, "activity_id": s.activity_id, "activity_title": s.activity.title,
            "name": s.name, "household_id": s.household_id, "status": s.status,
            "checked_in_at": s.checked_in_at, "checked_out_at": s.checked_out_at,
            "minutes": s.minutes, "minutes_corrected": s.minutes_corrected,
            "correction_reason": s.correction_reason, "points": s.points,
            "points_note": s.points_note}


def order_out(o: ServiceOrder, today: dt.date) -> dict:
    return {"id": o.pk, "item_id": o.item_id, "item_name": o.item.name, "team_id": o.team_id,
            "household_id": o.household_id, "wanted_on": o.wanted_on, "note": o.note,
            "status": o.status, "late": o.is_late(today), "decline_reason": o.decline_reason,
            "delivery_note": o.delivery_note, "minutes": o.minutes, "rating": o.rating,
            "comment": o.comment, "created_at": o.created_at}


def _activity(request, activity_id: int) -> Activity:
    return get_object_or_404(activities_for(request.auth).select_related("place"),
                             pk=activity_id)


def _managed(request, activity_id: int) -> Activity:
    activity = _activity(request, activity_id)
    if not may_manage(request.auth, activity.place):
        raise ActionForbidden(_("您没有管理这项活动的权限。"))
    return activity


def _one(request, activity_id: int) -> dict:
    return activity_out(request.auth, _activity(request, activity_id))


# ---------------------------------------------------------------- activities


@router.get("/volunteers/activities", response=ActivityPage)
def list_activities(request, status: ActivityStatus | None = None, upcoming: bool = False,
                    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
                    offset: int = Query(0, ge=0)):
    """Activities the caller may see, soonest first; ``upcoming`` keeps those not yet over."""
    user = request.auth
    qs = activities_for(user).select_related("place")
    if status:
        qs = qs.filter(status=status)
    if upcoming:
        qs = qs.filter(ends_at__gt=timezone.now())
    qs = qs.order_by("starts_at", "pk")
    count = qs.count()
    page = list(qs[offset:offset + limit]) if count else []
    return {"items": [activity_out(user, a) for a in page], "count": count}


@router.post("/volunteers/activities", response={201: ActivityOut, **ERRORS})
def create_activity(request, payload: ActivityIn):
    user = request.auth
    place = get_object_or_404(Place, pk=payload.place)
    if not may_manage(user, place):
        raise ActionForbidden(_("您没有在该地组织志愿活动的权限。"))
    team = (get_object_or_404(Team.objects.restrict(user, "view"), pk=payload.team)
            if payload.team is not None else None)
    item = (get_object_or_404(ServiceItem.objects.restrict(user, "view"),
                              pk=payload.service_item)
            if payload.service_item is not None else None)
    activity = actions.do_create_activity(
        place, title=payload.title, description=payload.description, address=payload.address,
        starts_at=payload.starts_at, ends_at=payload.ends_at, slots=payload.slots, team=team,
        service_item=item, window_before=payload.window_before,
        window_after=payload.window_after, acting_user=user)
    return Status(201, _one(request, activity.pk))


@router.get("/volunteers/activities/{activity_id}", response={200: ActivityOut, 404: ErrorOut})
def get_activity(request, activity_id: int):
    return _one(request, activity_id)


def _step(name):
    def run(request, activity_id: int):
        activity = _managed(request, activity_id)
        getattr(actions, name)(activity, acting_user=request.auth)
        return _one(request, activity_id)
    return run


for _path, _action in (("publish", "do_publish_activity"), ("start", "do_start_activity"),
                       ("finish", "do_finish_activity"), ("confirm-hours", "do_confirm_hours"),
                       ("renew-code", "do_renew_code")):
    router.post(f"/volunteers/activities/{{activity_id}}/{_path}",
                response={200: ActivityOut, **ERRORS}, operation_id=f"volunteers_{_action}",
                summary=_action.removeprefix("do_").replace("_", " "))(_step(_action))


@router.post("/volunteers/activities/{activity_id}/cancel",
             response={200: ActivityOut, **ERRORS})
def cancel_activity(request, activity_id: int, payload: ReasonIn):
    actions.do_cancel_activity(_managed(request, activity_id), reason=payload.reason,
                               acting_user=request.auth)
    return _one(request, activity_id)


@router.get("/volunteers/activities/{activity_id}/roster",
            response={200: list[SignupOut], **ERRORS})
def roster(request, activity_id: int):
    activity = _managed(request, activity_id)
    return [signup_out(s) for s in activity.signups.select_related("activity").order_by("pk")]


@router.post("/volunteers/activities/{activity_id}/signup",
             response={201: SignupOut, **ERRORS})
def sign_up(request, activity_id: int):
    signup = actions.do_sign_up(_activity(request, activity_id), acting_user=request.auth)
    return Status(201, signup_out(signup))


def _my_signup(request, activity_id: int) -> Signup:
    activity = _activity(request, activity_id)
    return get_object_or_404(Signup.objects.select_related("activity"), activity=activity,
                             user_id=request.auth.pk)


@router.post("/volunteers/activities/{activity_id}/signup/cancel",
             response={200: SignupOut, **ERRORS})
def cancel_signup(request, activity_id: int):
    signup = actions.do_cancel_signup(_my_signup(request, activity_id),
                                      acting_user=request.auth)
    return signup_out(signup)


@router.post("/volunteers/activities/{activity_id}/check-in",
             response={200: SignupOut, **ERRORS})
def check_in(request, activity_id: int, payload: CodeIn):
    signup = actions.do_check_in(_activity(request, activity_id), code=payload.code,
                                 acting_user=request.auth)
    return signup_out(signup)


@router.post("/volunteers/activities/{activity_id}/check-out",
             response={200: SignupOut, **ERRORS})
def check_out(request, activity_id: int, payload: CodeIn):
    signup = actions.do_check_out(_activity(request, activity_id), code=payload.code,
                                  acting_user=request.auth)
    return signup_out(signup)


@router.post("/volunteers/signups/{signup_id}/hours", response={200: SignupOut, **ERRORS})
def correct_hours(request, signup_id: int, payload: HoursIn):
    signup = get_object_or_404(Signup.objects.select_related("activity"), pk=signup_id,
                               activity__in=activities_for(request.auth))
    signup = actions.do_correct_hours(signup, minutes=payload.minutes, reason=payload.reason,
                                      acting_user=request.auth)
    return signup_out(signup)


@router.get("/volunteers/me/signups", response=list[SignupOut])
def my_signups(request):
    qs = (Signup.objects.filter(user_id=request.auth.pk).select_related("activity")
          .order_by("-activity__starts_at", "-pk")[:MAX_LIMIT])
    return [signup_out(s) for s in qs]


# ---------------------------------------------------------------- menu, teams and orders


@router.get("/volunteers/menu", response=list[MenuItemOut])
def menu(request):
    """The service menu near the caller."""
    items = near_menu(request.auth).select_related("team").order_by("name", "pk")[:MAX_LIMIT]
    return [{"id": i.pk, "name": i.name, "description": i.description, "team_id": i.team_id,
             "team_name": i.team.name, "typical_minutes": i.typical_minutes,
             "place_id": i.place_id} for i in items]


@router.get("/volunteers/teams", response=list[TeamOut])
def teams(request):
    qs = (Team.objects.restrict(request.auth, "view") | near_teams(request.auth))
    qs = qs.annotate(n=Count("members", filter=Q(members__left_at__isnull=True)))
    return [{"id": t.pk, "name": t.name, "kind": t.kind, "place_id": t.place_id,
             "members": t.n} for t in qs.order_by("name", "pk")[:MAX_LIMIT]]


@router.post("/volunteers/teams/{team_id}/join", response={201: TeamOut, **ERRORS})
def join_team(request, team_id: int):
    team = get_object_or_404(near_teams(request.auth), pk=team_id)
    actions.do_join_team(team, acting_user=request.auth)
    return Status(201, {"id": team.pk, "name": team.name, "kind": team.kind,
                        "place_id": team.place_id,
                        "members": team.members.filter(left_at__isnull=True).count()})


@router.post("/volunteers/orders", response={201: OrderOut, **ERRORS})
def order_service(request, payload: OrderIn):
    item = get_object_or_404(near_menu(request.auth), pk=payload.item)
    order = actions.do_order_service(item, wanted_on=payload.wanted_on, note=payload.note,
                                     acting_user=request.auth)
    return Status(201, order_out(order, timezone.localdate()))


def orders_for(user):
    """Orders the caller may see: staff's under their places, their own, and their teams'."""
    member_teams = Team.objects.filter(members__user_id=user.pk, members__left_at__isnull=True)
    return (ServiceOrder.objects.restrict(user, "view")
            | ServiceOrder.objects.filter(team__in=member_teams))


@router.get("/volunteers/orders", response=OrderPage)
def list_orders(request, status: OrderStatus | None = None, late: bool = False,
                limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
                offset: int = Query(0, ge=0)):
    """Orders by status; ``late`` keeps those not delivered after the day wanted."""
    today = timezone.localdate()
    qs = orders_for(request.auth).select_related("item")
    if status:
        qs = qs.filter(status=status)
    if late:
        qs = qs.filter(status__in=(OrderStatus.REQUESTED, OrderStatus.ACCEPTED),
                       wanted_on__lt=today)
    qs = qs.order_by("wanted_on", "pk")
    count = qs.count()
    page = list(qs[offset:offset + limit]) if count else []
    return {"items": [order_out(o, today) for o in page], "count": count}


def _order(request, order_id: int) -> ServiceOrder:
    return get_object_or_404(orders_for(request.auth).select_related("item", "team"),
                             pk=order_id)


@router.post("/volunteers/orders/{order_id}/accept", response={200: OrderOut, **ERRORS})
def accept_order(request, order_id: int):
    order = _order(request, order_id)
    if not serves_team(request.auth, order.team):
        raise ActionForbidden(_("只有服务队伍的队员或组织者可以处理这个订单。"))
    return order_out(actions.do_accept_order(order, acting_user=request.auth),
                     timezone.localdate())


@router.post("/volunteers/orders/{order_id}/decline", response={200: OrderOut, **ERRORS})
def decline_order(request, order_id: int, payload: ReasonIn):
    order = actions.do_decline_order(_order(request, order_id), reason=payload.reason,
                                     acting_user=request.auth)
    return order_out(order, timezone.localdate())


@router.post("/volunteers/orders/{order_id}/deliver", response={200: OrderOut, **ERRORS})
def deliver_order(request, order_id: int, payload: DeliverIn):
    order = actions.do_deliver_order(_order(request, order_id), note=payload.note,
                                     minutes=payload.minutes, acting_user=request.auth)
    return order_out(order, timezone.localdate())


@router.post("/volunteers/orders/{order_id}/rate", response={200: OrderOut, **ERRORS})
def rate_order(request, order_id: int, payload: RateIn):
    order = actions.do_rate_order(_order(request, order_id), rating=payload.rating,
                                  comment=payload.comment, acting_user=request.auth)
    return order_out(order, timezone.localdate())
