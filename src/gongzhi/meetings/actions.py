"""Every write of 议事: kinds, members, schedules, meetings, agendas, sign-in, votes,
resolutions, and resolutions becoming matters.

Pages, the API, the scheduled job and the command call these. Each is atomic, checks before it
changes anything (raising :class:`ActionError` / :class:`ActionForbidden` with a whole
sentence), writes the audit chain and sends notices through the outbox.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.accounts.models import User
from gongzhi.audit.log import record, snapshot
from gongzhi.core.access import has_permission
from gongzhi.core.errors import ActionError, ActionForbidden
from gongzhi.matters import workflow
from gongzhi.matters.models import Channel, HandlingMode, Ledger, Matter, StageKind
from gongzhi.notifications.outbox import notify
from gongzhi.places.models import Organisation, Person, Place, PlaceKind

from . import hooks
from .access import may_at_village
from .kinds import (
    DECISIONS,
    allows_consensus,
    clean_quorum,
    quorum_reached,
    vote_passes,
)
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
    TopicSource,
    TopicStatus,
    Vote,
)

OPEN_TOPIC = (TopicStatus.PROPOSED, TopicStatus.ON_AGENDA)
NOT_STARTED = (MeetingStatus.SCHEDULED, MeetingStatus.FROZEN)


# ---------------------------------------------------------------------------------------------
# Helpers


def _actor(user):
    return user if getattr(user, "is_authenticated", False) else None


def _require(user, permission: str, village: Place, message: str) -> None:
    """``user`` None is the system (the scheduled job, a command): always allowed."""
    if user is None:
        return
    if not may_at_village(user, permission, village):
        raise ActionForbidden(message)


def _village(place: Place) -> Place:
    if place.kind != PlaceKind.VILLAGE:
        raise ActionError(_("会议和议题须属于一个村（社区）。"))
    return place


def meeting_url(meeting: Meeting) -> str:
    return reverse("meetings:detail", kwargs={"pk": meeting.pk})


def _lock_meeting(meeting: Meeting) -> Meeting:
    return Meeting.objects.select_for_update(of=("self",)).select_related(
        "kind", "village").get(pk=meeting.pk)


def _lock_topic(topic: Topic) -> Topic:
    return Topic.objects.select_for_update(of=("self",)).select_related(
        "meeting", "meeting__kind", "village").get(pk=topic.pk)


def agenda_frozen(meeting: Meeting, now: dt.datetime | None = None) -> bool:
    """Whether the agenda is fixed: frozen, under way or past its freeze time."""
    now = now or timezone.now()
    return meeting.status != MeetingStatus.SCHEDULED or now >= meeting.freeze_at


def present_count(meeting: Meeting) -> int:
    return meeting.invitations.filter(signed_in_at__isnull=False).count()


def _text(value: str | None, limit: int | None = None) -> str:
    value = (value or "").strip()
    return value[:limit] if limit else value


# ---------------------------------------------------------------------------------------------
# Kinds (a locality's own, and its changes to the builtin ones)


@transaction.atomic
def do_save_kind(county: Place, *, acting_user, kind: MeetingKind | None = None, name: str,
                 invitee_groups: list[str], quorum: dict[str, Any] | None, decision: str,
                 allows_consensus: bool = False, freeze_days: int = 10,
                 is_active: bool = True) -> MeetingKind:
    """Create a locality's own kind, or change the rules of one of the county's kinds."""
    if county.kind != PlaceKind.COUNTY:
        raise ActionError(_("会议类型由县（区）统一设置。"))
    if acting_user is not None and not has_permission(acting_user, "meetings.manage", county):
        raise ActionForbidden(_("您没有设置会议类型的权限。"))
    if kind is not None and kind.county_id != county.pk:
        raise ActionError(_("该会议类型不属于本县（区）。"))
    name = _text(name, 60)
    if not name:
        raise ActionError(_("请填写会议类型的名称。"))
    groups = list(dict.fromkeys(invitee_groups or []))
    unknown = [g for g in groups if g not in MemberGroup.values]
    if unknown:
        raise ActionError(_("未知的参会人员群体：%(g)s。") % {"g": "、".join(unknown)})
    if not groups:
        raise ActionError(_("请至少选择一类参会人员。"))
    try:
        quorum = clean_quorum(quorum)
    except ValueError:
        raise ActionError(
            _("法定人数的写法有误：分子、分母须为正整数，且分子不大于分母。")) from None
    if decision not in DECISIONS:
        raise ActionError(_("未知的表决规则。"))
    if not 0 <= int(freeze_days) <= 60:
        raise ActionError(_("议题提前确定的天数须在0到60天之间。"))
    duplicate = MeetingKind.objects.filter(county=county, name=name)
    if kind is not None:
        duplicate = duplicate.exclude(pk=kind.pk)
    if duplicate.exists():
        raise ActionError(_("本县（区）已有名为“%(name)s”的会议类型。") % {"name": name})
    before = snapshot(kind) if kind is not None else None
    if kind is None:
        n = MeetingKind.objects.filter(county=county, code__startswith="local").count() + 1
        code = f"local{n}"
        while MeetingKind.objects.filter(county=county, code=code).exists():
            n += 1
            code = f"local{n}"
        kind = MeetingKind(county=county, code=code)
    kind.name = name
    kind.invitee_groups = groups
    kind.quorum = quorum
    kind.decision = decision
    kind.allows_consensus = bool(allows_consensus)
    kind.freeze_days = int(freeze_days)
    kind.is_active = bool(is_active)
    kind.save()
    record("meetings.kind.save", actor=acting_user, obj=kind, county_id=county.pk, before=before,
           after=snapshot(kind))
    return kind


# ---------------------------------------------------------------------------------------------
# Members (议事成员)


@transaction.atomic
def do_add_member(village: Place, group: str, *, acting_user, person: Person | None = None,
                  name: str = "", user: User | None = None) -> Member:
    """Add a person from the registry (or, for units and outsiders, a name) to a group."""
    village = _village(village)
    _require(acting_user, "meetings.manage", village, _("您不能管理该村的议事成员。"))
    if group not in MemberGroup.values:
        raise ActionError(_("请选择成员所属的群体。"))
    if person is not None:
        if person.county_id != village.county_id:
            raise ActionError(_("该人员不属于本县（区）。"))
        if not person.is_active:
            raise ActionError(_("该人员已不在册。"))
        name = person.name
        if user is None:
            user = User.objects.filter(person=person, is_active=True).first()
        if Member.objects.filter(village=village, group=group, person=person,
                                 is_active=True).exists():
            raise ActionError(_("%(name)s已是该群体的成员。") % {"name": person.name})
    else:
        name = _text(name, 80)
        if not name:
            raise ActionError(_("请从户籍名册中选择人员，或填写姓名/单位名称。"))
        if Member.objects.filter(village=village, group=group, person__isnull=True, name=name,
                                 is_active=True).exists():
            raise ActionError(_("%(name)s已是该群体的成员。") % {"name": name})
    member = Member(group=group, person=person, user=user, name=name)
    member.set_place(village)
    member.save()
    record("meetings.member.add", actor=acting_user, obj=member,
           after={"village": village.pk, "group": group, "person": person.pk if person else None,
                  "name": name})
    return member


@transaction.atomic
def do_remove_member(member: Member, *, acting_user) -> Member:
    member = Member.objects.select_for_update(of=("self",)).select_related("village").get(
        pk=member.pk)
    _require(acting_user, "meetings.manage", member.village, _("您不能管理该村的议事成员。"))
    if not member.is_active:
        raise ActionError(_("该成员已移除。"))
    member.is_active = False
    member.save(update_fields=["is_active"])
    record("meetings.member.remove", actor=acting_user, obj=member,
           before={"is_active": True}, after={"is_active": False})
    return member


# ---------------------------------------------------------------------------------------------
# Schedules (例会)


def _clean_days(days: list[Any]) -> list[int]:
    try:
        out = sorted({int(d) for d in days})
    except (TypeError, ValueError):
        raise ActionError(_("每月日期须为1到31之间的数字。")) from None
    if not out or any(d < 1 or d > 31 for d in out):
        raise ActionError(_("每月日期须为1到31之间的数字。"))
    return out


@transaction.atomic
def do_create_schedule(village: Place, kind: MeetingKind, *, acting_user, title: str,
                       days_of_month: list[Any], time: dt.time, location: str = "",
                       holiday_policy: str = HolidayPolicy.NEXT_WORKDAY) -> MeetingSchedule:
    """A recurring meeting: e.g. 说事议事日 on the 15th and 30th (the last day in short months)."""
    village = _village(village)
    _require(acting_user, "meetings.manage", village, _("您不能为该村安排例会。"))
    if kind.county_id != village.county_id or not kind.is_active:
        raise ActionError(_("该会议类型不属于本县（区）或已停用。"))
    title = _text(title, 80)
    if not title:
        raise ActionError(_("请填写例会名称。"))
    if holiday_policy not in HolidayPolicy.values:
        raise ActionError(_("请选择遇节假日的处理方式。"))
    if time is None:
        raise ActionError(_("请填写开会时间。"))
    schedule = MeetingSchedule(kind=kind, title=title, days_of_month=_clean_days(days_of_month),
                               time=time, location=_text(location, 120),
                               holiday_policy=holiday_policy)
    schedule.set_place(village)
    schedule.save()
    record("meetings.schedule.create", actor=acting_user, obj=schedule, after=snapshot(schedule))
    return schedule


@transaction.atomic
def do_stop_schedule(schedule: MeetingSchedule, *, acting_user) -> MeetingSchedule:
    schedule = MeetingSchedule.objects.select_for_update(of=("self",)).select_related(
        "village").get(pk=schedule.pk)
    _require(acting_user, "meetings.manage", schedule.village, _("您不能为该村安排例会。"))
    if not schedule.is_active:
        raise ActionError(_("该例会已停止。"))
    schedule.is_active = False
    schedule.save(update_fields=["is_active"])
    record("meetings.schedule.stop", actor=acting_user, obj=schedule,
           before={"is_active": True}, after={"is_active": False})
    return schedule


# ---------------------------------------------------------------------------------------------
# Meetings


def _invitees(meeting: Meeting) -> list[Member]:
    supplied = hooks.invitees_for(meeting)  # an association's members, say
    if supplied is not None:
        return supplied
    return list(Member.objects.filter(village_id=meeting.village_id, is_active=True,
                                      group__in=meeting.kind.invitee_groups)
                .select_related("user").order_by("group", "pk"))


def _sync_invitations(meeting: Meeting) -> list[Invitation]:
    """Invite the current members of the kind's groups; drop those who left and did not come.
    Returns the new invitations. A member in two invited groups is invited once."""
    members = _invitees(meeting)
    wanted = {m.pk: m for m in members}
    existing = {i.member_id: i for i in meeting.invitations.all()}
    gone = [i.pk for mid, i in existing.items() if mid not in wanted and i.signed_in_at is None]
    if gone:
        Invitation.objects.filter(pk__in=gone).delete()
    created = Invitation.objects.bulk_create([
        Invitation(meeting=meeting, member=m, group=m.group)
        for mid, m in wanted.items() if mid not in existing
    ])
    meeting.invited_count = meeting.invitations.count()
    return created


def _notice(meeting: Meeting, members: list[Member]) -> None:
    users = list(dict.fromkeys(m.user for m in members if m.user_id and m.user.is_active))
    if not users:
        return
    when = timezone.localtime(meeting.starts_at).strftime("%Y-%m-%d %H:%M")
    notify(event="meetings.notice",
           title=_("会议通知：%(title)s") % {"title": meeting.title},
           body=_("请于 %(when)s 到 %(where)s 参加%(kind)s。") % {
               "when": when, "where": meeting.location or _("（地点另行通知）"),
               "kind": meeting.kind.name},
           users=users, url=meeting_url(meeting), county_id=meeting.county_id,
           dedupe_key=f"meeting:{meeting.pk}:notice:{when}", context={"meeting": meeting})


@transaction.atomic
def do_create_meeting(village: Place, kind: MeetingKind, *, acting_user, title: str,
                      starts_at: dt.datetime, location: str = "",
                      schedule: MeetingSchedule | None = None,
                      now: dt.datetime | None = None, association: str = "") -> Meeting:
    """A meeting, with its invitations (the village's members of the kind's groups) and a
    notice to each invitee who has an account. The agenda freezes ``kind.freeze_days`` days
    before it starts."""
    village = _village(village)
    _require(acting_user, "meetings.manage", village, _("您不能为该村安排会议。"))
    if kind.county_id != village.county_id or not kind.is_active:
        raise ActionError(_("该会议类型不属于本县（区）或已停用。"))
    now = now or timezone.now()
    if starts_at is None:
        raise ActionError(_("请填写会议时间。"))
    if timezone.is_naive(starts_at):
        starts_at = timezone.make_aware(starts_at)
    if starts_at <= now:
        raise ActionError(_("会议时间须晚于当前时间。"))
    title = _text(title, 120) or kind.name
    meeting = Meeting(kind=kind, schedule=schedule, title=title, starts_at=starts_at,
                      location=_text(location, 120),
                      freeze_at=starts_at - dt.timedelta(days=kind.freeze_days),
                      association=_text(association, 60),
                      created_by=_actor(acting_user), created_at=now)
    meeting.set_place(village)
    meeting.save(force_insert=True)
    _sync_invitations(meeting)
    meeting.save(update_fields=["invited_count"])
    members = [i.member for i in meeting.invitations.select_related("member__user")]
    _notice(meeting, members)
    record("meetings.meeting.create", actor=acting_user, obj=meeting,
           after={"village": village.pk, "kind": kind.code, "starts_at": starts_at,
                  "schedule": schedule.pk if schedule else None,
                  "invited": meeting.invited_count})
    return meeting


@transaction.atomic
def do_cancel_meeting(meeting: Meeting, *, acting_user, reason: str) -> Meeting:
    meeting = _lock_meeting(meeting)
    _require(acting_user, "meetings.manage", meeting.village, _("您不能取消该会议。"))
    if meeting.status not in NOT_STARTED:
        raise ActionError(_("会议已召开或已结束，不能取消。"))
    reason = _text(reason)
    if not reason:
        raise ActionError(_("请说明取消会议的原因。"))
    meeting.status = MeetingStatus.CANCELLED
    meeting.notes = reason
    meeting.save(update_fields=["status", "notes"])
    # Its topics go back to the pool, to be put on another meeting's agenda.
    meeting.topics.filter(status=TopicStatus.ON_AGENDA).update(
        status=TopicStatus.PROPOSED, meeting=None)
    members = [i.member for i in meeting.invitations.select_related("member__user")]
    users = [m.user for m in members if m.user_id]
    if users:
        notify(event="meetings.cancelled",
               title=_("会议取消：%(title)s") % {"title": meeting.title}, body=reason,
               users=users, url=meeting_url(meeting), county_id=meeting.county_id,
               dedupe_key=f"meeting:{meeting.pk}:cancel")
    record("meetings.meeting.cancel", actor=acting_user, obj=meeting,
           after={"status": meeting.status, "reason": reason})
    return meeting


@transaction.atomic
def do_freeze_agenda(meeting: Meeting, *, acting_user, now: dt.datetime | None = None) -> Meeting:
    """Fix the agenda (议题确定): after this only urgent topics with a stated reason are added.
    The scheduled job freezes each agenda at its ``freeze_at``."""
    meeting = _lock_meeting(meeting)
    _require(acting_user, "meetings.agenda", meeting.village, _("您不能确定该会议的议程。"))
    if meeting.status != MeetingStatus.SCHEDULED:
        raise ActionError(_("该会议的议程已经确定。"))
    now = now or timezone.now()
    meeting.status = MeetingStatus.FROZEN
    fields = ["status"]
    if now < meeting.freeze_at:
        meeting.freeze_at = now
        fields.append("freeze_at")
    meeting.save(update_fields=fields)
    topics = list(meeting.topics.filter(status=TopicStatus.ON_AGENDA).order_by("order", "pk"))
    for i, topic in enumerate(topics, start=1):
        topic.order = i
    Topic.objects.bulk_update(topics, ["order"])
    users = [i.member.user for i in meeting.invitations.select_related("member__user")
             if i.member.user_id]
    if users:
        notify(event="meetings.agenda",
               title=_("议程已确定：%(title)s") % {"title": meeting.title},
               body="\n".join(f"{t.order}. {t.title}" for t in topics) or _("本次会议暂无议题。"),
               users=users, url=meeting_url(meeting), county_id=meeting.county_id,
               dedupe_key=f"meeting:{meeting.pk}:agenda")
    record("meetings.meeting.freeze", actor=acting_user, obj=meeting,
           after={"status": meeting.status, "topics": [t.pk for t in topics]})
    return meeting


@transaction.atomic
def do_open_meeting(meeting: Meeting, *, acting_user, chair: str = "",
                    recorder: str = "") -> Meeting:
    """Open the meeting: the agenda is fixed and the invitation list brought up to date."""
    meeting = _lock_meeting(meeting)
    _require(acting_user, "meetings.record", meeting.village, _("您不能主持该会议。"))
    if meeting.status not in NOT_STARTED:
        raise ActionError(_("会议已召开、已结束或已取消。"))
    _sync_invitations(meeting)
    meeting.status = MeetingStatus.IN_PROGRESS
    meeting.opened_at = timezone.now()
    meeting.chair = _text(chair, 60)
    meeting.recorder = _text(recorder, 60)
    meeting.quorum_met = quorum_reached(meeting.kind.quorum, meeting.invited_count,
                                        present_count(meeting))
    meeting.save(update_fields=["status", "opened_at", "chair", "recorder", "invited_count",
                                "quorum_met"])
    record("meetings.meeting.open", actor=acting_user, obj=meeting,
           after={"status": meeting.status, "invited": meeting.invited_count})
    return meeting


@transaction.atomic
def do_sign_in(invitation: Invitation, *, acting_user, present: bool = True) -> Invitation:
    """Tick (or untick) an invitee as present; the meeting's quorum follows."""
    meeting = _lock_meeting(invitation.meeting)
    _require(acting_user, "meetings.record", meeting.village, _("您不能为该会议签到。"))
    if meeting.status != MeetingStatus.IN_PROGRESS:
        raise ActionError(_("会议开始后才能签到。"))
    invitation = Invitation.objects.select_for_update(of=("self",)).select_related("member").get(
        pk=invitation.pk, meeting=meeting)
    if present == (invitation.signed_in_at is not None):
        return invitation
    before = {"signed_in_at": invitation.signed_in_at}
    invitation.signed_in_at = timezone.now() if present else None
    invitation.signed_in_by = _actor(acting_user) if present else None
    invitation.save(update_fields=["signed_in_at", "signed_in_by"])
    meeting.quorum_met = quorum_reached(meeting.kind.quorum, meeting.invited_count,
                                        present_count(meeting))
    meeting.save(update_fields=["quorum_met"])
    record("meetings.invitation.sign_in", actor=acting_user, obj=invitation, before=before,
           after={"signed_in_at": invitation.signed_in_at, "meeting": meeting.pk,
                  "quorum_met": meeting.quorum_met})
    return invitation


