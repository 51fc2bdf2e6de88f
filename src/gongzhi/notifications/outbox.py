"""``notify()``: what actions call to tell people something. Written in the caller's transaction;
delivered after commit by :func:`deliver_outbox` (a task)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta

from django.core.mail import mailers
from django.db import IntegrityError, transaction
from django.tasks import task
from django.utils import timezone

from .models import Notification, OutboxMessage, OutboxStatus

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 6


def notify(*, event: str, title: str, body: str = "", users: Iterable = (), url: str = "",
           matter=None, county_id: int | None = None, email: str = "",
           dedupe_key: str = "") -> None:
    """In-app notifications for ``users`` and, if given, an email in the outbox.

    Must be called inside the action's transaction. ``dedupe_key`` makes a repeated call
    (a periodic job running twice) a no-op for the outbox.
    """
    county_id = county_id or (matter.county_id if matter is not None else None)
    recipients = [u for u in users if u is not None]
    if dedupe_key and recipients and Notification.objects.filter(
        event=event, user__in=recipients, matter=matter, title=title[:200]
    ).exists():
        recipients = []
    Notification.objects.bulk_create([
        Notification(county_id=county_id, user=u, event=event, title=title[:200], body=body,
                     url=url, matter=matter)
        for u in recipients
    ])
    addresses = [email] if email else []
    addresses += [u.email for u in recipients if getattr(u, "email", "")]
    for address in dict.fromkeys(addresses):
        key = f"{dedupe_key}:{address}"[:120] if dedupe_key else ""
        if key and OutboxMessage.objects.filter(channel="email", dedupe_key=key).exists():
            continue
        try:
            with transaction.atomic():
                OutboxMessage.objects.create(county_id=county_id, channel="email", to=address,
                                             event=event, subject=title[:200], body=body or title,
                                             matter=matter, dedupe_key=key)
        except IntegrityError:
            continue  # another process wrote the same message first
    if addresses:
        transaction.on_commit(lambda: deliver_outbox.enqueue())


@task()
def deliver_outbox(limit: int = 100) -> int:
    """Send due messages. Each is claimed under a row lock and marked sent in the same
    transaction as the send, so a crash before commit leaves it pending, never sent twice
    by two workers; a crash after the send but before commit is the one window, kept to a
    single message."""
    sent = 0
    for _ in range(limit):
        with transaction.atomic():
            msg = (OutboxMessage.objects.select_for_update(skip_locked=True)
                   .filter(status=OutboxStatus.PENDING, not_before__lte=timezone.now())
                   .order_by("created_at").first())
            if msg is None:
                break
            try:
                _send(msg)
            except Exception as exc:
                msg.attempts += 1
                msg.last_error = str(exc)[:2000]
                if msg.attempts >= MAX_ATTEMPTS:
                    msg.status = OutboxStatus.FAILED
                else:
                    msg.not_before = timezone.now() + timedelta(minutes=2 ** msg.attempts)
                msg.save(update_fields=["attempts", "last_error", "status", "not_before"])
                log.warning("outbox %s failed: %s", msg.pk, exc)
                continue
            msg.status = OutboxStatus.SENT
            msg.attempts += 1
            msg.sent_at = timezone.now()
            msg.save(update_fields=["status", "attempts", "sent_at"])
            sent += 1
    return sent


def _send(msg: OutboxMessage) -> None:
    if msg.channel == "email":
        mailers.default.send_messages([_email(msg)])
        return
    raise NotImplementedError(f"channel {msg.channel} has no transport configured")


def _email(msg: OutboxMessage):
    from django.conf import settings
    from django.core.mail import EmailMessage

    return EmailMessage(subject=msg.subject, body=msg.body, from_email=settings.DEFAULT_FROM_EMAIL,
                        to=[msg.to])
