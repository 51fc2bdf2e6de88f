"""督 through /api/v1/: supervision items and their records, manual supervision, bulletins.

Items and bulletins are loaded through ``restrict(request.auth, "view")`` (404 outside the
caller's places; a department sees only the supervision of its own organisation's matters);
writes call the actions, which require ``matters.supervise`` at the matter's place (403).
"""

from datetime import date, datetime
from typing import Any

from django.db.models import Q
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import ConfigDict

from gongzhi.accounts.models import User
from gongzhi.api.errors import ErrorOut
from gongzhi.api.pagination import Pagination
from gongzhi.core.errors import ActionError
from gongzhi.matters.models import Matter
from gongzhi.places.models import Place

from . import actions, recipients
from .models import (
    Bulletin,
    ItemStatus,
    PeriodKind,
    Reason,
    RecordKind,
    SupervisionItem,
    SupervisionRecord,
)

router = Router(tags=["supervision"])
ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut}


class ItemOut(Schema):
    id: int
    matter_id: int
    matter_title: str = Field(..., alias="matter.title")
    tracking_code: str = Field(..., alias="matter.tracking_code")
    stage: str
    stage_name: str
    stage_entered_at: datetime
    deadline: datetime | None
    level: int
    level_role: str
    reason: str
    automatic: bool
    status: str
    note: str
    opened_at: datetime
    opened_by_id: int | None
    closed_at: datetime | None
    close_note: str
    unit: str

    @staticmethod
    def resolve_unit(obj: SupervisionItem) -> str:
        m = obj.matter
        return m.responsible_org.name if m.responsible_org_id else m.queue_place.name


class RecordOut(Schema):
    id: int
    item_id: int
    matter_id: int
    kind: str
    notes: str
    at: datetime
    by_id: int | None
    talked_to_user_id: int | None
    talked_to_name: str
    talked_to_position: str


class In(Schema):
    model_config = ConfigDict(use_enum_values=True, extra="forbid")


class RecordIn(In):
    kind: RecordKind
    notes: str = Field(..., max_length=5000)
    at: datetime | None = Field(None, description="when it took place; now if left out")
    talked_to_user: int | None = Field(
        None, description="约谈: the user talked to (one of the matter's county)")
    talked_to_name: str = Field("", max_length=60, description="约谈: or a name ...")
    talked_to_position: str = Field("", max_length=80, description="... and a position")


class CloseIn(In):
    note: str = Field(..., max_length=2000)


class OpenIn(In):
    level: int = Field(0, ge=0, description="index in the locality's supervision chain")
    reason: str = Field(Reason.MANUAL, description="manual (专项督办) or near_deadline (临期督办)")
    note: str = Field("", max_length=2000)


class BulletinOut(Schema):
    id: int
    place_id: int
    title: str
    period_kind: str
    period_start: date
    period_end: date
    generated_at: datetime
    published: bool
    published_at: datetime | None
    data: dict[str, Any]


class BulletinIn(In):
    place: int = Field(..., description="the county or town the bulletin covers")
    period_kind: PeriodKind
    day: date | None = Field(None, description="any day of the period; today if left out")


def _items(request):
    return SupervisionItem.objects.restrict(request.auth, "view").select_related(
        "matter", "matter__responsible_org", "matter__queue_place")


@router.get("/supervision/items", response=list[ItemOut])
@paginate(Pagination)
def list_items(request, status: ItemStatus | None = None, level: int | None = None,
               matter: int | None = None, organisation: int | None = None):
    """Supervision items the caller may see, open ones with the highest level first."""
    qs = _items(request)
    if status:
        qs = qs.filter(status=status)
    if level is not None:
        qs = qs.filter(level=level)
    if matter is not None:
        qs = qs.filter(matter_id=matter)
    if organisation is not None:
        qs = qs.filter(matter__responsible_org_id=organisation)
    return qs.order_by("status", "-level", "deadline", "-id")


@router.get("/supervision/items/{item_id}", response={200: ItemOut, 404: ErrorOut})
def get_item(request, item_id: int):
    return get_object_or_404(_items(request), pk=item_id)


