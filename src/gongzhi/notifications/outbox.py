"""``notify()``: what actions call to tell people something. Written in the caller's transaction;
delivered after commit by :func:`deliver_outbox` (a task). See ADR 0005.

Staff (``users``) get an in-app notification, an email if they have an address, a WeChat
template message if bound, and an SMS for the events in ``GONGZHI_SMS_STAFF_EVENTS``.
Residents (``residents``: a phone, a person or both) get an SMS and a WeChat message if bound,
in their language, outside their quiet hours unless the event is ``urgent``, and never on a
channel they opted out of (such messages are recorded as skipped with the reason).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.tasks import task
from django.utils import timezone
from django.utils.translation import gettext as _

from . import conf, preferences, rendering
from .models import Notification, OutboxMessage, OutboxStatus, WeChatBinding
from .transports import Permanent, transport_for

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 6  # the default of GONGZHI_NOTIFY_MAX_ATTEMPTS


@dataclass
class Resident:
    """A resident to tell something: by phone, by registry person, or both."""

    phone: str = ""
    person: Any = None
    user: Any = None

    @property
    def address(self) -> str:
        return preferences.normalise_phone(self.phone or getattr(self.person, "phone", ""))


def reporter_of(matter) -> Resident | None:
    """The reporter of a matter as a resident to notify, if they left a way to reach them."""
    person = matter.reporter_person
    phone = matter.reporter_phone or (person.phone if person else "")
    if not phone and person is None:
        return None
    return Resident(phone=phone, person=person)


@dataclass
class _Target:
    channel: str
    to: str
    person: Any = None
    user: Any = None
    is_resident: bool = False
    phone: str = ""


def notify(*, event: str, title: str, body: str = "", users: Iterable = (), url: str = "",
           matter=None, county_id: int | None = None, email: str = "",
           dedupe_key: str = "", residents: Iterable = (), context: dict | None = None,
           urgent: bool = False) -> None:
    """In-app notifications for ``users`` and outbox messages for them and ``residents``.

    Must be called inside the action's transaction. ``dedupe_key`` makes a repeated call
    (a periodic job running twice) a no-op. ``context`` goes to the message templates beside
    ``title``, ``body``, ``url`` and ``matter``.
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
    targets = _targets(event, recipients, [r for r in residents if r is not None], email)
    base = {"title": title, "body": body, "url": conf.absolute(url), "matter": matter,
            "event": event, **(context or {})}
    now = timezone.now()
    written = False
    for target in targets:
        key = f"{dedupe_key}:{target.to}"[:120] if dedupe_key else ""
        if key and OutboxMessage.objects.filter(channel=target.channel, dedupe_key=key).exists():
            continue
        phone = target.to if target.channel == "sms" else (
            target.phone or getattr(target.person, "phone", "")
            or getattr(target.user, "phone", ""))
        pref = preferences.find(phone)
        lang = pref.language if pref else "zh-hans"
        ctx = dict(base)
        if target.is_resident and phone:
            ctx["preferences_url"] = preferences.link_for(phone)
        text = rendering.render(event, target.channel, lang, ctx)
        msg = OutboxMessage(
            county_id=county_id, channel=target.channel, to=target.to, event=event,
            subject=text.subject[:200], body=text.body or title, data=text.data,
            url=ctx["url"][:300], matter=matter, dedupe_key=key, language=lang,
            person=target.person, user=target.user, is_resident=target.is_resident,
            urgent=urgent, created_at=now, not_before=now)
        if pref is not None and pref.opted_out(target.channel):
            msg.status = OutboxStatus.SKIPPED
            msg.skip_reason = (_("收件人已退订全部消息。") if pref.opt_out_all
                               else _("收件人已退订此渠道的消息。"))
        elif target.is_resident and not urgent:
            until = preferences.quiet_until(pref, now)
            if until is not None:
                msg.not_before = until
        try:
            with transaction.atomic():
                msg.save(force_insert=True)
        except IntegrityError:
            continue  # another process wrote the same message first
        written = written or msg.status == OutboxStatus.PENDING
    if written:
        transaction.on_commit(lambda: deliver_outbox.enqueue())


