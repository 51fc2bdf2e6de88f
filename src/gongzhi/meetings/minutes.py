"""The minutes (会议纪要) as a printable A4 document: attendance (invited, present and absent
by name — names only, never phones or ID numbers), the agenda, discussion, votes and
resolutions. Rendered from a Django template to HTML, then to PDF with WeasyPrint."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.template.loader import render_to_string
from django.utils import timezone

from .kinds import DECISIONS, quorum_label, quorum_needed, quorum_reached
from .models import Meeting, TopicStatus

TEMPLATE = "meetings/minutes.html"


def minutes_context(meeting: Meeting) -> dict[str, Any]:
    invitations = list(meeting.invitations.select_related("member").order_by("group", "pk"))
    present = [i for i in invitations if i.signed_in_at]
    absent = [i for i in invitations if not i.signed_in_at]
    topics = list(
        meeting.topics.exclude(status=TopicStatus.WITHDRAWN)
        .select_related("vote", "resolution", "resolution__matter",
                        "resolution__responsible_org", "matter")
        .order_by("order", "pk")
    )
    for t in topics:
        t.vote_or_none = related(t, "vote")
        t.resolution_or_none = related(t, "resolution")
    return {
        "meeting": meeting,
        "kind": meeting.kind,
        "village": meeting.village,
        "invitations": invitations,
        "present": present,
        "absent": absent,
        "quorum_text": quorum_label(meeting.kind.quorum),
        "quorum_needed": quorum_needed(meeting.kind.quorum, len(invitations)),
        "quorum_met": quorum_reached(meeting.kind.quorum, len(invitations), len(present)),
        "decision_text": DECISIONS.get(meeting.kind.decision, meeting.kind.decision),
        "topics": topics,
        "generated_at": timezone.now(),
    }


def related(obj, name: str):
    """A reverse one-to-one (a topic's vote or resolution), or None."""
    try:
        return getattr(obj, name)
    except ObjectDoesNotExist:
        return None


def minutes_html(meeting: Meeting) -> str:
    return render_to_string(TEMPLATE, minutes_context(meeting))


def minutes_pdf(meeting: Meeting, html: str | None = None) -> bytes:
    from weasyprint import HTML

    return HTML(string=html or minutes_html(meeting)).write_pdf()
