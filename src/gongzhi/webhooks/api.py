"""Outgoing webhooks through /api/v1/ (county admins: ``webhooks.view`` / ``webhooks.manage``).

- ``GET /webhooks/subscriptions``, ``POST /webhooks/subscriptions`` (``county``, ``url``,
  ``event_types``, optional ``description`` and ``secret`` — generated when left out);
- ``GET|PATCH|DELETE /webhooks/subscriptions/{id}``;
- ``GET /webhooks/subscriptions/{id}/deliveries``: the delivery log, newest first;
- ``GET /webhooks/event-types``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.shortcuts import get_object_or_404
from ninja import Router, Schema, Status
from ninja.pagination import paginate

from gongzhi.api.errors import ErrorOut
from gongzhi.api.pagination import Pagination
from gongzhi.places.models import Place

from . import actions
from .models import EventType, Subscription

router = Router(tags=["webhooks"])
ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut}


class SubscriptionOut(Schema):
    id: int
    county: int
    url: str
    event_types: list[str]
    description: str
    is_active: bool
    secret: str
    created_at: dt.datetime

    @staticmethod
    def resolve_county(obj) -> int:
        return obj.county_id


class SubscriptionIn(Schema):
    county: int
    url: str
    event_types: list[str]
    description: str = ""
    secret: str = ""


class SubscriptionPatch(Schema):
    url: str | None = None
    event_types: list[str] | None = None
    description: str | None = None
    is_active: bool | None = None


class DeliveryOut(Schema):
    id: str
    event_type: str
    status: str
    attempts: int
    last_status_code: int | None
    last_error: str
    created_at: dt.datetime
    delivered_at: dt.datetime | None
    payload: dict[str, Any]

    @staticmethod
    def resolve_id(obj) -> str:
        return str(obj.key)


class EventTypeOut(Schema):
    key: str
    label: str


def _subscription(request, sub_id: int, action: str = "view") -> Subscription:
    return get_object_or_404(Subscription.objects.restrict(request.auth, action), pk=sub_id)


@router.get("/webhooks/event-types", response=list[EventTypeOut])
def event_types(request):
    return [{"key": k, "label": str(v)} for k, v in EventType.choices]


@router.get("/webhooks/subscriptions", response=list[SubscriptionOut])
@paginate(Pagination)
def list_subscriptions(request):
    return Subscription.objects.restrict(request.auth, "view").order_by("id")


@router.post("/webhooks/subscriptions", response={201: SubscriptionOut, **ERRORS})
def create_subscription(request, data: SubscriptionIn):
    county = get_object_or_404(Place, pk=data.county, kind="county")
    sub = actions.do_create_subscription(
        county, acting_user=request.auth, url=data.url, event_types=data.event_types,
        description=data.description, secret=data.secret)
    return Status(201, sub)


@router.get("/webhooks/subscriptions/{sub_id}", response={200: SubscriptionOut, 404: ErrorOut})
def get_subscription(request, sub_id: int):
    return _subscription(request, sub_id)


@router.patch("/webhooks/subscriptions/{sub_id}", response={200: SubscriptionOut, **ERRORS})
def update_subscription(request, sub_id: int, data: SubscriptionPatch):
    sub = _subscription(request, sub_id, "manage")
    return actions.do_update_subscription(sub, acting_user=request.auth, **data.dict())


@router.delete("/webhooks/subscriptions/{sub_id}", response={204: None, **ERRORS})
def delete_subscription(request, sub_id: int):
    actions.do_delete_subscription(_subscription(request, sub_id, "manage"),
                                   acting_user=request.auth)
    return Status(204, None)


@router.get("/webhooks/subscriptions/{sub_id}/deliveries", response=list[DeliveryOut])
@paginate(Pagination)
def list_deliveries(request, sub_id: int):
    return _subscription(request, sub_id).deliveries.order_by("-created_at", "-id")
