"""Writing and verifying the audit chain. Actions call :func:`record`; nothing else writes."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils import timezone

from gongzhi.core.context import current_request_id

from .models import AuditChain, AuditEvent


def to_json(value: Any) -> Any:
    """Normalise to plain JSON (dates, decimals, UUIDs as strings) so hashing is stable."""
    if value is None:
        return None
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False))


def snapshot(obj: models.Model, fields: list[str] | None = None) -> dict[str, Any]:
    """The concrete field values of a model instance, for ``before``/``after``."""
    data = {}
    for field in obj._meta.concrete_fields:
        if fields is not None and field.name not in fields and field.attname not in fields:
            continue
        data[field.attname] = field.value_from_object(obj)
    return to_json(data)


def _digest(prev_hash: str, payload: dict[str, Any]) -> str:
    body = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def _payload(event: AuditEvent) -> dict[str, Any]:
    at = event.at.astimezone(UTC).isoformat(timespec="microseconds")
    return {
        "chain": event.chain,
        "seq": event.seq,
        "county": event.county_id,
        "at": at,
        "actor": event.actor_id,
        "actor_label": event.actor_label,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "object_repr": event.object_repr,
        "before": event.before,
        "after": event.after,
        "request_id": event.request_id,
    }


# Called with (event, obj) after each event is written, inside the same transaction: other
# apps (webhooks) turn events into rows of their own that commit or roll back with the change.
listeners: list = []


def add_listener(listener) -> None:
    if listener not in listeners:
        listeners.append(listener)


def chain_key(county_id: int | None) -> str:
    return f"county:{county_id}" if county_id else "global"


def record(
    action: str,
    *,
    actor=None,
    obj: models.Model | None = None,
    county_id: int | None = None,
    before: Any = None,
    after: Any = None,
    object_type: str = "",
    object_id: str | int = "",
    object_repr: str = "",
) -> AuditEvent:
    """Append one event to its county's chain. Must run inside the action's transaction.

    The chain head is locked (``SELECT ... FOR UPDATE``) only for the append, so call this as
    the last step of an action to keep the lock short.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit.record() must run inside the action's transaction")
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
        object_repr = object_repr or str(obj)[:200]
        if county_id is None:
            county_id = getattr(obj, "county_id", None)
    key = chain_key(county_id)
    AuditChain.objects.get_or_create(key=key)
    head = AuditChain.objects.select_for_update().get(key=key)
    actor_obj = actor if getattr(actor, "is_authenticated", False) else None
    event = AuditEvent(
        chain=key,
        seq=head.last_seq + 1,
        county_id=county_id,
        at=timezone.now(),
        actor=actor_obj,
        actor_label=(actor_obj.get_username() if actor_obj else (str(actor) if actor else ""))[
            :150
        ],
        action=action,
        object_type=object_type,
        object_id=str(object_id) if object_id != "" else "",
        object_repr=object_repr[:200],
        before=to_json(before),
        after=to_json(after),
        request_id=current_request_id(),
        prev_hash=head.last_hash,
    )
    event.hash = _digest(event.prev_hash, _payload(event))
    event.save(force_insert=True)
    head.last_seq = event.seq
    head.last_hash = event.hash
    head.save(update_fields=["last_seq", "last_hash"])
    for listener in listeners:
        listener(event, obj)
    return event


@dataclass
class Breach:
    chain: str
    seq: int
    reason: str

    def __str__(self) -> str:
        return f"{self.chain} #{self.seq}: {self.reason}"


def verify(chain: str | None = None, batch: int = 5000) -> list[Breach]:
    """Walk each chain in order; report the first breach per chain (an empty list if sound)."""
    heads = AuditChain.objects.all()
    if chain:
        heads = heads.filter(key=chain)
    breaches: list[Breach] = []
    for head in heads.order_by("key"):
        breach = _verify_chain(head, batch)
        if breach:
            breaches.append(breach)
    return breaches


def _verify_chain(head: AuditChain, batch: int) -> Breach | None:
    expected_seq = 1
    prev_hash = ""
    last_seq = 0
    while True:
        events = list(
            AuditEvent.objects.filter(chain=head.key, seq__gte=expected_seq).order_by("seq")[
                :batch
            ]
        )
        if not events:
            break
        for event in events:
            if event.seq != expected_seq:
                return Breach(head.key, expected_seq, "event missing (deleted?)")
            if event.prev_hash != prev_hash:
                return Breach(head.key, event.seq, "link to the previous event broken")
            if _digest(event.prev_hash, _payload(event)) != event.hash:
                return Breach(head.key, event.seq, "content altered")
            prev_hash = event.hash
            last_seq = event.seq
            expected_seq += 1
    if last_seq != head.last_seq:
        return Breach(head.key, last_seq + 1, "events after this point are missing")
    if prev_hash != head.last_hash:
        return Breach(head.key, last_seq, "chain head does not match the last event")
    return None
