"""议事 through /api/v1/: meetings, agendas and topics, seconds (附议), sign-in, votes,
resolutions (and turning them into matters), minutes.

Meetings are loaded through ``Meeting.objects.restrict(request.auth, "view")``; topics through
the topics the caller may view or propose for (residents reach their own village's); anything
else is a 404. Every write calls the action in ``actions.py``: 403 when the caller may not do
it, 400 with a sentence when it cannot be done (e.g. "未达到法定人数，不能表决。").
"""

from datetime import date, datetime
from typing import Literal

from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from ninja.pagination import paginate

from gongzhi.accounts.models import User
from gongzhi.api.errors import ErrorOut
from gongzhi.api.pagination import Pagination
from gongzhi.core.errors import ActionError
from gongzhi.matters.models import Matter
from gongzhi.places.models import Organisation

from . import actions
from .access import villages_for
from .kinds import ensure_kinds, quorum_needed
from .minutes import minutes_html, minutes_pdf, related
from .models import (
    Invitation,
    Meeting,
    MeetingKind,
    MeetingStatus,
    Resolution,
    Topic,
    TopicStatus,
)
from .progress import resolution_progress

router = Router(tags=["meetings"])

ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut}


# ---------------------------------------------------------------- output


class KindOut(Schema):
    id: int
    code: str
    name: str
    invitee_groups: list[str]
    quorum: dict | None
    decision: str
    allows_consensus: bool
    freeze_days: int
    is_active: bool


class MeetingOut(Schema):
    id: int
    village_id: int
    kind_id: int
    kind_code: str
    kind_name: str
    schedule_id: int | None
    title: str
    starts_at: datetime
    location: str
    status: str
    freeze_at: datetime
    invited_count: int
    present_count: int
    quorum_needed: int
    quorum_met: bool
    opened_at: datetime | None
    closed_at: datetime | None

    @staticmethod
    def resolve_kind_code(obj: Meeting) -> str:
        return obj.kind.code

    @staticmethod
    def resolve_kind_name(obj: Meeting) -> str:
        return obj.kind.name

    @staticmethod
    def resolve_present_count(obj: Meeting) -> int:
        n = getattr(obj, "present_count", None)
        return n if n is not None else actions.present_count(obj)

    @staticmethod
    def resolve_quorum_needed(obj: Meeting) -> int:
        return quorum_needed(obj.kind.quorum, obj.invited_count)


class InvitationOut(Schema):
    id: int
    member_id: int
    name: str
    group: str
    signed_in_at: datetime | None

    @staticmethod
    def resolve_name(obj: Invitation) -> str:
        return obj.member.name


class MilestoneOut(Schema):
    name: str
    done: bool
    current: bool


class ProgressOut(Schema):
    percent: int
    stage_name: str
    is_closed: bool
    milestones: list[MilestoneOut]


class VoteOut(Schema):
    votes_for: int
    votes_against: int
    abstentions: int
    present: int
    consensus: bool
    passed: bool
    recorded_at: datetime


class ResolutionOut(Schema):
    id: int
    topic_id: int
    text: str
    responsible_org_id: int | None
    responsible_user_id: int | None
    responsible_name: str
    deadline: date
    matter_id: int | None
    published_at: datetime | None
    progress: ProgressOut

    @staticmethod
    def resolve_progress(obj: Resolution) -> dict:
        return resolution_progress(obj).as_dict()


class TopicOut(Schema):
    id: int
    village_id: int
    meeting_id: int | None
    title: str
    description: str
    source: str
    matter_id: int | None
    status: str
    is_urgent: bool
    urgent_reason: str
    seconds_count: int
    order: int
    discussion: str
    created_at: datetime
    vote: VoteOut | None
    resolution: ResolutionOut | None

    @staticmethod
    def resolve_vote(obj: Topic):
        return related(obj, "vote")

    @staticmethod
    def resolve_resolution(obj: Topic):
        return related(obj, "resolution")


class SecondOut(Schema):
    topic_id: int
    seconds_count: int


# ---------------------------------------------------------------- input


class MeetingIn(Schema):
    village_id: int
    kind_id: int
    starts_at: datetime
    title: str = ""
    location: str = ""


class OpenIn(Schema):
    chair: str = ""
    recorder: str = ""


class CloseIn(Schema):
    notes: str | None = None


class CancelIn(Schema):
    reason: str


