"""议事 through /api/v1/: a 村民代表会议 (quorum two thirds of the representatives) from
creation to an adopted resolution and its minutes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from gongzhi.meetings.kinds import VILLAGER_REPS, ensure_kinds
from gongzhi.meetings.models import Meeting
from gongzhi.testing import api_client

from .meeting_helpers import villager_reps

pytestmark = pytest.mark.django_db


def test_villager_representatives_meeting_over_the_api(tree):
    kinds = ensure_kinds(tree.county)
    villager_reps(tree, 6)  # 6 invited: the quorum is 4
    client, h = api_client(tree.user("village_secretary"))
    res_client, rh = api_client(tree.user("resident"))

    def post(path, data=None, c=client, headers=h):
        return c.post(f"/api/v1{path}", data or {}, content_type="application/json",
                      headers=headers)

    r = client.get("/api/v1/meeting-kinds", headers=h)
    assert {"code": VILLAGER_REPS, "quorum": {"num": 2, "den": 3}}.items() <= next(
        k for k in r.json() if k["code"] == VILLAGER_REPS).items()
    starts = timezone.now() + dt.timedelta(days=15)
    r = post("/meetings", {"village_id": tree.village.pk, "kind_id": kinds[VILLAGER_REPS].pk,
                           "starts_at": starts.isoformat(), "location": "村委会"})
    assert r.status_code == 201
    meeting = r.json()
    assert meeting["invited_count"] == 6 and meeting["quorum_needed"] == 4
    mid = meeting["id"]

    r = post("/topics", {"title": "土地流转方案"}, c=res_client, headers=rh)
    assert r.status_code == 201
    tid = r.json()["id"]
    r = post(f"/meetings/{mid}/agenda", {"topic_id": tid})
    assert r.status_code == 200 and r.json()["meeting_id"] == mid
    assert post(f"/meetings/{mid}/freeze").json()["status"] == "frozen"
    r = post("/topics", {"village_id": tree.village.pk, "title": "临时动议"})
    late = r.json()["id"]
    r = post(f"/meetings/{mid}/agenda", {"topic_id": late})
    assert r.status_code == 400 and "紧急议题" in r.json()["detail"]
    r = post(f"/meetings/{mid}/agenda", {"topic_id": late, "urgent": True, "reason": "汛期将至"})
    assert r.status_code == 200 and r.json()["is_urgent"]

    assert post(f"/meetings/{mid}/open", {"chair": "书记"}).json()["status"] == "in_progress"
    invitations = client.get(f"/api/v1/meetings/{mid}/invitations", headers=h).json()
    assert len(invitations) == 6 and "phone" not in invitations[0]
    for inv in invitations[:3]:
        r = post(f"/meetings/{mid}/invitations/{inv['id']}/sign-in", {"present": True})
    assert r.json()["present_count"] == 3 and not r.json()["quorum_met"]
    r = post(f"/topics/{tid}/vote", {"votes_for": 3})
    assert r.status_code == 400 and r.json()["detail"] == "未达到法定人数，不能表决。"
    r = post(f"/meetings/{mid}/invitations/{invitations[3]['id']}/sign-in")
    assert r.json()["quorum_met"]
    r = post(f"/topics/{late}/consensus")
    assert r.status_code == 400 and "不能以协商一致代替" in r.json()["detail"]
    r = post(f"/topics/{tid}/vote", {"votes_for": 2, "votes_against": 1, "abstentions": 1})
    assert r.status_code == 201 and r.json()["vote"]["passed"] is False  # 2 of 4 is not more
    r = post(f"/topics/{late}/vote", {"votes_for": 3, "votes_against": 1})
    assert r.status_code == 201 and r.json()["vote"]["passed"] is True
    r = post(f"/topics/{late}/resolution", {
        "text": "组织清理河道", "deadline": (starts + dt.timedelta(days=20)).date().isoformat(),
        "responsible_org_id": tree.department.pk})
    assert r.status_code == 201
    rid = r.json()["id"]
    assert r.json()["matter_id"] is None and r.json()["progress"]["percent"] == 0
    r = post(f"/resolutions/{rid}/adopt", c=res_client, headers=rh)
    assert r.status_code == 404  # the resident cannot see the meeting's resolutions
    r = post(f"/resolutions/{rid}/adopt")
    assert r.status_code == 201 and r.json()["matter_id"]
    assert r.json()["progress"]["percent"] == 25
    assert post(f"/meetings/{mid}/close").json()["status"] == "closed"

    topics = client.get(f"/api/v1/meetings/{mid}/topics", headers=h).json()
    assert [t["status"] for t in topics] == ["rejected", "decided"]
    r = client.get(f"/api/v1/meetings/{mid}/minutes", headers=h)
    assert r.status_code == 200 and r.content[:5] == b"%PDF-"
    r = client.get(f"/api/v1/meetings/{mid}/minutes?format=html", headers=h)
    assert "赞成 3 票，反对 1 票" in r.content.decode()
    assert Meeting.objects.get(pk=mid).quorum_met
    listed = client.get("/api/v1/meetings?upcoming=false", headers=h).json()
    assert listed["count"] == 1