@transaction.atomic
def do_close_meeting(meeting: Meeting, *, acting_user, notes: str | None = None) -> Meeting:
    """Close the meeting: topics not decided are deferred; the resolutions are published."""
    meeting = _lock_meeting(meeting)
    _require(acting_user, "meetings.record", meeting.village, _("您不能主持该会议。"))
    if meeting.status != MeetingStatus.IN_PROGRESS:
        raise ActionError(_("只有进行中的会议才能结束。"))
    now = timezone.now()
    meeting.status = MeetingStatus.CLOSED
    meeting.closed_at = now
    fields = ["status", "closed_at"]
    if notes is not None:
        meeting.notes = _text(notes)
        fields.append("notes")
    meeting.save(update_fields=fields)
    deferred = list(meeting.topics.filter(status=TopicStatus.ON_AGENDA).values_list("pk",
                                                                                      flat=True))
    Topic.objects.filter(pk__in=deferred).update(status=TopicStatus.DEFERRED)
    Resolution.objects.filter(topic__meeting=meeting, published_at__isnull=True).update(
        published_at=now)
    record("meetings.meeting.close", actor=acting_user, obj=meeting,
           after={"status": meeting.status, "deferred": deferred})
    return meeting


# ---------------------------------------------------------------------------------------------
# Topics (议题) and seconds (附议)