class SignInIn(Schema):
    present: bool = True


class TopicIn(Schema):
    village_id: int | None = None
    title: str = ""
    description: str = ""
    matter_id: int | None = None


class AgendaIn(Schema):
    topic_id: int
    urgent: bool = False
    reason: str = ""


class DiscussionIn(Schema):
    text: str


class VoteIn(Schema):
    votes_for: int
    votes_against: int = 0
    abstentions: int = 0


class ResolutionIn(Schema):
    text: str
    deadline: date
    responsible_org_id: int | None = None
    responsible_user_id: int | None = None
    responsible_name: str = ""


# ---------------------------------------------------------------- helpers


def _meetings(request):
    return (Meeting.objects.restrict(request.auth, "view").select_related("kind", "village")
            .annotate(present_count=Count("invitations",
                                          filter=Q(invitations__signed_in_at__isnull=False))))


def _meeting(request, meeting_id: int) -> Meeting:
    return get_object_or_404(_meetings(request), pk=meeting_id)


def _topics(request):
    user = request.auth
    return (Topic.objects.restrict(user, "view") | Topic.objects.restrict(user, "propose")
            ).distinct().select_related("vote", "resolution", "resolution__matter__workflow",
                                        "meeting", "village")


def _topic(request, topic_id: int) -> Topic:
    return get_object_or_404(_topics(request), pk=topic_id)


def _resolution(request, resolution_id: int) -> Resolution:
    return get_object_or_404(
        Resolution.objects.filter(topic__meeting__in=Meeting.objects.restrict(request.auth,
                                                                              "view"))
        .select_related("matter__workflow", "topic"), pk=resolution_id)


def _village(request, village_id: int | None, permission: str):
    villages = villages_for(request.auth, permission)
    if village_id is None:
        only = list(villages[:2])
        if len(only) == 1:
            return only[0]
        raise ActionError(_("请选择村（社区）。"))
    return get_object_or_404(villages, pk=village_id)


# ---------------------------------------------------------------- meetings


@router.get("/meeting-kinds", response={200: list[KindOut], 404: ErrorOut})
def list_kinds(request, village_id: int | None = None):
    """The meeting kinds (and their quorum and decision rules) of the caller's county."""
    villages = villages_for(request.auth, "meetings.view") | villages_for(request.auth,
                                                                          "meetings.propose")
    village = get_object_or_404(villages, pk=village_id) if village_id else villages.first()
    if village is None:
        return []
    return sorted(ensure_kinds(village.county_id).values(), key=lambda k: k.pk)


@router.get("/meetings", response=list[MeetingOut])
@paginate(Pagination)
def list_meetings(request, village_id: int | None = None, status: MeetingStatus | None = None,
                  upcoming: bool | None = None):
    """Meetings in the caller's scope, soonest first; ``upcoming=true`` for those not yet held."""
    qs = _meetings(request)
    if village_id is not None:
        qs = qs.filter(village_id=village_id)
    if status is not None:
        qs = qs.filter(status=status)
    if upcoming:
        qs = qs.filter(status__in=(MeetingStatus.SCHEDULED, MeetingStatus.FROZEN,
                                   MeetingStatus.IN_PROGRESS))
    return qs.order_by("starts_at", "pk")


@router.post("/meetings", response={201: MeetingOut, **ERRORS})
def create_meeting(request, payload: MeetingIn):
    """A meeting outside any schedule; invitations and notices go out at once."""
    village = _village(request, payload.village_id, "meetings.view")
    kind = get_object_or_404(MeetingKind, pk=payload.kind_id, county_id=village.county_id)
    meeting = actions.do_create_meeting(village, kind, acting_user=request.auth,
                                        title=payload.title, starts_at=payload.starts_at,
                                        location=payload.location)
    return Status(201, _meeting(request, meeting.pk))


@router.get("/meetings/{meeting_id}", response={200: MeetingOut, 404: ErrorOut})
def get_meeting(request, meeting_id: int):
    return _meeting(request, meeting_id)


@router.post("/meetings/{meeting_id}/freeze", response={200: MeetingOut, **ERRORS})
def freeze_meeting(request, meeting_id: int):
    """Fix and publish the agenda; later additions must be urgent, with a reason."""
    actions.do_freeze_agenda(_meeting(request, meeting_id), acting_user=request.auth)
    return _meeting(request, meeting_id)


