"""接诉即办 through /api/v1/ (read only; the same permission as the exchange log page).

- ``GET /hotline/connections`` the connections the caller may see (never their secrets);
- ``GET /hotline/orders`` the 12345 orders, filtered by connection, status, received date
  range and the hotline's order id, each with its matter's id and state;
- ``GET /hotline/orders/{hotline_order_id}`` one order with the pushes we sent about it and
  their delivery status;
- ``GET /hotline/connections/{connection_id}/exchanges`` the exchange log of a connection,
  newest first.

All of them need ``hotline.view_log`` (403 without it anywhere); an object outside the places
where the caller holds it is a 404. Phones and ID numbers in logged bodies, errors and the
hotline's return-visit notes are masked; a logged address keeps only its scheme, host and path
(no credentials, no query string).
"""

import datetime as dt
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from gongzhi.api.errors import ErrorOut
from gongzhi.api.pagination import Pagination
from gongzhi.api.params import EARLIEST, LATEST
from gongzhi.board.anonymise import mask_numbers
from gongzhi.core.access import has_permission
from gongzhi.core.errors import ActionError, ActionForbidden
from gongzhi.matters import workflow

from .inbound import _redacted
from .models import (
    Connection,
    Direction,
    Exchange,
    HotlineOrder,
    OrderStatus,
    OutboundMessage,
    OutboundStatus,
)

router = Router(tags=["hotline"])
ERRORS = {403: ErrorOut, 404: ErrorOut}
PERMISSION = "hotline.view_log"


# ---------------------------------------------------------------- output


class HotlineConnectionOut(Schema):
    id: int
    name: str
    county_id: int
    is_active: bool
    outbound_host: str = Field(..., description="scheme, host and path of the hotline's "
                                                "receiving address (no credentials or query)")
    default_place_id: int
    created_at: dt.datetime
    secrets_rotated_at: dt.datetime


class HotlineMatterRef(Schema):
    id: int
    tracking_code: str
    stage: str = Field(..., description="the workflow stage's key")
    stage_name: str
    is_closed: bool


class HotlineOrderOut(Schema):
    id: int
    connection_id: int
    order_id: str = Field(..., description="the hotline's order id")
    status: str = Field(..., description="open, returned, withdrawn or closed")
    classification: str = Field(..., description="咨询, 求助, 投诉, 举报 or 建议")
    hotline_category: str
    hotline_deadline: dt.datetime | None
    urge_count: int
    last_urged_at: dt.datetime | None
    received_at: dt.datetime
    place_id: int = Field(..., description="the matter's place")
    matter_id: int
    matter: HotlineMatterRef


class HotlinePushOut(Schema):
    id: int
    kind: str = Field(..., description="accept, return, result or return_visit")
    status: str = Field(..., description="pending, sent or failed")
    attempts: int
    last_error: str
    created_at: dt.datetime
    next_attempt_at: dt.datetime | None = Field(..., description="while pending")
    sent_at: dt.datetime | None


class HotlineVisitResultOut(Schema):
    reached: bool | None = None
    satisfaction: str = ""
    notes: str = ""
    at: str = ""


class HotlineOrderDetailOut(HotlineOrderOut):
    visit_result: HotlineVisitResultOut | None = Field(
        ..., description="the hotline's own return visit, if it sent one")
    pushes: list[HotlinePushOut] = Field(..., description="what we told the hotline, oldest "
                                                          "first")


class HotlineExchangeOut(Schema):
    id: int
    at: dt.datetime
    direction: str = Field(..., description="in (the hotline called us) or out (a push)")
    kind: str
    order_ref: str
    matter_id: int | None
    message_id: int | None = Field(..., description="the push, for direction out")
    attempt: int
    url: str = Field(..., description="without credentials or query string")
    request_body: str = Field(..., description="phones and ID numbers masked")
    status_code: int | None
    response_excerpt: str
    error: str
    duration_ms: int


# ---------------------------------------------------------------- input


class HotlineOrderFilters(Schema):
    connection: int | None = None
    status: OrderStatus | None = None
    received_from: dt.date | None = Field(None, ge=EARLIEST, le=LATEST,
                                          description="received on or after this day")
    received_to: dt.date | None = Field(None, ge=EARLIEST, le=LATEST,
                                        description="received on or before this day")
    order_id: str | None = Field(None, max_length=64, description="the hotline's order id")


class HotlineExchangeFilters(Schema):
    direction: Direction | None = None
    order: str | None = Field(None, max_length=64, description="the hotline's order id")


# ---------------------------------------------------------------- loading and shaping


def _require(request) -> None:
    if not has_permission(request.auth, PERMISSION):
        raise ActionForbidden(_("您没有查看12345热线对接的权限。"))


def _connections(request) -> QuerySet[Connection]:
    _require(request)
    return Connection.objects.restrict(request.auth, "view_log")


def _orders(request) -> QuerySet[HotlineOrder]:
    _require(request)
    return (HotlineOrder.objects.restrict(request.auth, "view_log")
            .select_related("matter__workflow"))


def _clean_url(url: str) -> str:
    """Scheme, host and path only: a receiving address may carry a token."""
    if not url:
        return ""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def _clean_text(text: str, connection: Connection | None = None) -> str:
    text = text or ""
    if connection is not None and connection.outbound_url:
        text = text.replace(connection.outbound_url, _clean_url(connection.outbound_url))
    return mask_numbers(text)


def _stage_name(matter) -> str:
    try:
        return workflow.workflow_of(matter.workflow).stage(matter.stage).get("name") or (
            matter.stage)
    except KeyError:
        return matter.stage