@transaction.atomic
def do_propose_topic(village: Place, *, acting_user, title: str, description: str = "",
                     matter: Matter | None = None, proposer_name: str = "") -> Topic:
    """Propose a topic: staff from any open matter of the village or of their own; residents
    for their own village."""
    village = _village(village)
    _require(acting_user, "meetings.propose", village, _("您不能为该村提出议题。"))
    staff = acting_user is None or may_at_village(acting_user, "meetings.view", village)
    if matter is not None:
        if not staff:
            raise ActionForbidden(_("只有工作人员可以把事项列为议题。"))
        if matter.village_id != village.pk:
            raise ActionError(_("该事项不属于本村（社区）。"))
        if matter.is_closed or matter.merged_into_id:
            raise ActionError(_("事项已办结或已合并，不能再列为议题。"))
        if Topic.objects.filter(matter=matter, status__in=OPEN_TOPIC).exists():
            raise ActionError(_("该事项已是待议的议题。"))
        title = title or matter.title
        description = description or matter.text
    title = _text(title, 120)
    if not title:
        raise ActionError(_("请填写议题。"))
    description = _text(description)
    if matter is not None:
        source = TopicSource.MATTER
    else:
        source = TopicSource.STAFF if staff else TopicSource.RESIDENT
    user = _actor(acting_user)
    name = _text(proposer_name, 60) or (
        (user.display_name or user.get_username()) if user is not None else "")
    topic = Topic(title=title, description=description, source=source, matter=matter,
                  proposed_by=user, proposer_name=name)
    topic.set_place(village)
    topic.save()
    record("meetings.topic.propose", actor=acting_user, obj=topic,
           after={"village": village.pk, "source": source,
                  "matter": matter.pk if matter else None, "title": title})
    return topic