@router.get("/supervision/items/{item_id}/records", response={200: list[RecordOut],
                                                              404: ErrorOut})
def list_records(request, item_id: int):
    item = get_object_or_404(_items(request), pk=item_id)
    return list(SupervisionRecord.objects.filter(item=item).order_by("at", "id"))


@router.post("/supervision/items/{item_id}/records", response={201: RecordOut, **ERRORS})
def add_record(request, item_id: int, payload: RecordIn):
    """Record a site check, survey, meeting or 约谈 (``talk``: name the person talked to)."""
    item = get_object_or_404(_items(request), pk=item_id)
    talked_to = None
    if payload.talked_to_user is not None:
        matter = item.matter
        candidates = {u.pk: u for u in recipients.responsible_users(matter)
                      + recipients.queue_staff(matter)}
        talked_to = candidates.get(payload.talked_to_user) or User.objects.filter(
            Q(county_id=matter.county_id), pk=payload.talked_to_user, is_active=True).first()
        if talked_to is None:
            raise ActionError(_("约谈对象不存在或不属于本县区。"))
    rec = actions.do_add_supervision_record(
        item, acting_user=request.auth, kind=payload.kind, notes=payload.notes, at=payload.at,
        talked_to_user=talked_to, talked_to_name=payload.talked_to_name,
        talked_to_position=payload.talked_to_position,
    )
    return Status(201, rec)


@router.post("/supervision/items/{item_id}/close", response={200: ItemOut, **ERRORS})
def close_item(request, item_id: int, payload: CloseIn):
    item = get_object_or_404(_items(request), pk=item_id)
    actions.do_close_supervision(item, acting_user=request.auth, note=payload.note)
    return _items(request).get(pk=item.pk)


@router.post("/matters/{matter_id}/supervision", response={201: ItemOut, **ERRORS})
def open_item(request, matter_id: int, payload: OpenIn):
    """Put a matter under supervision by hand (``matters.supervise``)."""
    matter = get_object_or_404(Matter.objects.restrict(request.auth, "view")
                               .select_related("place", "workflow"), pk=matter_id)
    item = actions.do_open_supervision(matter, acting_user=request.auth, level=payload.level,
                                       reason=payload.reason, note=payload.note)
    return Status(201, _items(request).get(pk=item.pk))


def _bulletins(request):
    return Bulletin.objects.restrict(request.auth, "view")


@router.get("/supervision/bulletins", response=list[BulletinOut])
@paginate(Pagination)
def list_bulletins(request, place: int | None = None, published: bool | None = None):
    """Bulletins of the places the caller supervises, and published ones where they may see
    matters."""
    qs = _bulletins(request)
    if place is not None:
        qs = qs.filter(place_id=place)
    if published is not None:
        qs = qs.filter(published=published)
    return qs.order_by("-period_start", "-id")


@router.get("/supervision/bulletins/{bulletin_id}", response={200: BulletinOut, 404: ErrorOut})
def get_bulletin(request, bulletin_id: int):
    return get_object_or_404(_bulletins(request), pk=bulletin_id)


@router.post("/supervision/bulletins", response={201: BulletinOut, **ERRORS})
def generate_bulletin(request, payload: BulletinIn):
    """Generate (or refresh, while unpublished) the bulletin of a county or town for the week,
    month or quarter containing ``day``."""
    place = get_object_or_404(Place.objects.restrict(request.auth, "view"), pk=payload.place)
    bulletin = actions.do_generate_bulletin(place, payload.period_kind,
                                            payload.day or timezone.localdate(),
                                            acting_user=request.auth)
    return Status(201, bulletin)


@router.post("/supervision/bulletins/{bulletin_id}/publish",
             response={200: BulletinOut, **ERRORS})
def publish_bulletin(request, bulletin_id: int):
    bulletin = get_object_or_404(_bulletins(request), pk=bulletin_id)
    return actions.do_publish_bulletin(bulletin, acting_user=request.auth)