def _order_out(order: HotlineOrder) -> dict:
    m = order.matter
    return {
        "id": order.pk, "connection_id": order.connection_id, "order_id": order.order_id,
        "status": order.status, "classification": order.classification,
        "hotline_category": order.hotline_category, "hotline_deadline": order.hotline_deadline,
        "urge_count": order.urge_count, "last_urged_at": order.last_urged_at,
        "received_at": order.received_at, "place_id": order.place_id,
        "matter_id": order.matter_id,
        "matter": {"id": m.pk, "tracking_code": m.tracking_code, "stage": m.stage,
                   "stage_name": _stage_name(m), "is_closed": m.is_closed},
    }


def _visit_result(result: dict) -> dict | None:
    if not result:
        return None
    reached = result.get("reached")
    return {"reached": reached if isinstance(reached, bool) else None,
            "satisfaction": str(result.get("satisfaction") or ""),
            "notes": mask_numbers(str(result.get("notes") or "")),
            "at": str(result.get("at") or "")}


def _push_out(msg: OutboundMessage, connection: Connection) -> dict:
    return {"id": msg.pk, "kind": msg.kind, "status": msg.status, "attempts": msg.attempts,
            "last_error": _clean_text(msg.last_error, connection), "created_at": msg.created_at,
            "next_attempt_at": msg.not_before if msg.status == OutboundStatus.PENDING else None,
            "sent_at": msg.sent_at}


def _exchange_out(e: Exchange, c: Connection) -> dict:
    return {
        "id": e.pk, "at": e.at, "direction": e.direction, "kind": e.kind,
        "order_ref": e.order_ref, "matter_id": e.matter_id, "message_id": e.message_id,
        "attempt": e.attempt,
        "url": _clean_url(e.url) if e.url.startswith(("http://", "https://")) else e.url,
        "request_body": _clean_text(_redacted(e.request_body.encode("utf-8")), c),
        "status_code": e.status_code,
        "response_excerpt": _clean_text(e.response_excerpt, c),
        "error": _clean_text(e.error, c), "duration_ms": e.duration_ms,
    }


class _Rows:
    """A query shaped lazily for the paginator: it counts and slices, only the page is
    shaped."""

    def __init__(self, qs: QuerySet, shape: Callable[[Any], dict]) -> None:
        self.qs, self.shape = qs, shape

    def __len__(self) -> int:
        return self.qs.count()

    def __getitem__(self, index: slice) -> list[dict]:
        return [self.shape(row) for row in self.qs[index]]


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


# ---------------------------------------------------------------- endpoints


@router.get("/hotline/connections", response={200: list[HotlineConnectionOut], **ERRORS})
def list_connections(request):
    """The connections whose exchange log the caller may read. Secrets are never answered."""
    return [{"id": c.pk, "name": c.name, "county_id": c.county_id, "is_active": c.is_active,
             "outbound_host": _clean_url(c.outbound_url),
             "default_place_id": c.default_place_id, "created_at": c.created_at,
             "secrets_rotated_at": c.secrets_rotated_at}
            for c in _connections(request).order_by("county_id", "name", "pk")]


@router.get("/hotline/orders", response={200: list[HotlineOrderOut], **ERRORS})
@paginate(Pagination)
def list_orders(request, filters: Query[HotlineOrderFilters]):
    """12345 orders under the caller's places, newest first. ``connection`` must be one the
    caller may see (404 otherwise)."""
    qs = _orders(request)
    if filters.connection is not None:
        connection = get_object_or_404(_connections(request), pk=filters.connection)
        qs = qs.filter(connection=connection)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.received_from and filters.received_to and (
            filters.received_from > filters.received_to):
        raise ActionError(_("开始日期不能晚于结束日期。"))
    if filters.received_from:
        qs = qs.filter(received_at__gte=_day_start(filters.received_from))
    if filters.received_to:
        qs = qs.filter(received_at__lt=_day_start(filters.received_to + dt.timedelta(days=1)))
    if filters.order_id:
        qs = qs.filter(order_id=filters.order_id.strip())
    return _Rows(qs.order_by("-received_at", "-pk"), _order_out)


@router.get("/hotline/orders/{hotline_order_id}",
            response={200: HotlineOrderDetailOut, **ERRORS})
def get_order(request, hotline_order_id: int):
    """One order, its matter's state, the hotline's own return visit, and every push we made
    about it with its delivery status."""
    order = get_object_or_404(_orders(request).select_related("connection"),
                              pk=hotline_order_id)
    pushes = OutboundMessage.objects.filter(order=order).order_by("created_at", "pk")
    return {**_order_out(order), "visit_result": _visit_result(order.visit_result),
            "pushes": [_push_out(m, order.connection) for m in pushes]}


@router.get("/hotline/connections/{connection_id}/exchanges",
            response={200: list[HotlineExchangeOut], **ERRORS})
@paginate(Pagination)
def list_exchanges(request, connection_id: int, filters: Query[HotlineExchangeFilters]):
    """The connection's exchange log, newest first: every request in and every push attempt
    out. ``order`` narrows to one hotline order id."""
    connection = get_object_or_404(_connections(request), pk=connection_id)
    qs = Exchange.objects.filter(connection=connection)
    if filters.direction:
        qs = qs.filter(direction=filters.direction)
    if filters.order:
        qs = qs.filter(order_ref=filters.order.strip())
    return _Rows(qs.order_by("-at", "-id"), lambda e: _exchange_out(e, connection))
