"""办 through /api/v1/: assignment, summons and check-in (吹哨报到), escalation, transfer,
mediation.

Matters are loaded through ``Matter.objects.restrict(request.auth, "view")`` and summonses
through the matters their caller may see, so anything outside the caller's scope is a 404;
every write calls the action in ``actions.py``, which answers 403 when the caller may not do
it and 400 when the request cannot be carried out. Nothing here names who raised a matter.
"""

from datetime import date, datetime
from enum import StrEnum

from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from gongzhi.accounts.models import User
from gongzhi.api.errors import ErrorOut
from gongzhi.api.pagination import Pagination
from gongzhi.core.errors import ActionError
from gongzhi.matters.models import HandlingMode, Matter, reporter_visible_to
from gongzhi.places.models import Organisation

from . import actions
from .access import organisation_summons, visible_summons
from .models import (
    Assignment,
    Escalation,
    Mediation,
    MediationMethod,
    MediationOutcome,
    MediationWay,
    Summons,
    SummonsStatus,
)
from .stats import summons_stats

router = Router(tags=["handling"])

ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut}


# ---------------------------------------------------------------- output


class AssignmentOut(Schema):
    id: int
    matter_id: int
    mode: str
    responsible_user_id: int | None
    responsible_org_id: int | None
    co_org_ids: list[int]
    due_at: datetime
    instructions: str
    assigned_by_id: int | None
    assigned_at: datetime

    @staticmethod
    def resolve_co_org_ids(obj: Assignment) -> list[int]:
        return [o.pk for o in obj.co_orgs.all()]


class SummonsOut(Schema):
    id: int
    matter_id: int
    matter_title: str = Field(..., alias="matter.title")
    tracking_code: str = Field(..., alias="matter.tracking_code")
    organisation_id: int
    organisation_name: str = Field(..., alias="organisation.name")
    reason: str
    is_urgent: bool
    summoned_at: datetime
    check_in_due: datetime
    checked_in_at: datetime | None
    is_late: bool
    is_missing: bool
    status: str
    check_in_note: str
    action_taken: str
    done_at: datetime | None

    @staticmethod
    def resolve_is_missing(obj: Summons) -> bool:
        return obj.is_missing()


class SummonsStatsOut(Schema):
    total: int
    checked_in: int
    on_time: int
    late: int
    missing: int
    waiting: int


class MatterSummonsOut(Schema):
    items: list[SummonsOut]
    stats: SummonsStatsOut


class EscalationOut(Schema):
    id: int
    matter_id: int
    kind: str
    from_place_id: int
    to_place_id: int | None
    to_org_id: int | None
    reason: str
    is_automatic: bool
    at: datetime
    queue_place_id: int = Field(..., alias="matter.queue_place_id")
    escalation_count: int = Field(..., alias="matter.escalation_count")


class PartyIO(Schema):
    name: str
    contact: str = ""


class TermIO(Schema):
    what: str = ""
    who: str = ""
    by: date | None = None


class MediationOut(Schema):
    id: int
    matter_id: int
    way: str
    method: str
    parties: list[PartyIO]
    consent: bool
    facts: str
    responsibilities: str
    terms: list[TermIO]
    work_record: str
    signed_at: datetime | None
    confirmation_deadline: date | None
    outcome: str
    created_at: datetime


# ---------------------------------------------------------------- input


class AssignIn(Schema):
    mode: HandlingMode
    responsible_user_id: int | None = None
    responsible_org_id: int | None = None
    co_org_ids: list[int] = []
    due_at: datetime | None = None
    instructions: str = ""


class SummonIn(Schema):
    organisation_ids: list[int]
    reason: str
    urgent: bool = False


class CheckInIn(Schema):
    note: str = ""


class SummonsActionIn(Schema):
    action_taken: str
    done: bool = True


class EscalateIn(Schema):
    reason: str


class TransferIn(Schema):
    organisation_id: int
    reason: str