@transaction.atomic
def do_second_topic(topic: Topic, *, acting_user) -> Second:
    """附议: a resident of the village seconds a topic, once."""
    topic = _lock_topic(topic)
    if acting_user is None or not may_at_village(acting_user, "meetings.second", topic.village):
        raise ActionForbidden(_("只有本村（社区）的居民可以附议。"))
    if topic.status not in OPEN_TOPIC or (
        topic.meeting_id and topic.meeting.status not in NOT_STARTED
    ):
        raise ActionError(_("该议题已经上会或已议决，不能再附议。"))
    if topic.proposed_by_id == acting_user.pk:
        raise ActionError(_("不能附议自己提出的议题。"))
    if Second.objects.filter(topic=topic, user=acting_user).exists():
        raise ActionError(_("您已经附议过这个议题。"))
    second = Second.objects.create(topic=topic, user=acting_user,
                                   person=getattr(acting_user, "person", None))
    Topic.objects.filter(pk=topic.pk).update(seconds_count=F("seconds_count") + 1)
    topic.refresh_from_db(fields=["seconds_count"])
    record("meetings.topic.second", actor=acting_user, obj=topic,
           after={"second": second.pk, "seconds_count": topic.seconds_count})
    return second


@transaction.atomic
def do_put_on_agenda(topic: Topic, meeting: Meeting, *, acting_user, urgent: bool = False,
                     reason: str = "", now: dt.datetime | None = None) -> Topic:
    """Put a topic on a meeting's agenda. Once the agenda is fixed, only an urgent topic with
    a stated reason is added (紧急增补)."""
    meeting = _lock_meeting(meeting)
    topic = _lock_topic(topic)
    _require(acting_user, "meetings.agenda", meeting.village, _("您不能安排该会议的议程。"))
    if topic.village_id != meeting.village_id:
        raise ActionError(_("该议题不属于本会议所在的村（社区）。"))
    if meeting.status not in (*NOT_STARTED, MeetingStatus.IN_PROGRESS):
        raise ActionError(_("会议已结束或已取消，不能再增加议题。"))
    if topic.status == TopicStatus.ON_AGENDA and topic.meeting_id == meeting.pk:
        raise ActionError(_("该议题已在本次会议的议程上。"))
    if topic.status == TopicStatus.ON_AGENDA and topic.meeting_id and (
        topic.meeting.status in (*NOT_STARTED, MeetingStatus.IN_PROGRESS)
    ):
        raise ActionError(_("该议题已列入另一次会议的议程。"))
    if topic.status not in (TopicStatus.PROPOSED, TopicStatus.DEFERRED, TopicStatus.ON_AGENDA):
        raise ActionError(_("该议题已议决或已撤回，不能再列入议程。"))
    reason = _text(reason)
    if agenda_frozen(meeting, now):
        if not urgent:
            raise ActionError(_("本次会议的议程已于%(at)s确定，只能以紧急议题增补，并须说明理由。")
                              % {"at": timezone.localtime(meeting.freeze_at)
                                 .strftime("%Y-%m-%d %H:%M")})
        if not reason:
            raise ActionError(_("紧急增补议题须说明理由。"))
    elif urgent and not reason:
        raise ActionError(_("紧急增补议题须说明理由。"))
    before = {"meeting": topic.meeting_id, "status": topic.status}
    last = meeting.topics.filter(status__in=(TopicStatus.ON_AGENDA, TopicStatus.DECIDED,
                                             TopicStatus.REJECTED)).order_by("-order").first()
    topic.meeting = meeting
    topic.status = TopicStatus.ON_AGENDA
    topic.order = (last.order if last else 0) + 1
    topic.is_urgent = bool(urgent)
    topic.urgent_reason = reason if urgent else ""
    topic.save(update_fields=["meeting", "status", "order", "is_urgent", "urgent_reason"])
    record("meetings.topic.agenda", actor=acting_user, obj=topic, before=before,
           after={"meeting": meeting.pk, "status": topic.status, "urgent": topic.is_urgent,
                  "reason": topic.urgent_reason})
    return topic


