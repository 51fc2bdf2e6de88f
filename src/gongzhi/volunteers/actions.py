"""Every write of 志愿服务: teams and members, the service menu, activities (publish, sign up,
check in and out, correct and confirm hours), and orders from the menu.

Each action is atomic, checks the acting user's permission and its preconditions (raising
:class:`ActionForbidden` / :class:`ActionError` before anything changes) and records one audit
event, last. Sign-ups lock the activity row, so its slots are never oversold.
"""

from __future__ import annotations

import datetime as dt
import secrets

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.audit.log import record
from gongzhi.core.errors import ActionError, ActionForbidden
from gongzhi.notifications.outbox import notify
from gongzhi.places.models import Organisation, OrganisationKind, Person, Place, PlaceKind

from . import points
from .access import (
    may_manage,
    may_take_part,
    participant_household,
    serves_team,
)
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

MAX_SLOTS = 500
MAX_MINUTES = 24 * 60
CODE_DIGITS = 6
OLDEST_DAYS = 31  # an activity may be entered a little late, to record hours


def _aware(moment: dt.datetime) -> dt.datetime:
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def _user(acting_user):
    return acting_user if getattr(acting_user, "is_authenticated", False) else None


def _require_manage(acting_user, place: Place, message: str) -> None:
    """``acting_user=None`` is the system itself (commands, builders), as elsewhere."""
    if acting_user is not None and not may_manage(acting_user, place):
        raise ActionForbidden(message)