class MediationIn(Schema):
    way: MediationWay
    method: MediationMethod | None = None
    parties: list[PartyIO] = []
    consent: bool = False
    facts: str = ""
    responsibilities: str = ""
    terms: list[TermIO] = []
    work_record: str = ""
    signed_at: datetime | None = None
    outcome: MediationOutcome | None = None
    outcome_reason: str = ""
    transfer_to_id: int | None = None


class SummonsFilter(StrEnum):
    waiting = SummonsStatus.WAITING.value
    checked_in = SummonsStatus.CHECKED_IN.value
    done = SummonsStatus.DONE.value
    cancelled = SummonsStatus.CANCELLED.value
    missing = "missing"


# ---------------------------------------------------------------- helpers


def _matter(request, matter_id: int) -> Matter:
    return get_object_or_404(
        Matter.objects.restrict(request.auth, "view").select_related(
            "place", "queue_place", "workflow"),
        pk=matter_id,
    )


def _organisations(matter: Matter, ids: list[int]) -> list[Organisation]:
    ids = list(dict.fromkeys(ids))
    found = {o.pk: o for o in Organisation.objects.filter(pk__in=ids, county_id=matter.county_id)}
    missing = [i for i in ids if i not in found]
    if missing:
        raise ActionError(_("单位 %(ids)s 不存在或不属于本县（区）。") % {
            "ids": ", ".join(str(i) for i in missing)})
    return [found[i] for i in ids]


def _organisation(matter: Matter, org_id: int | None) -> Organisation | None:
    return _organisations(matter, [org_id])[0] if org_id is not None else None


def _user(user_id: int | None) -> User | None:
    if user_id is None:
        return None
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        raise ActionError(_("责任人不存在或已停用。"))
    return user


def _summons_qs(request):
    return visible_summons(request.auth).select_related("matter", "organisation")


def _summons(request, summons_id: int) -> Summons:
    return get_object_or_404(_summons_qs(request), pk=summons_id)


# ---------------------------------------------------------------- endpoints


@router.post("/matters/{matter_id}/assign", response={201: AssignmentOut, **ERRORS})
def assign(request, matter_id: int, payload: AssignIn):
    """交办 (自办/代办/联办): 联办 needs ``co_org_ids``; ``due_at`` defaults to the stage's
    time limit."""
    matter = _matter(request, matter_id)
    assignment = actions.do_assign(
        matter, acting_user=request.auth, mode=payload.mode.value,
        responsible_user=_user(payload.responsible_user_id),
        responsible_org=_organisation(matter, payload.responsible_org_id),
        co_orgs=_organisations(matter, payload.co_org_ids), due_at=payload.due_at,
        instructions=payload.instructions,
    )
    return Status(201, assignment)


@router.get("/matters/{matter_id}/summons", response={200: MatterSummonsOut, 404: ErrorOut})
def matter_summonses(request, matter_id: int):
    """The matter's summonses with their check-in counts (on time, late, missing)."""
    matter = _matter(request, matter_id)
    qs = matter.summonses.select_related("matter", "organisation").order_by("summoned_at", "pk")
    return {"items": list(qs), "stats": summons_stats(matter.summonses.all())}


@router.post("/matters/{matter_id}/summons", response={201: list[SummonsOut], **ERRORS})
def summon(request, matter_id: int, payload: SummonIn):
    """吹哨: summon units; each must check in within the locality's time (minutes if urgent)."""
    matter = _matter(request, matter_id)
    created = actions.do_summon(matter, _organisations(matter, payload.organisation_ids),
                                acting_user=request.auth, reason=payload.reason,
                                urgent=payload.urgent)
    return Status(201, created)


