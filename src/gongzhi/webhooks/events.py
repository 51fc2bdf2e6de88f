"""Which audit events become webhook events, and what their payloads say.

Payloads describe the matter or meeting by identifiers, stage, category and place only: never
a title, text, name, phone or anything else that could identify a reporter.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from gongzhi.audit.log import to_json

from .models import EventType


def _place(obj) -> dict[str, Any] | None:
    place = getattr(obj, "place", None)
    if place is None:
        return None
    return {"id": place.pk, "kind": place.kind, "name": place.name}


def matter_data(matter) -> dict[str, Any]:
    return to_json({
        "id": matter.pk, "tracking_code": matter.tracking_code, "ledger": matter.ledger,
        "channel": matter.channel, "urgency": matter.urgency,
        "category": matter.category.name if matter.category_id else None,
        "place": _place(matter), "stage": matter.stage, "stage_kind": matter.stage_kind,
        "stage_deadline": matter.stage_deadline, "is_closed": matter.is_closed,
        "reopen_count": matter.reopen_count, "created_at": matter.created_at,
        "accepted_at": matter.accepted_at, "closed_at": matter.closed_at,
    })


def meeting_data(meeting) -> dict[str, Any]:
    return to_json({
        "id": meeting.pk, "title": meeting.title, "kind": meeting.kind.name,
        "status": meeting.status, "starts_at": meeting.starts_at,
        "location": meeting.location, "place": _place(meeting),
        "closed_at": meeting.closed_at,
    })


ACTIONS = frozenset({
    "matters.matter.raise", "matters.matter.transition", "evaluation.matter.reopen",
    "evaluation.evaluation.create", "meetings.meeting.create", "meetings.resolution.create",
    "meetings.meeting.close",
})


def events_for(event, obj) -> list[tuple[str, int, dict[str, Any]]]:
    """(event type, county id, data) for an audit event; empty for events not pushed."""
    action = event.action
    if obj is None:
        return []
    if action == "matters.matter.raise":
        return [(EventType.MATTER_RAISED, obj.county_id, {"matter": matter_data(obj)})]
    if action == "matters.matter.transition":
        after = event.after or {}
        data = {"matter": matter_data(obj), "transition": after.get("transition"),
                "trigger": after.get("trigger") or None}
        out = [(EventType.MATTER_TRANSITIONED, obj.county_id, data)]
        if obj.is_closed:
            out.append((EventType.MATTER_CLOSED, obj.county_id, {"matter": matter_data(obj)}))
        return out
    if action == "evaluation.matter.reopen":
        return [(EventType.MATTER_REOPENED, obj.county_id, {"matter": matter_data(obj)})]
    if action == "evaluation.evaluation.create":
        return [(EventType.MATTER_EVALUATED, obj.county_id, {
            "matter": matter_data(obj.matter),
            "evaluation": {"id": obj.pk, "kind": obj.kind, "via": obj.via,
                           "outcome": obj.outcome}})]
    if action == "meetings.meeting.create":
        return [(EventType.MEETING_SCHEDULED, obj.county_id, {"meeting": meeting_data(obj)})]
    if action == "meetings.resolution.create":
        topic = obj.topic
        return [(EventType.MEETING_RESOLUTION, obj.county_id, to_json({
            "resolution": {"id": obj.pk, "deadline": obj.deadline,
                           "matter": obj.matter.tracking_code if obj.matter_id else None},
            "meeting": meeting_data(topic.meeting) if topic.meeting_id else None}))]
    if action == "meetings.meeting.close":
        return [(EventType.MEETING_MINUTES, obj.county_id, {"meeting": meeting_data(obj)})]
    return []


def envelope(key, event_type: str, county_id: int, data: dict[str, Any]) -> dict[str, Any]:
    return {"id": str(key), "type": str(event_type), "county": county_id,
            "occurred_at": timezone.now().isoformat(), "data": data}