def _targets(event: str, users: list, residents: list, email: str) -> list[_Target]:
    targets: list[_Target] = []
    seen: set[tuple[str, str]] = set()

    def add(target: _Target) -> None:
        if target.to and (target.channel, target.to) not in seen:
            seen.add((target.channel, target.to))
            targets.append(target)

    if email:
        add(_Target("email", email))
    sms = conf.sms_enabled()
    wechat = conf.wechat_enabled() and bool(conf.get("GONGZHI_WECHAT_TEMPLATES").get(event))
    bindings: dict[tuple[str, int], str] = {}
    if wechat:
        person_ids = [r.person.pk for r in residents if r.person is not None]
        user_ids = [u.pk for u in users] + [r.user.pk for r in residents if r.user is not None]
        for b in WeChatBinding.objects.filter(person_id__in=person_ids).only(
                "openid", "person_id"):
            bindings[("person", b.person_id)] = b.openid
        for b in WeChatBinding.objects.filter(user_id__in=user_ids).only("openid", "user_id"):
            bindings[("user", b.user_id)] = b.openid
        phones = [r.address for r in residents if r.address]
        for b in WeChatBinding.objects.filter(phone__in=phones).only("openid", "phone"):
            bindings[("phone", b.phone)] = b.openid
    staff_sms = event in conf.get("GONGZHI_SMS_STAFF_EVENTS")
    for user in users:
        if getattr(user, "email", ""):
            add(_Target("email", user.email, user=user))
        if wechat and ("user", user.pk) in bindings:
            add(_Target("wechat", bindings[("user", user.pk)], user=user))
        if sms and staff_sms and getattr(user, "phone", ""):
            add(_Target("sms", preferences.normalise_phone(user.phone), user=user))
    for resident in residents:
        if sms and resident.address:
            add(_Target("sms", resident.address, person=resident.person, user=resident.user,
                        is_resident=True))
        openid = None
        if resident.person is not None:
            openid = bindings.get(("person", resident.person.pk))
        if openid is None and resident.user is not None:
            openid = bindings.get(("user", resident.user.pk))
        if openid is None and resident.address:
            openid = bindings.get(("phone", resident.address))
        if wechat and openid:
            add(_Target("wechat", openid, person=resident.person, user=resident.user,
                        is_resident=True, phone=resident.address))
    return targets


# ---------------------------------------------------------------------------------------------
# Delivery


@task()
def deliver_outbox(limit: int = 100) -> int:
    """Send due messages, one at a time: claim (a short transaction that takes the message
    and pushes its ``not_before`` one lease ahead), send with the message's key as the
    idempotency key, then mark it sent. A worker killed while sending leaves the message
    pending; when the lease runs out another run sends it again under the same key and the
    gateway drops the repeat. Returns how many were sent."""
    sent = 0
    safety_net = False
    for _i in range(limit):
        msg = _claim()
        if msg is None:
            break
        if not safety_net:
            # If this worker dies mid-send, a run is already queued for when the lease ends.
            _schedule(msg.not_before)
            safety_net = True
        sent += _deliver(msg)
    _schedule_next()
    return sent


def _claim() -> OutboxMessage | None:
    now = timezone.now()
    lease = dt.timedelta(seconds=float(conf.get("GONGZHI_NOTIFY_CLAIM_SECONDS")))
    with transaction.atomic():
        qs = OutboxMessage.objects.filter(status=OutboxStatus.PENDING, not_before__lte=now)
        if connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True)
        msg = qs.order_by("not_before", "id").first()
        if msg is None:
            return None
        msg.claimed_at = now
        msg.not_before = now + lease
        msg.attempts += 1
        msg.save(update_fields=["claimed_at", "not_before", "attempts"])
    return msg


def _deliver(msg: OutboxMessage) -> int:
    mine = OutboxMessage.objects.filter(pk=msg.pk, claimed_at=msg.claimed_at,
                                        status=OutboxStatus.PENDING)
    try:
        transport_for(msg.channel).send(msg)
    except Exception as exc:
        permanent = isinstance(exc, Permanent)
        error = str(exc)[:2000] or exc.__class__.__name__
        if permanent or msg.attempts >= int(conf.get("GONGZHI_NOTIFY_MAX_ATTEMPTS")):
            mine.update(status=OutboxStatus.FAILED, last_error=error)
        else:
            wait = float(conf.get("GONGZHI_NOTIFY_BACKOFF_SECONDS")) * 2 ** (msg.attempts - 1)
            mine.update(last_error=error,
                        not_before=timezone.now() + dt.timedelta(seconds=wait))
        log.warning("outbox %s (%s) attempt %s failed: %s", msg.pk, msg.channel, msg.attempts,
                    error)
        return 0
    mine.update(status=OutboxStatus.SENT, sent_at=timezone.now(), last_error="")
    return 1


def _schedule(at: dt.datetime) -> None:
    schedule_task(deliver_outbox, at)


def schedule_task(task_obj, at: dt.datetime) -> None:
    """Queue a run of ``task_obj`` at ``at`` unless one is queued by then already
    (database backend only; the immediate backend of tests has no clock)."""
    backend = task_obj.get_backend()
    if not getattr(backend, "supports_defer", False):
        return
    try:
        from django_tasks_db.models import DBTaskResult
    except ImportError:  # pragma: no cover - a dependency
        return
    from django.db.models import Q

    if DBTaskResult.objects.filter(
        Q(run_after__isnull=True) | Q(run_after__lte=at),
        task_path=task_obj.module_path, status="READY",
    ).exists():
        return
    task_obj.using(run_after=at).enqueue()


def _schedule_next() -> None:
    """After a run: the next pending message's time (a retry, a quiet window's end)."""
    nxt = (OutboxMessage.objects.filter(status=OutboxStatus.PENDING)
           .order_by("not_before").values_list("not_before", flat=True).first())
    if nxt is not None:
        _schedule(max(nxt, timezone.now()))