@transaction.atomic
def do_remove_from_agenda(topic: Topic, *, acting_user) -> Topic:
    """Take a topic off an agenda that is not yet fixed (it returns to the pool)."""
    topic = _lock_topic(topic)
    meeting = topic.meeting
    if meeting is None or topic.status != TopicStatus.ON_AGENDA:
        raise ActionError(_("该议题不在任何会议的议程上。"))
    _require(acting_user, "meetings.agenda", topic.village, _("您不能安排该会议的议程。"))
    if agenda_frozen(meeting):
        raise ActionError(_("议程已确定，不能再移除议题。"))
    topic.meeting = None
    topic.status = TopicStatus.PROPOSED
    topic.is_urgent = False
    topic.urgent_reason = ""
    topic.save(update_fields=["meeting", "status", "is_urgent", "urgent_reason"])
    record("meetings.topic.unagenda", actor=acting_user, obj=topic,
           before={"meeting": meeting.pk}, after={"meeting": None})
    return topic


# ---------------------------------------------------------------------------------------------
# At the meeting: discussion, votes, consensus


def _at_meeting(topic: Topic, acting_user, permission: str, message: str) -> Meeting:
    _require(acting_user, permission, topic.village, message)
    meeting = topic.meeting
    if meeting is None:
        raise ActionError(_("该议题还没有列入会议议程。"))
    if meeting.status != MeetingStatus.IN_PROGRESS:
        raise ActionError(_("会议开始后才能记录讨论和表决。"))
    return Meeting.objects.select_for_update(of=("self",)).select_related("kind").get(pk=meeting.pk)


