"""Sending the outbox to the hotline, and the exchange log.

:func:`deliver_hotline_outbox` (a task, enqueued after each commit that wrote a message and
run every minute by the scheduler) claims one due message at a time under a row lock
(``skip_locked``: several workers never send the same one), posts it signed, and in the same
transaction marks it sent or schedules the next attempt: 1, 2, 4, 8 ... minutes after each
failure, up to :data:`MAX_ATTEMPTS`, then ``failed``. Messages of one order go in the order
they were written: a later one waits while an earlier one is still pending. Every attempt is
an :class:`~.models.Exchange` row.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import timedelta
from typing import Any

import httpx
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.tasks import task
from django.utils import timezone

from . import signing
from .models import Connection, Direction, Exchange, OutboundMessage, OutboundStatus

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8
BACKOFF_BASE = timedelta(minutes=1)
TIMEOUT_SECONDS = 10.0
EXCERPT = 1000


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failure: 1, 2, 4, 8 ... minutes."""
    return BACKOFF_BASE * (2 ** (attempts - 1))


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def log_exchange(connection: Connection, *, direction: str, kind: str, order_ref: str = "",
                 matter_id: int | None = None, message: OutboundMessage | None = None,
                 attempt: int = 0, url: str = "", request_body: str = "",
                 status_code: int | None = None, response: str = "", error: str = "",
                 duration_ms: int = 0) -> Exchange:
    return Exchange.objects.create(
        county_id=connection.county_id, connection=connection, direction=direction, kind=kind,
        order_ref=order_ref[:64], matter_id=matter_id, message=message, attempt=attempt,
        url=url[:300], request_body=request_body[:20000], status_code=status_code,
        response_excerpt=response[:EXCERPT], error=error[:300], duration_ms=duration_ms,
    )


def _due():
    earlier = OutboundMessage.objects.filter(
        order_id=OuterRef("order_id"), status=OutboundStatus.PENDING, id__lt=OuterRef("id"))
    return (OutboundMessage.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("connection")
            .filter(status=OutboundStatus.PENDING, not_before__lte=timezone.now(),
                    connection__is_active=True)
            .exclude(connection__outbound_url="")
            .exclude(Exists(earlier))
            .order_by("not_before", "id"))


def _post(msg: OutboundMessage) -> tuple[int | None, str, str, int]:
    """Send one message; returns (status code, response excerpt, error, milliseconds)."""
    body = encode(msg.payload)
    stamp = str(int(timezone.now().timestamp()))
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        signing.TIMESTAMP_HEADER: stamp,
        signing.SIGNATURE_HEADER: signing.sign(signing.outbound_secret(msg.connection), stamp,
                                               body),
        "X-Hotline-Message-Id": str(msg.pk),
    }
    started = time.monotonic()
    try:
        response = httpx.post(msg.connection.outbound_url, content=body, headers=headers,
                              timeout=TIMEOUT_SECONDS)
    except httpx.HTTPError as exc:
        took = int((time.monotonic() - started) * 1000)
        return None, "", f"{type(exc).__name__}: {exc}", took
    took = int((time.monotonic() - started) * 1000)
    return response.status_code, response.text[:EXCERPT], "", took


def deliver_one() -> OutboundMessage | None:
    """Claim, send and settle one due message; None when nothing is due."""
    with transaction.atomic():
        msg = _due().first()
        if msg is None:
            return None
        status, excerpt, error, took = _post(msg)
        msg.attempts += 1
        ok = status is not None and 200 <= status < 300
        if not ok and not error:
            error = f"HTTP {status}"
        log_exchange(msg.connection, direction=Direction.OUT, kind=msg.kind,
                     order_ref=msg.payload.get("order_id", ""),
                     matter_id=(msg.payload.get("matter") or {}).get("id"), message=msg,
                     attempt=msg.attempts, url=msg.connection.outbound_url,
                     request_body=encode(msg.payload).decode("utf-8"), status_code=status,
                     response=excerpt, error=error, duration_ms=took)
        if ok:
            msg.status = OutboundStatus.SENT
            msg.sent_at = timezone.now()
            msg.last_error = ""
        else:
            msg.last_error = error[:2000]
            if msg.attempts >= MAX_ATTEMPTS:
                msg.status = OutboundStatus.FAILED
            else:
                msg.not_before = timezone.now() + backoff(msg.attempts)
            log.warning("hotline push %s failed (attempt %s): %s", msg.pk, msg.attempts, error)
        msg.save(update_fields=["status", "attempts", "last_error", "not_before", "sent_at"])
        return msg


@task()
def deliver_hotline_outbox(limit: int = 100) -> int:
    """Send what is due; returns how many were sent. Safe to run in several workers."""
    sent = 0
    seen: set[int] = set()
    for _ in range(limit):
        msg = deliver_one()
        if msg is None or msg.pk in seen:
            break
        seen.add(msg.pk)
        sent += msg.status == OutboundStatus.SENT
    return sent