def _text(value, limit: int, message: str, *, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ActionError(message)
    if len(value) > limit:
        raise ActionError(message)
    return value


def _display_name(user) -> str:
    person = getattr(user, "person", None)
    if person is not None:
        return person.name
    return (getattr(user, "display_name", "") or user.get_username())[:60]


# =============================================================================================
# Teams and members


@transaction.atomic
def do_create_team(place: Place, *, name: str, kind: str, description: str = "",
                   acting_user) -> Team:
    """A team at a county, town, village or grid."""
    _require_manage(acting_user, place, _("您没有在该地组建志愿服务队的权限。"))
    if place.kind in (PlaceKind.BUILDING, PlaceKind.HOUSEHOLD):
        raise ActionError(_("志愿服务队应建在村（社区）、网格或以上。"))
    name = _text(name, 80, _("请填写队伍名称（不超过80字）。"))
    if kind not in TeamKind.values:
        raise ActionError(_("请选择队伍类型。"))
    description = _text(description, 1000, _("简介不能超过1000字。"), required=False)
    team = Team(name=name, kind=kind, description=description, created_by=_user(acting_user))
    team.set_place(place)
    team.save(force_insert=True)
    record("volunteers.team.create", actor=acting_user, obj=team,
           after={"name": name, "kind": kind, "place": place.pk})
    return team


@transaction.atomic
def do_add_member(team: Team, *, kind: str, acting_user, person: Person | None = None,
                  organisation: Organisation | None = None, user=None, name: str = "",
                  is_leader: bool = False) -> TeamMember:
    """An organiser adds a member: a resident or party member (``person``), staff of a
    stationed unit (``organisation`` and a name), a grid worker or building head."""
    _require_manage(acting_user, team.place, _("您没有管理这支队伍的权限。"))
    if kind not in MemberKind.values:
        raise ActionError(_("请选择队员身份。"))
    if person is not None:
        if not (person.place_id == team.place_id or person.place.ancestor_id(team.place.kind)
                == team.place_id or team.place_id in person.place.ancestor_ids()):
            raise ActionError(_("这位人员不在本队所在的地方。"))
        name = name or person.name
    if kind == MemberKind.UNIT_STAFF:
        if organisation is None or organisation.kind != OrganisationKind.RESIDENT_UNIT:
            raise ActionError(_("驻区单位职工请选择所在的驻区单位。"))
        if organisation.county_id != team.county_id:
            raise ActionError(_("所选单位不在本县（区）。"))
    name = _text(name, 60, _("请填写队员姓名（不超过60字）。"))
    member = _join(team, kind=kind, name=name, person=person, organisation=organisation,
                   user=user)
    if is_leader:
        _make_leader(member)
    record("volunteers.team.add_member", actor=acting_user, obj=team,
           after={"member": member.pk, "kind": kind, "name": name,
                  "person": getattr(person, "pk", None),
                  "organisation": getattr(organisation, "pk", None), "leader": is_leader})
    return member


def _join(team: Team, *, kind, name, person=None, organisation=None, user=None) -> TeamMember:
    Team.objects.select_for_update().filter(pk=team.pk).first()  # one join at a time per team
    active = TeamMember.objects.filter(team=team, left_at__isnull=True)
    if (user is not None and active.filter(user=user).exists()) or (
            person is not None and active.filter(person=person).exists()):
        raise ActionError(_("已经是这支队伍的队员了。"))
    return TeamMember.objects.create(team=team, kind=kind, name=name, person=person,
                                     organisation=organisation, user=user)


def _make_leader(member: TeamMember) -> None:
    TeamMember.objects.filter(team_id=member.team_id, is_leader=True).exclude(
        pk=member.pk).update(is_leader=False)
    member.is_leader = True
    member.save(update_fields=["is_leader"])


@transaction.atomic
def do_join_team(team: Team, *, acting_user) -> TeamMember:
    """A participant joins a team near them, as themselves."""
    if not team.is_active or not may_take_part(acting_user, team.place):
        raise ActionForbidden(_("您不能加入这支队伍。"))
    person = getattr(acting_user, "person", None)
    kind = (MemberKind.PARTY_MEMBER if person is not None and person.is_party_member
            else MemberKind.RESIDENT)
    if person is not None and TeamMember.objects.filter(team=team, person=person,
                                                        left_at__isnull=True).exists():
        raise ActionError(_("已经是这支队伍的队员了。"))
    member = _join(team, kind=kind, name=_display_name(acting_user), person=person,
                   user=acting_user)
    record("volunteers.team.join", actor=acting_user, obj=team,
           after={"member": member.pk, "kind": kind})
    return member


@transaction.atomic
def do_leave_team(member: TeamMember, *, acting_user) -> TeamMember:
    """A member leaves (themselves, or removed by an organiser); the row stays as history."""
    team = member.team
    if member.user_id != getattr(acting_user, "pk", None):
        _require_manage(acting_user, team.place, _("您没有管理这支队伍的权限。"))
    member = TeamMember.objects.select_for_update().get(pk=member.pk)
    if member.left_at is not None:
        raise ActionError(_("已经不在这支队伍里了。"))
    member.left_at = timezone.now()
    member.is_leader = False
    member.save(update_fields=["left_at", "is_leader"])
    record("volunteers.team.leave", actor=acting_user, obj=team,
           after={"member": member.pk, "name": member.name})
    return member


@transaction.atomic
def do_set_leader(member: TeamMember, *, acting_user) -> TeamMember:
    team = member.team
    _require_manage(acting_user, team.place, _("您没有管理这支队伍的权限。"))
    if member.left_at is not None:
        raise ActionError(_("已离队的人不能当队长。"))
    before = [m.pk for m in team.members.filter(is_leader=True)]
    _make_leader(member)
    record("volunteers.team.leader", actor=acting_user, obj=team, before={"leader": before},
           after={"leader": member.pk})
    return member


# =============================================================================================
# The service menu


@transaction.atomic
def do_save_service_item(place: Place, *, name: str, team: Team, acting_user,
                         description: str = "", typical_minutes: int = 60,
                         is_active: bool = True, item: ServiceItem | None = None
                         ) -> ServiceItem:
    """Add an item to a place's menu, or change one (``item``)."""
    if item is not None:
        place = item.place
    _require_manage(acting_user, place, _("您没有维护该地服务菜单的权限。"))
    name = _text(name, 80, _("请填写服务名称（不超过80字）。"))
    description = _text(description, 1000, _("服务内容不能超过1000字。"), required=False)
    if team.county_id != place.county_id or not team.is_active:
        raise ActionError(_("请选择本地在册的志愿服务队。"))
    try:
        typical_minutes = int(typical_minutes)
    except (TypeError, ValueError):
        typical_minutes = 0
    if not 10 <= typical_minutes <= MAX_MINUTES:
        raise ActionError(_("通常时长应在10分钟到24小时之间。"))
    fields = {"name": name, "description": description, "team": team,
              "typical_minutes": typical_minutes, "is_active": bool(is_active)}
    if item is None:
        item = ServiceItem(**fields)
        item.set_place(place)
        item.save(force_insert=True)
        before = None
    else:
        before = {"name": item.name, "team": item.team_id, "minutes": item.typical_minutes,
                  "active": item.is_active}
        for key, value in fields.items():
            setattr(item, key, value)
        item.save(update_fields=list(fields))
    record("volunteers.menu.save", actor=acting_user, obj=item, before=before,
           after={"name": name, "team": team.pk, "minutes": typical_minutes,
                  "active": item.is_active, "place": place.pk})
    return item


# =============================================================================================
# Activities


def _locked(activity: Activity) -> Activity:
    return (Activity.objects.select_for_update(of=("self",))
            .select_related("place", "team").get(pk=activity.pk))


@transaction.atomic
def do_create_activity(place: Place, *, title: str, address: str, starts_at: dt.datetime,
                       ends_at: dt.datetime, slots: int, acting_user, description: str = "",
                       team: Team | None = None, service_item: ServiceItem | None = None,
                       window_before: int = 30, window_after: int = 60) -> Activity:
    """A draft activity; residents see it once it is published."""
    _require_manage(acting_user, place, _("您没有在该地组织志愿活动的权限。"))
    if place.kind == PlaceKind.HOUSEHOLD:
        raise ActionError(_("志愿活动应办在村（社区）、网格或以上。"))
    title = _text(title, 120, _("请填写活动名称（不超过120字）。"))
    address = _text(address, 200, _("请填写集合地点（不超过200字）。"))
    description = _text(description, 2000, _("活动内容不能超过2000字。"), required=False)
    if starts_at is None or ends_at is None:
        raise ActionError(_("请填写开始和结束时间，结束应晚于开始。"))
    starts_at, ends_at = _aware(starts_at), _aware(ends_at)
    if ends_at <= starts_at:
        raise ActionError(_("请填写开始和结束时间，结束应晚于开始。"))
    now = timezone.now()
    if not now - dt.timedelta(days=OLDEST_DAYS) <= starts_at <= now + dt.timedelta(days=366):
        raise ActionError(_("活动时间应在一个月前到一年之内。"))
    if ends_at - starts_at > dt.timedelta(minutes=MAX_MINUTES):
        raise ActionError(_("一次活动不能超过24小时。"))
    try:
        slots = int(slots)
    except (TypeError, ValueError):
        slots = 0
    if not 1 <= slots <= MAX_SLOTS:
        raise ActionError(_("名额应在1到500之间。"))
    if service_item is not None:
        if service_item.county_id != place.county_id:
            raise ActionError(_("所选服务不在本县（区）的服务菜单上。"))
        team = team or service_item.team
    if team is not None and team.county_id != place.county_id:
        raise ActionError(_("请选择本地的志愿服务队。"))
    for value in (window_before, window_after):
        if not isinstance(value, int) or not 0 <= value <= 240:
            raise ActionError(_("签到、签退的时间窗应在0到240分钟之间。"))
    activity = Activity(title=title, description=description, address=address,
                        starts_at=starts_at, ends_at=ends_at, slots=slots, team=team,
                        service_item=service_item, window_before=window_before,
                        window_after=window_after, organiser=acting_user)
    activity.set_place(place)
    activity.save(force_insert=True)
    record("volunteers.activity.create", actor=acting_user, obj=activity,
           after={"title": title, "place": place.pk, "starts_at": starts_at,
                  "ends_at": ends_at, "slots": slots, "team": getattr(team, "pk", None),
                  "service_item": getattr(service_item, "pk", None)})
    return activity


def _new_code() -> str:
    return f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"


@transaction.atomic
def do_publish_activity(activity: Activity, *, acting_user) -> Activity:
    """Open sign-up; the activity gets its on-site code."""
    activity = _locked(activity)
    _require_manage(acting_user, activity.place, _("您没有管理这项活动的权限。"))
    if activity.status != ActivityStatus.DRAFT:
        raise ActionError(_("只有草稿状态的活动可以发布。"))
    if activity.ends_at <= timezone.now():
        raise ActionError(_("活动结束时间已过，不能发布。"))
    activity.status = ActivityStatus.PUBLISHED
    activity.published_at = timezone.now()
    activity.code = _new_code()
    activity.save(update_fields=["status", "published_at", "code"])
    record("volunteers.activity.publish", actor=acting_user, obj=activity,
           after={"status": activity.status})
    return activity


@transaction.atomic
def do_renew_code(activity: Activity, *, acting_user) -> Activity:
    """A new on-site code (the old one stops working), e.g. when it was passed around."""
    activity = _locked(activity)
    _require_manage(acting_user, activity.place, _("您没有管理这项活动的权限。"))
    if not activity.is_open_for_signup:
        raise ActionError(_("只有报名中或进行中的活动有签到码。"))
    activity.code = _new_code()
    activity.save(update_fields=["code"])
    record("volunteers.activity.renew_code", actor=acting_user, obj=activity)
    return activity


@transaction.atomic
def do_start_activity(activity: Activity, *, acting_user) -> Activity:
    activity = _locked(activity)
    _require_manage(acting_user, activity.place, _("您没有管理这项活动的权限。"))
    if activity.status != ActivityStatus.PUBLISHED:
        raise ActionError(_("只有报名中的活动可以开始。"))
    activity.status = ActivityStatus.ONGOING
    activity.save(update_fields=["status"])
    record("volunteers.activity.start", actor=acting_user, obj=activity,
           after={"status": activity.status})
    return activity


@transaction.atomic
def do_finish_activity(activity: Activity, *, acting_user) -> Activity:
    """End the activity: sign-up closes; hours can then be corrected and confirmed."""
    activity = _locked(activity)
    _require_manage(acting_user, activity.place, _("您没有管理这项活动的权限。"))
    if activity.status not in (ActivityStatus.PUBLISHED, ActivityStatus.ONGOING):
        raise ActionError(_("只有报名中或进行中的活动可以结束。"))
    if activity.starts_at > timezone.now():
        raise ActionError(_("活动还没开始，不能结束；不办了请取消。"))
    activity.status = ActivityStatus.FINISHED
    activity.finished_at = timezone.now()
    activity.save(update_fields=["status", "finished_at"])
    record("volunteers.activity.finish", actor=acting_user, obj=activity,
           after={"status": activity.status})
    return activity


@transaction.atomic
def do_cancel_activity(activity: Activity, *, reason: str, acting_user) -> Activity:
    activity = _locked(activity)
    _require_manage(acting_user, activity.place, _("您没有管理这项活动的权限。"))
    if activity.status in (ActivityStatus.FINISHED, ActivityStatus.CANCELLED):
        raise ActionError(_("已结束或已取消的活动不能再取消。"))
    reason = _text(reason, 300, _("取消活动请写明原因（不超过300字）。"))
    before = activity.status
    activity.status = ActivityStatus.CANCELLED
    activity.cancel_reason = reason
    activity.save(update_fields=["status", "cancel_reason"])
    users = [s.user for s in activity.signups.filter(status=SignupStatus.SIGNED_UP)
             .select_related("user")]
    notify(event="volunteer_activity_cancelled", users=users, county_id=activity.county_id,
           title=_("您报名的志愿活动“%(title)s”已取消。") % {"title": activity.title},
           body=reason)
    record("volunteers.activity.cancel", actor=acting_user, obj=activity,
           before={"status": before}, after={"status": activity.status, "reason": reason})
    return activity


# ---------------------------------------------------------------------------------------------
# Sign-up


def active_count(activity: Activity) -> int:
    return activity.signups.filter(status=SignupStatus.SIGNED_UP).count()


@transaction.atomic
def do_sign_up(activity: Activity, *, acting_user) -> Signup:
    """Take a place on an activity near the participant. The activity row is locked while
    the places are counted, so two people can never take the last place both."""
    activity = _locked(activity)
    if not may_take_part(acting_user, activity.place):
        raise ActionForbidden(_("这项活动不在您所在的村（社区），不能报名。"))
    if not activity.is_open_for_signup:
        raise ActionError(_("这项活动现在不接受报名。"))
    if activity.ends_at <= timezone.now():
        raise ActionError(_("活动已经结束，不能报名。"))
    existing = Signup.objects.filter(activity=activity, user=acting_user).first()
    if existing is not None and existing.is_active:
        raise ActionError(_("您已经报过名了。"))
    if active_count(activity) >= activity.slots:
        raise ActionError(_("名额已满，下次早点报名。"))
    household = participant_household(acting_user)
    if existing is not None:
        existing.status, existing.signed_at, existing.cancelled_at = (
            SignupStatus.SIGNED_UP, timezone.now(), None)
        existing.household = household
        existing.save(update_fields=["status", "signed_at", "cancelled_at", "household"])
        signup = existing
    else:
        signup = Signup.objects.create(activity=activity, user=acting_user, household=household,
                                       name=_display_name(acting_user))
    record("volunteers.signup.create", actor=acting_user, obj=activity,
           after={"signup": signup.pk, "household": getattr(household, "pk", None)})
    return signup


def _locked_signup(signup: Signup) -> Signup:
    _locked(signup.activity)
    return Signup.objects.select_for_update(of=("self",)).select_related(
        "activity", "activity__place", "household").get(pk=signup.pk)


@transaction.atomic
def do_cancel_signup(signup: Signup, *, acting_user) -> Signup:
    """The participant gives up their place (before checking in); the place is free again."""
    signup = _locked_signup(signup)
    if signup.user_id != getattr(acting_user, "pk", None):
        _require_manage(acting_user, signup.activity.place, _("只能取消自己的报名。"))
    if not signup.is_active:
        raise ActionError(_("这个报名已经取消了。"))
    if signup.checked_in_at is not None:
        raise ActionError(_("已经签到，不能取消报名。"))
    if signup.activity.status not in (ActivityStatus.PUBLISHED, ActivityStatus.ONGOING):
        raise ActionError(_("活动已结束或已取消，报名不能再变动。"))
    signup.status, signup.cancelled_at = SignupStatus.CANCELLED, timezone.now()
    signup.save(update_fields=["status", "cancelled_at"])
    record("volunteers.signup.cancel", actor=acting_user, obj=signup.activity,
           after={"signup": signup.pk})
    return signup


def _check_code(activity: Activity, code: str) -> None:
    given = "".join((code or "").split())
    if not activity.code or not secrets.compare_digest(given.encode(), activity.code.encode()):
        raise ActionError(_("签到码不对，请看组织者出示的签到码。"))


def _own_signup(activity: Activity, acting_user) -> Signup:
    signup = (Signup.objects.select_for_update(of=("self",))
              .filter(activity=activity, user_id=getattr(acting_user, "pk", None),
                      status=SignupStatus.SIGNED_UP).first())
    if signup is None:
        raise ActionError(_("您没有报名这项活动，请先报名。"))
    return signup


@transaction.atomic
def do_check_in(activity: Activity, *, code: str, acting_user) -> Signup:
    """On site, with the organiser's code, inside the check-in window."""
    activity = _locked(activity)
    if not activity.is_open_for_signup:
        raise ActionError(_("这项活动现在不能签到。"))
    _check_code(activity, code)
    now = timezone.now()
    opens, closes = activity.check_in_window()
    if now < opens:
        raise ActionError(_("还没到签到时间：活动开始前 %(n)d 分钟起可以签到。")
                          % {"n": activity.window_before})
    if now > closes:
        raise ActionError(_("活动已经结束，不能再签到。"))
    signup = _own_signup(activity, acting_user)
    if signup.checked_in_at is not None:
        raise ActionError(_("您已经签到过了。"))
    signup.checked_in_at = now
    signup.save(update_fields=["checked_in_at"])
    if activity.status == ActivityStatus.PUBLISHED and now >= activity.starts_at:
        activity.status = ActivityStatus.ONGOING
        activity.save(update_fields=["status"])
    record("volunteers.signup.check_in", actor=acting_user, obj=activity,
           after={"signup": signup.pk, "at": now})
    return signup


def worked_minutes(activity: Activity, checked_in_at, checked_out_at) -> int:
    """From check-in (not before the start) to check-out, capped at the activity's length."""
    start = max(checked_in_at, activity.starts_at)
    minutes = int(max((checked_out_at - start).total_seconds(), 0) // 60)
    return min(minutes, activity.duration_minutes)


@transaction.atomic
def do_check_out(activity: Activity, *, code: str, acting_user) -> Signup:
    """On leaving, with the same code, inside the check-out window: the hours are counted."""
    activity = _locked(activity)
    if activity.status not in (ActivityStatus.PUBLISHED, ActivityStatus.ONGOING,
                               ActivityStatus.FINISHED) or activity.hours_confirmed_at:
        raise ActionError(_("这项活动现在不能签退。"))
    _check_code(activity, code)
    now = timezone.now()
    opens, closes = activity.check_out_window()
    if now < opens:
        raise ActionError(_("活动还没开始，不能签退。"))
    if now > closes:
        raise ActionError(_("已过签退时间（活动结束后 %(n)d 分钟内），请联系组织者登记时长。")
                          % {"n": activity.window_after})
    signup = _own_signup(activity, acting_user)
    if signup.checked_in_at is None:
        raise ActionError(_("您还没有签到，不能签退。"))
    if signup.checked_out_at is not None:
        raise ActionError(_("您已经签退过了。"))
    signup.checked_out_at = now
    if not signup.minutes_corrected:
        signup.minutes = worked_minutes(activity, signup.checked_in_at, now)
    signup.save(update_fields=["checked_out_at", "minutes"])
    record("volunteers.signup.check_out", actor=acting_user, obj=activity,
           after={"signup": signup.pk, "at": now, "minutes": signup.minutes})
    return signup


@transaction.atomic
def do_correct_hours(signup: Signup, *, minutes: int, reason: str, acting_user) -> Signup:
    """The organiser sets a participant's minutes (forgot to check out, left early ...), with
    a reason; audited with the value before. Only before the hours are confirmed."""
    signup = _locked_signup(signup)
    activity = signup.activity
    _require_manage(acting_user, activity.place, _("您没有管理这项活动的权限。"))
    if activity.hours_confirmed_at is not None:
        raise ActionError(_("这项活动的时长已经确认，不能再更正。"))
    if activity.status not in (ActivityStatus.ONGOING, ActivityStatus.FINISHED):
        raise ActionError(_("活动开始后才能更正时长。"))
    if not signup.is_active:
        raise ActionError(_("这个报名已经取消了。"))
    try:
        minutes = int(minutes)
    except (TypeError, ValueError):
        minutes = -1
    if not 0 <= minutes <= activity.duration_minutes:
        raise ActionError(_("时长应在0到活动时长（%(n)d 分钟）之间。")
                          % {"n": activity.duration_minutes})
    reason = _text(reason, 300, _("更正时长请写明原因（不超过300字）。"))
    before = {"minutes": signup.minutes, "reason": signup.correction_reason}
    signup.minutes, signup.minutes_corrected, signup.correction_reason = minutes, True, reason
    signup.save(update_fields=["minutes", "minutes_corrected", "correction_reason"])
    record("volunteers.signup.correct_hours", actor=acting_user, obj=activity, before=before,
           after={"signup": signup.pk, "minutes": minutes, "reason": reason})
    return signup


@transaction.atomic
def do_confirm_hours(activity: Activity, *, acting_user) -> Activity:
    """The organiser confirms the finished activity's hours: each participant's hours post
    points through the rule book (see :mod:`gongzhi.volunteers.points`). Once only: a second
    confirmation is refused, and each sign-up's ledger key is unique besides."""
    activity = _locked(activity)
    _require_manage(acting_user, activity.place, _("您没有管理这项活动的权限。"))
    if activity.status != ActivityStatus.FINISHED:
        raise ActionError(_("活动结束后才能确认时长。"))
    if activity.hours_confirmed_at is not None:
        raise ActionError(_("这项活动的时长已经确认过了，积分不会重复记入。"))
    signups = list(activity.signups.select_for_update(of=("self",))
                   .filter(status=SignupStatus.SIGNED_UP).select_related("household", "user")
                   .order_by("pk"))
    posted = {}
    for signup in signups:
        if signup.minutes is None:
            signup.minutes = 0  # checked in but never out, and not corrected
        points.post_hours(signup, activity, acting_user=acting_user)
        signup.save(update_fields=["minutes", "points", "points_note", "claim"])
        posted[signup.pk] = {"minutes": signup.minutes, "points": signup.points}
        if signup.minutes:
            notify(event="volunteer_hours_confirmed", users=[signup.user],
                   county_id=activity.county_id, context={"points": signup.points},
                   url=reverse("volunteers:activity", args=[activity.pk]),
                   title=_("您参加的“%(title)s”服务 %(hours)s 小时已确认，记入积分 %(n)d 分。")
                   % {"title": activity.title, "hours": signup.hours, "n": signup.points or 0})
    activity.hours_confirmed_at = timezone.now()
    activity.hours_confirmed_by = _user(acting_user)
    activity.save(update_fields=["hours_confirmed_at", "hours_confirmed_by"])
    record("volunteers.activity.confirm_hours", actor=acting_user, obj=activity,
           after={"signups": posted})
    return activity


# =============================================================================================
# Orders from the menu (点单 → 派单 → 接单 → 评单)


def _locked_order(order: ServiceOrder) -> ServiceOrder:
    return (ServiceOrder.objects.select_for_update(of=("self",))
            .select_related("team", "team__place", "item").get(pk=order.pk))


@transaction.atomic
def do_order_service(item: ServiceItem, *, wanted_on: dt.date, note: str = "",
                     acting_user) -> ServiceOrder:
    """A resident orders a menu item for their household."""
    if not item.is_active or not may_take_part(acting_user, item.place):
        raise ActionForbidden(_("这项服务不在您所在村（社区）的服务菜单上。"))
    household = participant_household(acting_user)
    if household is None:
        raise ActionError(_("只有本地居民户可以点单。"))
    today = timezone.localdate()
    if wanted_on is None or wanted_on < today or wanted_on > today + dt.timedelta(days=90):
        raise ActionError(_("希望服务的日期应在今天到90天之内。"))
    note = _text(note, 1000, _("需求说明不能超过1000字。"), required=False)
    order = ServiceOrder(item=item, team=item.team, requested_by=acting_user,
                         wanted_on=wanted_on, note=note)
    order.set_place(household)
    order.save(force_insert=True)
    notify(event="volunteer_order_new",
           users=[m.user for m in item.team.members.filter(left_at__isnull=True,
                                                            user__isnull=False)
                  .select_related("user")],
           county_id=order.county_id,
           title=_("有居民点了“%(item)s”服务，请及时受理。") % {"item": item.name})
    record("volunteers.order.create", actor=acting_user, obj=order,
           after={"item": item.pk, "team": item.team_id, "wanted_on": wanted_on})
    return order


def _require_team(acting_user, order: ServiceOrder) -> None:
    if acting_user is not None and not serves_team(acting_user, order.team):
        raise ActionForbidden(_("只有服务队伍的队员或组织者可以处理这个订单。"))


@transaction.atomic
def do_accept_order(order: ServiceOrder, *, acting_user) -> ServiceOrder:
    order = _locked_order(order)
    _require_team(acting_user, order)
    if order.status != OrderStatus.REQUESTED:
        raise ActionError(_("这个订单已经处理过了。"))
    order.status, order.handled_by, order.handled_at = (OrderStatus.ACCEPTED,
                                                        _user(acting_user), timezone.now())
    order.save(update_fields=["status", "handled_by", "handled_at"])
    notify(event="volunteer_order_accepted", users=[order.requested_by],
           county_id=order.county_id,
           title=_("您点的“%(item)s”服务已受理。") % {"item": order.item.name})
    record("volunteers.order.accept", actor=acting_user, obj=order,
           after={"status": order.status})
    return order


@transaction.atomic
def do_decline_order(order: ServiceOrder, *, reason: str, acting_user) -> ServiceOrder:
    order = _locked_order(order)
    _require_team(acting_user, order)
    if order.status != OrderStatus.REQUESTED:
        raise ActionError(_("这个订单已经处理过了。"))
    reason = _text(reason, 300, _("不能受理时请写明原因（不超过300字）。"))
    order.status, order.handled_by, order.handled_at = (OrderStatus.DECLINED,
                                                        _user(acting_user), timezone.now())
    order.decline_reason = reason
    order.save(update_fields=["status", "handled_by", "handled_at", "decline_reason"])
    notify(event="volunteer_order_declined", users=[order.requested_by],
           county_id=order.county_id, body=reason,
           title=_("您点的“%(item)s”服务暂时不能受理。") % {"item": order.item.name})
    record("volunteers.order.decline", actor=acting_user, obj=order,
           after={"status": order.status, "reason": reason})
    return order


@transaction.atomic
def do_deliver_order(order: ServiceOrder, *, note: str, minutes: int,
                     acting_user) -> ServiceOrder:
    order = _locked_order(order)
    _require_team(acting_user, order)
    if order.status != OrderStatus.ACCEPTED:
        raise ActionError(_("订单受理后才能登记服务情况。"))
    note = _text(note, 1000, _("请写明做了什么（不超过1000字）。"))
    try:
        minutes = int(minutes)
    except (TypeError, ValueError):
        minutes = 0
    if not 1 <= minutes <= MAX_MINUTES:
        raise ActionError(_("服务时长应在1分钟到24小时之间。"))
    order.status, order.delivered_at = OrderStatus.DELIVERED, timezone.now()
    order.delivery_note, order.minutes = note, minutes
    order.save(update_fields=["status", "delivered_at", "delivery_note", "minutes"])
    notify(event="volunteer_order_delivered", users=[order.requested_by],
           county_id=order.county_id,
           title=_("“%(item)s”服务已完成，请您评价。") % {"item": order.item.name})
    record("volunteers.order.deliver", actor=acting_user, obj=order,
           after={"status": order.status, "minutes": minutes})
    return order


@transaction.atomic
def do_rate_order(order: ServiceOrder, *, rating: int, comment: str = "",
                  acting_user) -> ServiceOrder:
    order = _locked_order(order)
    if order.requested_by_id != getattr(acting_user, "pk", None):
        raise ActionForbidden(_("只有点单的居民可以评价。"))
    if order.status != OrderStatus.DELIVERED:
        raise ActionError(_("服务完成后才能评价，且只能评价一次。"))
    try:
        rating = int(rating)
    except (TypeError, ValueError):
        rating = 0
    if not 1 <= rating <= 5:
        raise ActionError(_("请给出1到5星的评分。"))
    comment = _text(comment, 500, _("评价不能超过500字。"), required=False)
    order.status, order.rating, order.comment, order.rated_at = (
        OrderStatus.RATED, rating, comment, timezone.now())
    order.save(update_fields=["status", "rating", "comment", "rated_at"])
    record("volunteers.order.rate", actor=acting_user, obj=order,
           after={"rating": rating, "comment": comment})
    return order