@transaction.atomic
def do_record_discussion(topic: Topic, text: str, *, acting_user) -> Topic:
    topic = _lock_topic(topic)
    _at_meeting(topic, acting_user, "meetings.record", _("您不能记录该会议。"))
    before = {"discussion": topic.discussion}
    topic.discussion = _text(text)
    topic.save(update_fields=["discussion"])
    record("meetings.topic.discussion", actor=acting_user, obj=topic, before=before,
           after={"discussion": topic.discussion})
    return topic


def _check_can_decide(topic: Topic, meeting: Meeting) -> int:
    if topic.status != TopicStatus.ON_AGENDA:
        raise ActionError(_("该议题已表决或不在议程上。"))
    if Vote.objects.filter(topic=topic).exists():
        raise ActionError(_("该议题已表决。"))
    present = present_count(meeting)
    if not quorum_reached(meeting.kind.quorum, meeting.invited_count, present):
        raise ActionError(_("未达到法定人数，不能表决。"))
    return present


def withdraw_topic(topic: Topic, *, acting_user, reason: str) -> Topic:
    """Take a topic off its meeting's agenda as withdrawn, for an app whose own action owns
    the decision (a compact amendment withdrawn). Runs inside that action's transaction, which
    has checked the permission; the topic's change is audited here."""
    before = {"status": topic.status, "meeting": topic.meeting_id}
    topic.status = TopicStatus.WITHDRAWN
    topic.meeting = None
    topic.save(update_fields=["status", "meeting"])
    record("meetings.topic.withdraw", actor=acting_user, obj=topic, before=before,
           after={"status": topic.status, "reason": reason})
    return topic


