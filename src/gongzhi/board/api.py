"""晒 through /api/v1/: the public board, read without authentication.

The same view as the pages at ``/board/``: only published matters (``is_public``, never a
merged duplicate), anonymised by :mod:`gongzhi.board.public` — no reporter, no names, phones
and ID numbers masked, complaints reduced to category, place, stage and outcome — and the
honour and shame lists once approved and published.
"""

from datetime import date, datetime

from django.db.models import Q
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from gongzhi.api.errors import ErrorOut
from gongzhi.api.pagination import DEFAULT_LIMIT, MAX_LIMIT
from gongzhi.api.params import EARLIEST, LATEST, MAX_OFFSET
from gongzhi.core.errors import ActionError

from .figures import place_summary
from .models import HonourList
from .public import (
    BOARD_LEVELS,
    board_matters,
    board_place,
    public_matter,
    public_matters,
    published_lists,
    with_public_relations,
)

router = Router(tags=["board"])


# ---------------------------------------------------------------- output


class PublicEventOut(Schema):
    at: datetime
    kind: str
    summary: str
    who: str = Field(..., description="the unit or role that took the step, never a name")
    comment: str


class PublicMatterOut(Schema):
    """A matter as the public may read it. Complaints (ledger ``complaint``) show no text, no
    timeline and no rating (``details_shown`` false) unless the locality's policy says so."""

    id: int
    title: str
    text: str | None
    is_complaint: bool
    ledger: str
    ledger_label: str
    category: str
    place: str = Field(..., description="town and village, never below")
    place_id: int
    status: str = Field(..., description="open or closed")
    status_label: str
    stage_name: str
    created_at: datetime
    closed_at: datetime | None
    published_at: datetime | None
    merged: bool = Field(..., description="merged into another matter (never on the board)")
    outcome: str
    outcome_label: str
    outcome_text: str
    explanation: str
    satisfaction: str = Field(..., description="the reporter's latest rating: satisfied, basic, "
                                               "dissatisfied, no_answer, or empty")
    satisfaction_label: str
    details_shown: bool
    events: list[PublicEventOut]


class PublicMatterPage(Schema):
    items: list[PublicMatterOut]
    count: int


class PlaceRef(Schema):
    id: int
    kind: str
    name: str


class SummaryOut(Schema):
    """See ``gongzhi.board.figures.place_summary`` for the definitions."""

    received: int
    closed: int
    closed_rate: float | None = Field(..., description="办结率 = closed ÷ received")
    answered: int
    satisfied: int = Field(..., description="满意 + 基本满意")
    dissatisfied: int
    no_answer: int = Field(..., description="ratings that never came; never counted satisfied")
    satisfaction_rate: float | None = Field(..., description="(满意 + 基本满意) ÷ answered")


class BoardOut(Schema):
    place: PlaceRef
    ancestors: list[PlaceRef]
    children: list[PlaceRef]
    start: datetime
    end: datetime
    summary: SummaryOut


class EntryOut(Schema):
    kind: str
    name: str
    reason: str


class HonourListOut(Schema):
    id: int
    kind: str = Field(..., description="red (红榜) or black (黑榜)")
    title: str
    place_id: int
    place_name: str = Field(..., alias="place.name")
    period_label: str
    period_start: date
    period_end: date
    intro: str
    published_at: datetime | None
    entries: list[EntryOut]

    @staticmethod
    def resolve_entries(obj: HonourList):
        return list(obj.entries.all())


class HonourListPage(Schema):
    items: list[HonourListOut]
    count: int


# ---------------------------------------------------------------- endpoints


def _ref(place) -> dict:
    return {"id": place.pk, "kind": place.kind, "name": place.name}


def _start(value: date | None):
    if value is not None:
        return timezone.make_aware(datetime(value.year, value.month, value.day))
    now = timezone.localtime()
    return timezone.make_aware(datetime(now.year, 1, 1))


@router.get("/public/boards/{place_id}", auth=None,
            response={200: BoardOut, 400: ErrorOut, 404: ErrorOut})
def board(request, place_id: int,
          start: date | None = Query(None, ge=EARLIEST, le=LATEST),  # noqa: B008 - Ninja's way
          end: date | None = Query(None, ge=EARLIEST, le=LATEST)):  # noqa: B008
    """A county's, town's or village's figures for ``[start, end)`` (default: this year so
    far), with the places above and below it. 400 unless ``end`` is after ``start``."""
    place = board_place(place_id)
    begin = _start(start)
    now = timezone.now()
    finish = timezone.make_aware(datetime(end.year, end.month, end.day)) if end else now
    if min(finish, now) <= begin:
        raise ActionError(_("结束日期须晚于开始日期（且开始日期不能晚于今天）。"))
    children = place.children.filter(is_active=True, kind__in=BOARD_LEVELS).order_by(
        "sort_order", "pk")
    return {"place": _ref(place), "ancestors": [_ref(p) for p in place.ancestors()],
            "children": [_ref(c) for c in children], "start": begin, "end": finish,
            "summary": place_summary(place, begin, min(finish, now))}


@router.get("/public/boards/{place_id}/matters", auth=None,
            response={200: PublicMatterPage, 404: ErrorOut})
def board_matter_list(request, place_id: int, category: int | None = None,
                      status: str | None = Query(None, pattern="^(open|closed)$"),
                      month: str | None = Query(None, pattern=r"^(19|20)\d{2}-(0[1-9]|1[0-2])$",
                                                description="registration month, 2026-03"),
                      limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
                      offset: int = Query(0, ge=0, le=MAX_OFFSET)):
    """Published matters under a place, newest first (without their timelines)."""
    place = board_place(place_id)
    qs = board_matters(place)
    if category:
        qs = qs.filter(Q(category_id=category) | Q(category__parent_id=category))
    if status:
        qs = qs.filter(is_closed=(status == "closed"))
    if month:
        year, mon = (int(p) for p in month.split("-"))
        if 1 <= mon <= 12:
            first = timezone.make_aware(datetime(year, mon, 1))
            after = timezone.make_aware(datetime(year + (mon == 12), mon % 12 + 1, 1))
            qs = qs.filter(created_at__gte=first, created_at__lt=after)
    count = qs.count()
    page = list(with_public_relations(qs).order_by("-published_at", "-pk")[offset:offset + limit])
    return {"items": public_matters(page), "count": count}


@router.get("/public/boards/{place_id}/matters/{matter_id}", auth=None,
            response={200: PublicMatterOut, 404: ErrorOut})
def board_matter(request, place_id: int, matter_id: int):
    """One published matter with its public timeline."""
    place = board_place(place_id)
    return public_matter(get_object_or_404(board_matters(place), pk=matter_id))


@router.get("/public/boards/{place_id}/honour-lists", auth=None,
            response={200: HonourListPage, 404: ErrorOut})
def board_lists(request, place_id: int, kind: str | None = Query(None, pattern="^(red|black)$"),
                limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
                offset: int = Query(0, ge=0, le=MAX_OFFSET)):
    """Published honour (red) and shame (black) lists at the place or beneath it."""
    place = board_place(place_id)
    qs = published_lists(place)
    if kind:
        qs = qs.filter(kind=kind)
    return {"items": list(qs.prefetch_related("entries")[offset:offset + limit]),
            "count": qs.count()}
