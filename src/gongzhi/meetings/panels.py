"""The 议事 panel on the matter page: the meeting that decided it ("由……决议"), with the
resolution and its progress; the topics it is on; and, for staff who may, a form to put the
open matter on the agenda (any open matter can become a topic)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from .access import may_at_village
from .models import Meeting, Resolution, Topic, TopicStatus
from .progress import resolution_progress


def matter_panel(request, matter) -> dict[str, Any] | None:
    user = request.user
    resolutions = list(Resolution.objects.filter(matter=matter).select_related(
        "topic__meeting__kind", "matter__workflow").order_by("created_at"))
    topics = list(Topic.objects.filter(matter=matter).select_related("meeting")
                  .order_by("-created_at")[:10])
    decided_topics = {r.topic_id for r in resolutions}
    for t in topics:
        t.resolution_or_none = t.pk in decided_topics
    visible = set()
    meeting_ids = {r.topic.meeting_id for r in resolutions} | {
        t.meeting_id for t in topics if t.meeting_id}
    if meeting_ids:
        visible = set(Meeting.objects.restrict(user, "view").filter(pk__in=meeting_ids)
                      .values_list("pk", flat=True))
    decided = []
    for r in resolutions:
        meeting = r.topic.meeting
        decided.append({
            "resolution": r, "meeting": meeting, "progress": resolution_progress(r),
            "url": reverse("meetings:detail", args=[meeting.pk]) if meeting.pk in visible
            else reverse("meetings:public_meeting", args=[meeting.village_id, meeting.pk]),
        })
    village = matter.village
    may_propose = bool(
        village is not None and not matter.is_closed and not matter.merged_into_id
        and not decided
        and not any(t.status in (TopicStatus.PROPOSED, TopicStatus.ON_AGENDA) for t in topics)
        and may_at_village(user, "meetings.propose", village)
        and may_at_village(user, "meetings.view", village)
    )
    if not decided and not topics and not may_propose:
        return None
    return {"meeting_decided": decided, "meeting_topics": topics,
            "meeting_visible": visible, "meeting_may_propose": may_propose,
            "meeting_propose_url": reverse("meetings:propose")}