@transaction.atomic
def do_record_vote(topic: Topic, *, acting_user, votes_for: int, votes_against: int,
                   abstentions: int = 0) -> Vote:
    """The counted vote on a topic; it passes by the kind's decision rule. Refused without a
    quorum, and when the counts exceed those present."""
    topic = _lock_topic(topic)
    meeting = _at_meeting(topic, acting_user, "meetings.vote", _("您不能记录表决结果。"))
    present = _check_can_decide(topic, meeting)
    counts = [votes_for, votes_against, abstentions]
    if any(not isinstance(c, int) or c < 0 for c in counts):
        raise ActionError(_("赞成、反对、弃权的票数须为不小于0的整数。"))
    if sum(counts) > present:
        raise ActionError(_("赞成、反对、弃权合计%(total)d票，超过了到会的%(present)d人。")
                          % {"total": sum(counts), "present": present})
    if sum(counts) == 0:
        raise ActionError(_("请填写表决票数。"))
    passed = vote_passes(meeting.kind.decision, votes_for, present, meeting.invited_count)
    vote = Vote.objects.create(topic=topic, votes_for=votes_for, votes_against=votes_against,
                               abstentions=abstentions, present=present, consensus=False,
                               passed=passed, recorded_by=_actor(acting_user))
    topic.status = TopicStatus.DECIDED if passed else TopicStatus.REJECTED
    topic.save(update_fields=["status"])
    hooks.decided("vote", topic, meeting=meeting, vote=vote, acting_user=acting_user)
    record("meetings.topic.vote", actor=acting_user, obj=topic,
           after={"for": votes_for, "against": votes_against, "abstain": abstentions,
                  "present": present, "invited": meeting.invited_count,
                  "rule": meeting.kind.decision, "passed": passed})
    return vote


@transaction.atomic
def do_record_consensus(topic: Topic, *, acting_user) -> Vote:
    """A recorded consensus (协商一致), where the kind allows one; it needs the quorum too."""
    topic = _lock_topic(topic)
    meeting = _at_meeting(topic, acting_user, "meetings.vote", _("您不能记录表决结果。"))
    if not allows_consensus(meeting.kind):
        raise ActionError(_("%(kind)s须以表决作出决定，不能以协商一致代替。")
                          % {"kind": meeting.kind.name})
    present = _check_can_decide(topic, meeting)
    vote = Vote.objects.create(topic=topic, present=present, consensus=True, passed=True,
                               recorded_by=_actor(acting_user))
    topic.status = TopicStatus.DECIDED
    topic.save(update_fields=["status"])
    hooks.decided("consensus", topic, meeting=meeting, vote=vote, acting_user=acting_user)
    record("meetings.topic.consensus", actor=acting_user, obj=topic,
           after={"present": present, "passed": True})
    return vote


# ---------------------------------------------------------------------------------------------
# Resolutions (决议) and the work they become


@transaction.atomic
def do_record_resolution(topic: Topic, *, acting_user, text: str, deadline: dt.date,
                         responsible_org: Organisation | None = None,
                         responsible_user: User | None = None,
                         responsible_name: str = "") -> Resolution:
    """What was decided on a passed topic, who carries it out and by when."""
    topic = _lock_topic(topic)
    _require(acting_user, "meetings.record", topic.village, _("您不能记录该会议的决议。"))
    meeting = topic.meeting
    if meeting is None:
        raise ActionError(_("该议题还没有列入会议议程。"))
    if meeting.status not in (MeetingStatus.IN_PROGRESS, MeetingStatus.CLOSED):
        raise ActionError(_("会议召开后才能记录决议。"))
    vote = Vote.objects.filter(topic=topic).first()
    if vote is None or not vote.passed:
        raise ActionError(_("议题经表决通过或协商一致后才能形成决议。"))
    if Resolution.objects.filter(topic=topic).exists():
        raise ActionError(_("该议题已形成决议。"))
    text = _text(text)
    if not text:
        raise ActionError(_("请填写决议内容。"))
    if deadline is None:
        raise ActionError(_("请填写完成时限。"))
    if deadline < timezone.localtime(meeting.starts_at).date():
        raise ActionError(_("完成时限不能早于会议日期。"))
    if responsible_org is not None and responsible_org.county_id != meeting.county_id:
        raise ActionError(_("责任单位不属于本县（区）。"))
    responsible_name = _text(responsible_name, 80)
    if responsible_org is None and responsible_user is None and not responsible_name:
        raise ActionError(_("请指定责任单位、责任人或责任方。"))
    if not responsible_name:
        responsible_name = responsible_org.name if responsible_org is not None else str(
            responsible_user)
    resolution = Resolution.objects.create(
        county_id=meeting.county_id, topic=topic, text=text, responsible_org=responsible_org,
        responsible_user=responsible_user, responsible_name=responsible_name, deadline=deadline,
        published_at=timezone.now() if meeting.status == MeetingStatus.CLOSED else None,
    )
    hooks.decided("resolution", topic, meeting=meeting, resolution=resolution,
                  acting_user=acting_user)
    record("meetings.resolution.create", actor=acting_user, obj=resolution,
           after=snapshot(resolution))
    return resolution