@router.post("/meetings/{meeting_id}/open", response={200: MeetingOut, **ERRORS})
def open_meeting(request, meeting_id: int, payload: OpenIn | None = None):
    payload = payload or OpenIn()
    actions.do_open_meeting(_meeting(request, meeting_id), acting_user=request.auth,
                            chair=payload.chair, recorder=payload.recorder)
    return _meeting(request, meeting_id)


@router.post("/meetings/{meeting_id}/close", response={200: MeetingOut, **ERRORS})
def close_meeting(request, meeting_id: int, payload: CloseIn | None = None):
    actions.do_close_meeting(_meeting(request, meeting_id), acting_user=request.auth,
                             notes=payload.notes if payload else None)
    return _meeting(request, meeting_id)


@router.post("/meetings/{meeting_id}/cancel", response={200: MeetingOut, **ERRORS})
def cancel_meeting(request, meeting_id: int, payload: CancelIn):
    actions.do_cancel_meeting(_meeting(request, meeting_id), acting_user=request.auth,
                              reason=payload.reason)
    return _meeting(request, meeting_id)


@router.get("/meetings/{meeting_id}/invitations",
            response={200: list[InvitationOut], 404: ErrorOut})
def list_invitations(request, meeting_id: int):
    """Who is invited and who has signed in (names only)."""
    meeting = _meeting(request, meeting_id)
    return list(meeting.invitations.select_related("member").order_by("group", "pk"))


@router.post("/meetings/{meeting_id}/invitations/{invitation_id}/sign-in",
             response={200: MeetingOut, **ERRORS})
def sign_in(request, meeting_id: int, invitation_id: int, payload: SignInIn | None = None):
    """Tick (``present``: true) or untick an attendee; answers the meeting with its quorum."""
    meeting = _meeting(request, meeting_id)
    invitation = get_object_or_404(Invitation, pk=invitation_id, meeting=meeting)
    actions.do_sign_in(invitation, acting_user=request.auth,
                       present=payload.present if payload else True)
    return _meeting(request, meeting_id)


@router.get("/meetings/{meeting_id}/topics", response={200: list[TopicOut], 404: ErrorOut})
def meeting_topics(request, meeting_id: int):
    """The agenda, in order, with votes and resolutions."""
    meeting = _meeting(request, meeting_id)
    return list(meeting.topics.exclude(status=TopicStatus.WITHDRAWN).select_related(
        "vote", "resolution", "resolution__matter__workflow").order_by("order", "pk"))


@router.post("/meetings/{meeting_id}/agenda", response={200: TopicOut, **ERRORS})
def put_on_agenda(request, meeting_id: int, payload: AgendaIn):
    """Put a topic on the agenda; after the agenda is fixed only ``urgent`` with a ``reason``."""
    meeting = _meeting(request, meeting_id)
    topic = get_object_or_404(_topics(request), pk=payload.topic_id)
    actions.do_put_on_agenda(topic, meeting, acting_user=request.auth, urgent=payload.urgent,
                             reason=payload.reason)
    return _topic(request, topic.pk)


MINUTES_ANSWER = {200: {"description": "the minutes", "content": {
    "application/pdf": {"schema": {"type": "string", "format": "binary"}},
    "text/html": {"schema": {"type": "string"}}}}}


@router.get("/meetings/{meeting_id}/minutes", response={200: None, 404: ErrorOut},
            openapi_extra={"responses": MINUTES_ANSWER})
def meeting_minutes(request, meeting_id: int,
                    format: Literal["pdf", "html"] = "pdf"):
    """The minutes as a PDF (A4), or as HTML with ``format=html``."""
    meeting = _meeting(request, meeting_id)
    html = minutes_html(meeting)
    if format == "html":
        return HttpResponse(html, content_type="text/html; charset=utf-8")
    response = HttpResponse(minutes_pdf(meeting, html), content_type="application/pdf")
    day = timezone.localtime(meeting.starts_at).strftime("%Y%m%d")
    response["Content-Disposition"] = f'attachment; filename="minutes-{meeting.pk}-{day}.pdf"'
    return response


# ---------------------------------------------------------------- topics and seconds