@router.get("/summons", response=list[SummonsOut])
@paginate(Pagination)
def list_summonses(request, status: SummonsFilter | None = None, matter: int | None = None):
    """A department's summonses (its own unit's; others see those on matters they may see).
    ``status=missing`` lists those still waiting after their deadline."""
    user = request.auth
    qs = organisation_summons(user) if getattr(user, "organisation_id", None) else (
        visible_summons(user))
    if status == SummonsFilter.missing:
        qs = qs.filter(status=SummonsStatus.WAITING, checked_in_at__isnull=True,
                       check_in_due__lt=timezone.now())
    elif status is not None:
        qs = qs.filter(status=status.value)
    if matter is not None:
        qs = qs.filter(matter_id=matter)
    return qs.select_related("matter", "organisation").order_by("check_in_due", "pk")


@router.post("/summons/{summons_id}/check-in", response={200: SummonsOut, **ERRORS})
def check_in(request, summons_id: int, payload: CheckInIn | None = None):
    """报到, by a liaison of the summoned unit; late when after the deadline."""
    summons = _summons(request, summons_id)
    actions.do_check_in(summons, acting_user=request.auth, note=payload.note if payload else "")
    return _summons(request, summons_id)


@router.post("/summons/{summons_id}/action", response={200: SummonsOut, **ERRORS})
def summons_action(request, summons_id: int, payload: SummonsActionIn):
    """What the summoned unit did (after checking in); ``done`` closes its part."""
    summons = _summons(request, summons_id)
    actions.do_record_summons_action(summons, acting_user=request.auth,
                                     action_taken=payload.action_taken, done=payload.done)
    return _summons(request, summons_id)


@router.post("/matters/{matter_id}/escalate", response={201: EscalationOut, **ERRORS})
def escalate(request, matter_id: int, payload: EscalateIn):
    """提级上报: village → town → county; refused at the county."""
    matter = _matter(request, matter_id)
    escalation = actions.do_escalate(matter, acting_user=request.auth, reason=payload.reason)
    return Status(201, Escalation.objects.select_related("matter").get(pk=escalation.pk))


@router.post("/matters/{matter_id}/transfer", response={201: EscalationOut, **ERRORS})
def transfer(request, matter_id: int, payload: TransferIn):
    """移交处置 to another body, which becomes the responsible unit."""
    matter = _matter(request, matter_id)
    escalation = actions.do_transfer(matter, acting_user=request.auth,
                                     organisation=_organisation(matter, payload.organisation_id),
                                     reason=payload.reason)
    return Status(201, Escalation.objects.select_related("matter").get(pk=escalation.pk))


def _mediation_out(request, matter: Matter, mediation: Mediation) -> Mediation:
    if not reporter_visible_to(request.auth, matter):
        mediation.parties = []
        mediation.terms = [{**t, "who": ""} for t in mediation.terms]
    return mediation


@router.get("/matters/{matter_id}/mediations", response={200: list[MediationOut], 404: ErrorOut})
def list_mediations(request, matter_id: int):
    matter = _matter(request, matter_id)
    return [_mediation_out(request, matter, m)
            for m in matter.mediations.order_by("created_at", "pk")]


@router.post("/matters/{matter_id}/mediations", response={201: MediationOut, **ERRORS})
def record_mediation(request, matter_id: int, payload: MediationIn):
    """说事评理. Dispute mediation (人民/行政/司法调解) needs ``consent``; a signed agreement
    (``signed_at``) needs parties, facts, responsibilities and terms; ``confirmation_deadline``
    is the signing date + 30 days. ``outcome``: archive, escalate or transfer
    (``transfer_to_id``)."""
    matter = _matter(request, matter_id)
    mediation = actions.do_record_mediation(
        matter, acting_user=request.auth, way=payload.way.value,
        method=payload.method.value if payload.method else "",
        parties=[p.dict() for p in payload.parties], consent=payload.consent,
        facts=payload.facts, responsibilities=payload.responsibilities,
        terms=[t.dict() for t in payload.terms], work_record=payload.work_record,
        signed_at=payload.signed_at, outcome=payload.outcome.value if payload.outcome else "",
        outcome_reason=payload.outcome_reason,
        transfer_to=_organisation(matter, payload.transfer_to_id),
    )
    return Status(201, _mediation_out(request, matter, mediation))
