"""Writes owned by webhooks: subscriptions, and the deliveries written for events."""

from __future__ import annotations

import secrets
from urllib.parse import urlparse

from django.db import transaction
from django.utils.translation import gettext as _

from gongzhi.audit.log import record
from gongzhi.core.access import has_permission
from gongzhi.core.errors import ActionError, ActionForbidden

from .models import Delivery, DeliveryStatus, EventType, Subscription

FIELDS = ["url", "event_types", "description", "is_active"]


def _clean(url: str, event_types: list[str]) -> tuple[str, list[str]]:
    url = (url or "").strip()
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc or len(url) > 500:
        raise ActionError(_("接收地址须是以 http:// 或 https:// 开头的完整网址。"))
    types = list(dict.fromkeys(event_types or []))
    unknown = [t for t in types if t not in EventType.values]
    if unknown:
        raise ActionError(_("不支持的事件类型：%(types)s。") % {"types": "、".join(unknown)})
    if not types:
        raise ActionError(_("请至少选择一种事件类型。"))
    return url, types


def _require(user, county) -> None:
    if not has_permission(user, "webhooks.manage", county):
        raise ActionForbidden(_("您没有管理本县事件推送的权限。"))


@transaction.atomic
def do_create_subscription(county, *, acting_user, url: str, event_types: list[str],
                           description: str = "", secret: str = "") -> Subscription:
    _require(acting_user, county)
    if county.kind != "county":
        raise ActionError(_("事件推送按县（区）订阅。"))
    url, types = _clean(url, event_types)
    sub = Subscription(url=url, event_types=types, description=(description or "")[:200],
                       secret=(secret or "").strip() or secrets.token_urlsafe(32),
                       created_by=acting_user)
    if len(sub.secret) < 16:
        raise ActionError(_("签名密钥至少16个字符；留空则自动生成。"))
    sub.set_place(county)
    sub.save()
    record("webhooks.subscription.create", actor=acting_user, obj=sub,
           after={"url": url, "event_types": types, "description": sub.description})
    return sub


@transaction.atomic
def do_update_subscription(sub: Subscription, *, acting_user, url: str | None = None,
                           event_types: list[str] | None = None,
                           description: str | None = None,
                           is_active: bool | None = None) -> Subscription:
    _require(acting_user, sub.place)
    sub = Subscription.objects.select_for_update().get(pk=sub.pk)
    before = {f: getattr(sub, f) for f in FIELDS}
    new_url, types = _clean(url if url is not None else sub.url,
                            event_types if event_types is not None else sub.event_types)
    sub.url, sub.event_types = new_url, types
    if description is not None:
        sub.description = description[:200]
    if is_active is not None:
        sub.is_active = bool(is_active)
    sub.save(update_fields=FIELDS)
    record("webhooks.subscription.update", actor=acting_user, obj=sub, before=before,
           after={f: getattr(sub, f) for f in FIELDS})
    return sub


@transaction.atomic
def do_delete_subscription(sub: Subscription, *, acting_user) -> None:
    _require(acting_user, sub.place)
    county_id, pk, url = sub.county_id, sub.pk, sub.url
    sub.delete()
    record("webhooks.subscription.delete", actor=acting_user, county_id=county_id,
           object_type="webhooks.subscription", object_id=pk, object_repr=url,
           before={"url": url})


@transaction.atomic
def do_redeliver(delivery: Delivery, *, acting_user) -> Delivery:
    """Queue a failed delivery again (the same id, a fresh round of attempts)."""
    from django.utils import timezone

    from .delivery import deliver_webhooks

    _require(acting_user, delivery.subscription.place)
    delivery = Delivery.objects.select_for_update().get(pk=delivery.pk)
    if delivery.status != DeliveryStatus.FAILED:
        raise ActionError(_("只有发送失败的推送可以重发。"))
    delivery.status, delivery.attempts, delivery.not_before = (
        DeliveryStatus.PENDING, 0, timezone.now())
    delivery.save(update_fields=["status", "attempts", "not_before"])
    record("webhooks.delivery.redeliver", actor=acting_user, obj=delivery,
           after={"status": delivery.status})
    transaction.on_commit(lambda: deliver_webhooks.enqueue())
    return delivery


def on_audit_event(event, obj) -> None:
    """The audit log's listener: write a delivery per matching active subscription, in the
    event's own transaction, and send them after commit."""
    from .delivery import deliver_webhooks
    from .events import ACTIONS, envelope, events_for

    if event.action not in ACTIONS or not event.county_id:
        return
    if not Subscription.objects.filter(county_id=event.county_id, is_active=True).exists():
        return
    found = events_for(event, obj)
    if not found:
        return
    subs = list(Subscription.objects.filter(county_id=event.county_id, is_active=True))
    rows = []
    for event_type, county_id, data in found:
        for sub in subs:
            if event_type in sub.event_types:
                d = Delivery(county_id=county_id, subscription=sub, event_type=event_type,
                             payload={})
                d.payload = envelope(d.key, event_type, county_id, data)
                rows.append(d)
    if rows:
        Delivery.objects.bulk_create(rows)
        transaction.on_commit(lambda: deliver_webhooks.enqueue())