@router.get("/topics", response=list[TopicOut])
@paginate(Pagination)
def list_topics(request, village_id: int | None = None, status: TopicStatus | None = None):
    """Topics the caller may see (residents: their own village's), most seconded first."""
    qs = _topics(request)
    if village_id is not None:
        qs = qs.filter(village_id=village_id)
    if status is not None:
        qs = qs.filter(status=status)
    return qs.order_by("-seconds_count", "-created_at", "pk")


@router.post("/topics", response={201: TopicOut, **ERRORS})
def propose_topic(request, payload: TopicIn):
    """Propose a topic: residents for their own village; staff also from an open matter
    (``matter_id``)."""
    matter = None
    if payload.matter_id is not None:
        matter = get_object_or_404(Matter.objects.restrict(request.auth, "view")
                                   .select_related("village"), pk=payload.matter_id)
    village_id = payload.village_id or (matter.village_id if matter else None)
    village = _village(request, village_id, "meetings.propose")
    topic = actions.do_propose_topic(village, acting_user=request.auth, title=payload.title,
                                     description=payload.description, matter=matter)
    return Status(201, _topic(request, topic.pk))


@router.get("/topics/{topic_id}", response={200: TopicOut, 404: ErrorOut})
def get_topic(request, topic_id: int):
    return _topic(request, topic_id)


@router.post("/topics/{topic_id}/seconds", response={201: SecondOut, **ERRORS})
def second_topic(request, topic_id: int):
    """附议 (residents of the village, once each)."""
    topic = _topic(request, topic_id)
    actions.do_second_topic(topic, acting_user=request.auth)
    topic.refresh_from_db(fields=["seconds_count"])
    return Status(201, {"topic_id": topic.pk, "seconds_count": topic.seconds_count})


@router.post("/topics/{topic_id}/discussion", response={200: TopicOut, **ERRORS})
def record_discussion(request, topic_id: int, payload: DiscussionIn):
    actions.do_record_discussion(_topic(request, topic_id), payload.text,
                                 acting_user=request.auth)
    return _topic(request, topic_id)


@router.post("/topics/{topic_id}/vote", response={201: TopicOut, **ERRORS})
def record_vote(request, topic_id: int, payload: VoteIn):
    """The counted vote; refused without a quorum or when counts exceed those present."""
    actions.do_record_vote(_topic(request, topic_id), acting_user=request.auth,
                           votes_for=payload.votes_for, votes_against=payload.votes_against,
                           abstentions=payload.abstentions)
    return Status(201, _topic(request, topic_id))


@router.post("/topics/{topic_id}/consensus", response={201: TopicOut, **ERRORS})
def record_consensus(request, topic_id: int):
    """A recorded consensus, where the meeting's kind allows one."""
    actions.do_record_consensus(_topic(request, topic_id), acting_user=request.auth)
    return Status(201, _topic(request, topic_id))


@router.post("/topics/{topic_id}/resolution", response={201: ResolutionOut, **ERRORS})
def record_resolution(request, topic_id: int, payload: ResolutionIn):
    topic = _topic(request, topic_id)
    org = None
    if payload.responsible_org_id is not None:
        org = Organisation.objects.filter(pk=payload.responsible_org_id,
                                          county_id=topic.county_id).first()
        if org is None:
            raise ActionError(_("责任单位不存在或不属于本县（区）。"))
    user = None
    if payload.responsible_user_id is not None:
        user = User.objects.filter(pk=payload.responsible_user_id, is_active=True,
                                   county_id=topic.county_id).first()
        if user is None:
            raise ActionError(_("责任人不存在或已停用。"))
    resolution = actions.do_record_resolution(
        topic, acting_user=request.auth, text=payload.text, deadline=payload.deadline,
        responsible_org=org, responsible_user=user, responsible_name=payload.responsible_name)
    return Status(201, _resolution(request, resolution.pk))


# ---------------------------------------------------------------- resolutions


@router.get("/resolutions/{resolution_id}", response={200: ResolutionOut, 404: ErrorOut})
def get_resolution(request, resolution_id: int):
    """A resolution with its matter's progress (percentage and milestones)."""
    return _resolution(request, resolution_id)


@router.post("/resolutions/{resolution_id}/adopt", response={201: ResolutionOut, **ERRORS})
def adopt_resolution(request, resolution_id: int):
    """The resolution becomes a matter (or links its topic's matter) and is assigned."""
    actions.do_adopt_resolution(_resolution(request, resolution_id), acting_user=request.auth)
    return Status(201, _resolution(request, resolution_id))