def _due_at(deadline: dt.date) -> dt.datetime:
    """The end of the deadline's day."""
    return timezone.make_aware(dt.datetime.combine(deadline, dt.time(23, 59)),
                               timezone.get_current_timezone())


def _into_handling(matter: Matter, acting_user, fields: dict[str, Any], comment: str) -> Matter:
    """Take the workflow's step into handling when this user may and it asks for nothing we do
    not have (a 议事 stage's "resolve", an intake's "accept"); otherwise leave the stage."""
    if matter.stage_kind not in (StageKind.INTAKE, StageKind.DELIBERATION):
        return matter
    wf = workflow.workflow_of(matter.workflow)
    for t in workflow.available_transitions(matter, acting_user):
        if wf.stage(t["to"]).get("kind") != StageKind.HANDLING:
            continue
        requires = t.get("requires") or {}
        if requires.get("attachment"):
            continue
        if any(fields.get(name) in (None, "") for name in requires.get("fields", [])):
            continue
        return workflow.do_transition(matter, t["key"], acting_user=acting_user, comment=comment,
                                      fields=fields)
    return matter


@transaction.atomic
def do_adopt_resolution(resolution: Resolution, *, acting_user) -> Matter:
    """The resolution becomes work: it links the topic's open source matter or raises a new one
    (channel 会议提出, ledger 意见建议, at the meeting's village), moves it into handling where
    the workflow allows, and assigns it to the responsible unit or person with the deadline's
    end of day as its due time. From there it runs through handling, supervision, evaluation and
    publication like any matter."""
    resolution = Resolution.objects.select_for_update(of=("self",)).select_related(
        "topic", "topic__meeting", "topic__meeting__village", "topic__meeting__kind",
        "topic__matter", "responsible_org", "responsible_user").get(pk=resolution.pk)
    topic = resolution.topic
    meeting = topic.meeting
    if acting_user is None or not may_at_village(acting_user, "meetings.adopt", meeting.village):
        raise ActionForbidden(_("您不能把决议转为事项交办。"))
    if resolution.matter_id:
        raise ActionError(_("该决议已转为事项。"))
    if resolution.responsible_org is None and resolution.responsible_user is None:
        raise ActionError(_("决议须指定责任单位或责任人，才能转为事项交办。"))
    due_at = _due_at(resolution.deadline)
    if due_at <= timezone.now():
        raise ActionError(_("决议的完成时限已过，请先修改时限。"))
    source = topic.matter
    if source is not None and not source.is_closed and not source.merged_into_id:
        matter = source
        linked = True
    else:
        from gongzhi.matters.actions import do_raise_matter

        text = resolution.text
        if topic.description:
            text = _("%(resolution)s\n\n议题说明：%(description)s") % {
                "resolution": resolution.text, "description": topic.description}
        matter = do_raise_matter(
            place=meeting.village, title=topic.title[:120], text=text, channel=Channel.MEETING,
            ledger=Ledger.SUGGESTION, acting_user=acting_user,
            reporter_name=(_("%(meeting)s决议") % {"meeting": meeting.title})[:60],
            source_ref=f"resolution-{resolution.pk}",
        )
        linked = False
    comment = _("%(meeting)s决议：%(text)s") % {"meeting": meeting.title, "text": resolution.text}
    fields = {"handling_mode": HandlingMode.SELF, "due_at": due_at,
              "responsible_user": resolution.responsible_user,
              "responsible_org": resolution.responsible_org}
    matter = _into_handling(matter, acting_user, fields,
                            _("经%(meeting)s议决，交付办理。") % {"meeting": meeting.title})
    from gongzhi.handling.actions import do_assign

    do_assign(matter, acting_user=acting_user, mode=HandlingMode.SELF,
              responsible_user=resolution.responsible_user,
              responsible_org=resolution.responsible_org, due_at=due_at,
              instructions=comment)
    resolution.matter = matter
    resolution.save(update_fields=["matter"])
    record("meetings.resolution.adopt", actor=acting_user, obj=resolution,
           after={"matter": matter.pk, "linked": linked, "due_at": due_at})
    return Matter.objects.get(pk=matter.pk)
