"""Sending deliveries: signed POSTs, after commit, with exponential backoff.

Headers of each POST:

- ``X-Gongzhi-Event``: the event type, e.g. ``matter.closed``;
- ``X-Gongzhi-Delivery``: the delivery's id (the same on every retry; drop repeats);
- ``X-Gongzhi-Timestamp``: Unix seconds when this attempt was signed;
- ``X-Gongzhi-Signature``: ``sha256=`` + hex HMAC-SHA256 with the subscription's secret over
  ``timestamp + "." + body`` (the exact bytes of the body).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time

import httpx
from django.db import connection, transaction
from django.tasks import task
from django.utils import timezone

from gongzhi.core.signing import timestamped_hmac

from .models import Attempt, Delivery, DeliveryStatus


def _setting(name: str, default: float) -> float:
    from django.conf import settings

    return float(getattr(settings, name, os.environ.get(name) or default))


def signature(secret: str, timestamp: str, body: bytes) -> str:
    return "sha256=" + timestamped_hmac(secret, timestamp, body)


def body_of(delivery: Delivery) -> bytes:
    return json.dumps(delivery.payload, ensure_ascii=False, sort_keys=True,
                      separators=(",", ":")).encode()


@task()
def deliver_webhooks(limit: int = 100) -> int:
    """Send due deliveries; returns how many were accepted (2xx)."""
    sent = 0
    for _i in range(limit):
        delivery = _claim()
        if delivery is None:
            break
        sent += _send(delivery)
    _schedule_next()
    return sent


def _claim() -> Delivery | None:
    now = timezone.now()
    lease = dt.timedelta(seconds=_setting("GONGZHI_WEBHOOK_CLAIM_SECONDS", 120))
    with transaction.atomic():
        qs = Delivery.objects.filter(status=DeliveryStatus.PENDING, not_before__lte=now)
        if connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True)
        delivery = qs.select_related("subscription").order_by("not_before", "id").first()
        if delivery is None:
            return None
        delivery.claimed_at, delivery.not_before = now, now + lease
        delivery.attempts += 1
        delivery.save(update_fields=["claimed_at", "not_before", "attempts"])
    return delivery


def _send(delivery: Delivery) -> int:
    sub = delivery.subscription
    body = body_of(delivery)
    timestamp = str(int(time.time()))
    headers = {"Content-Type": "application/json", "User-Agent": "gongzhi-webhooks/1",
               "X-Gongzhi-Event": delivery.event_type, "X-Gongzhi-Delivery": str(delivery.key),
               "X-Gongzhi-Timestamp": timestamp,
               "X-Gongzhi-Signature": signature(sub.secret, timestamp, body)}
    started = time.monotonic()
    code, error = None, ""
    try:
        response = httpx.post(sub.url, content=body, headers=headers,
                              timeout=_setting("GONGZHI_WEBHOOK_TIMEOUT", 10))
        code = response.status_code
        if not 200 <= code < 300:
            error = f"HTTP {code}: {response.text[:300]}"
    except httpx.HTTPError as exc:
        error = f"{exc.__class__.__name__}: {exc}"[:2000]
    took = int((time.monotonic() - started) * 1000)
    mine = Delivery.objects.filter(pk=delivery.pk, claimed_at=delivery.claimed_at)
    now = timezone.now()
    with transaction.atomic():
        Attempt.objects.create(delivery=delivery, at=now, status_code=code, error=error,
                               duration_ms=took)
        if not error:
            mine.update(status=DeliveryStatus.SENT, delivered_at=now, last_status_code=code,
                        last_error="")
            return 1
        if delivery.attempts >= int(_setting("GONGZHI_WEBHOOK_MAX_ATTEMPTS", 8)):
            mine.update(status=DeliveryStatus.FAILED, last_status_code=code, last_error=error)
        else:
            wait = _setting("GONGZHI_WEBHOOK_BACKOFF_SECONDS", 30) * 2 ** (delivery.attempts - 1)
            mine.update(last_status_code=code, last_error=error,
                        not_before=now + dt.timedelta(seconds=wait))
    return 0


def _schedule_next() -> None:
    from gongzhi.notifications.outbox import schedule_task

    nxt = (Delivery.objects.filter(status=DeliveryStatus.PENDING)
           .order_by("not_before").values_list("not_before", flat=True).first())
    if nxt is not None:
        schedule_task(deliver_webhooks, max(nxt, timezone.now()))
