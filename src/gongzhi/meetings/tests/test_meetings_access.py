"""Who may do what in 议事 (the role table in ``permissions.py``), through pages and the API.

- residents propose and second topics for their own village, but never see the staff pages
  or record anything (pages: the meeting is not theirs to see, 404; API: 403 on the topic);
- grid workers see the meetings and propose topics, but neither second, arrange the agenda
  nor record votes (403);
- village cadres arrange the agenda and record the meeting, but do not turn resolutions into
  assigned matters or manage members (403); the village secretary does;
- everything of another village is a 404.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from gongzhi.meetings import actions
from gongzhi.meetings.kinds import SHUOSHI, ensure_kinds
from gongzhi.meetings.models import Member, MemberGroup, Topic
from gongzhi.places.models import Person
from gongzhi.testing import api_client, login_client

from .meeting_helpers import resident, villager_reps

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(tree):
    sec = tree.user("village_secretary")
    kinds = ensure_kinds(tree.county)
    villager_reps(tree, 2)
    meeting = actions.do_create_meeting(tree.village, kinds[SHUOSHI], acting_user=sec,
                                        title="说事议事会",
                                        starts_at=timezone.now() + dt.timedelta(days=20))
    topic = actions.do_propose_topic(tree.village, acting_user=sec, title="修路")
    other = actions.do_create_meeting(tree.other_village, kinds[SHUOSHI], acting_user=None,
                                      title="东关议事会",
                                      starts_at=timezone.now() + dt.timedelta(days=20))
    other_topic = actions.do_propose_topic(tree.other_village, acting_user=None, title="修桥")
    return meeting, topic, other, other_topic


def test_resident_proposes_and_seconds_but_records_nothing(tree, setup):
    meeting, topic, _other, other_topic = setup
    res = login_client(tree.user("resident"))
    assert res.get("/meetings/topics/").status_code == 200
    assert res.post("/meetings/topics/propose/", {"title": "增设垃圾桶"}).status_code == 302
    assert Topic.objects.get(title="增设垃圾桶").source == "resident"
    assert res.post(f"/meetings/topics/{topic.pk}/second/").status_code == 302
    topic.refresh_from_db()
    assert topic.seconds_count == 1
    # Another village's topic does not exist for them; neither can they propose there.
    assert res.post(f"/meetings/topics/{other_topic.pk}/second/").status_code == 404
    assert res.post("/meetings/topics/propose/", {"village": tree.other_village.pk,
                                                  "title": "x"}).status_code == 404
    # Staff pages and recording are not theirs.
    assert res.get("/meetings/").status_code == 403
    assert res.get(f"/meetings/{meeting.pk}/").status_code == 404
    assert res.post(f"/meetings/{meeting.pk}/agenda/add/", {"topic": topic.pk}).status_code == 404
    assert res.get(f"/meetings/{meeting.pk}/minutes.pdf").status_code == 404
    assert res.get("/meetings/members/").status_code == 403

    client, headers = api_client(tree.user("resident"))
    r = client.post("/api/v1/topics", {"title": "路灯维修"}, content_type="application/json",
                    headers=headers)
    assert r.status_code == 201 and r.json()["source"] == "resident"
    mine = r.json()["id"]
    r = client.post(f"/api/v1/topics/{mine}/seconds", headers=headers)
    assert r.status_code == 400 and "不能附议自己" in r.json()["detail"]
    r = client.post(f"/api/v1/topics/{topic.pk}/vote", {"votes_for": 1},
                    content_type="application/json", headers=headers)
    assert r.status_code == 403
    assert client.get(f"/api/v1/meetings/{meeting.pk}", headers=headers).status_code == 404
    assert client.get(f"/api/v1/topics/{other_topic.pk}", headers=headers).status_code == 404


def test_grid_worker_proposes_but_does_not_second_or_record(tree, setup):
    meeting, topic, _other, _ot = setup
    gw = login_client(tree.user("grid_worker"))
    assert gw.get(f"/meetings/{meeting.pk}/").status_code == 200
    assert gw.post("/meetings/topics/propose/", {"title": "走访收集：修缮水渠"}).status_code == 302
    assert Topic.objects.get(title="走访收集：修缮水渠").source == "staff"
    assert gw.post(f"/meetings/topics/{topic.pk}/second/").status_code == 403
    assert gw.post(f"/meetings/{meeting.pk}/agenda/add/", {"topic": topic.pk}).status_code == 403
    assert gw.post(f"/meetings/{meeting.pk}/open/").status_code == 403
    client, headers = api_client(tree.user("grid_worker"))
    r = client.post(f"/api/v1/meetings/{meeting.pk}/agenda", {"topic_id": topic.pk},
                    content_type="application/json", headers=headers)
    assert r.status_code == 403


def test_cadre_runs_the_meeting_but_does_not_adopt_or_manage(tree, setup):
    meeting, topic, other, _ot = setup
    cadre = login_client(tree.user("village_cadre"))
    assert cadre.post(f"/meetings/{meeting.pk}/agenda/add/",
                      {"topic": topic.pk}).status_code == 302
    assert cadre.post(f"/meetings/{meeting.pk}/open/").status_code == 302
    for inv in meeting.invitations.all():
        cadre.post(f"/meetings/{meeting.pk}/sign-in/{inv.pk}/", {"present": "1"})
    r = cadre.post(f"/meetings/{meeting.pk}/topics/{topic.pk}/vote/", {"votes_for": 2})
    assert r.status_code == 302
    deadline = (timezone.localdate() + dt.timedelta(days=40)).isoformat()
    r = cadre.post(f"/meetings/{meeting.pk}/topics/{topic.pk}/resolution/", {
        "text": "村里自筹修路", "deadline": deadline, "responsible_org": tree.department.pk})
    assert r.status_code == 302
    resolution = topic.resolution
    r = cadre.post(f"/meetings/{meeting.pk}/resolutions/{resolution.pk}/adopt/")
    assert r.status_code == 403
    resolution.refresh_from_db()
    assert resolution.matter_id is None
    assert cadre.get("/meetings/members/").status_code == 403
    # The village secretary does adopt it.
    sec = login_client(tree.user("village_secretary"))
    assert sec.post(f"/meetings/{meeting.pk}/resolutions/{resolution.pk}/adopt/").status_code == 302
    resolution.refresh_from_db()
    assert resolution.matter.responsible_org_id == tree.department.pk
    # Another village's meeting does not exist for them.
    assert cadre.get(f"/meetings/{other.pk}/").status_code == 404
    assert cadre.post(f"/meetings/{other.pk}/open/").status_code == 404
    assert sec.get(f"/meetings/{other.pk}/minutes.pdf").status_code == 404


def test_members_are_managed_within_scope(tree):
    sec = login_client(tree.user("village_secretary"))
    zhang = Person.objects.get(name="张建国")
    zhao = Person.objects.get(name="赵志强")  # lives in the other village
    r = sec.get("/meetings/members/people/", {"village": tree.village.pk, "q": "张"})
    assert "张建国" in r.content.decode() and "138" not in r.content.decode()
    r = sec.post("/meetings/members/add/", {"village": tree.village.pk,
                                            "group": MemberGroup.PARTY_MEMBER,
                                            "person": zhang.pk})
    assert r.status_code == 302
    assert Member.objects.get(person=zhang).village_id == tree.village.pk
    r = sec.post("/meetings/members/add/", {"village": tree.village.pk,
                                            "group": MemberGroup.PARTY_MEMBER,
                                            "person": zhang.pk})
    assert r.status_code == 400 and "已是该群体的成员" in r.content.decode()
    assert sec.post("/meetings/members/add/", {"village": tree.village.pk, "group": "sages",
                                               "person": zhao.pk}).status_code == 404
    assert sec.post("/meetings/members/add/", {"village": tree.other_village.pk,
                                               "group": "sages", "name": "x"}).status_code == 404
    r = sec.post("/meetings/members/add/", {"village": tree.village.pk,
                                            "group": MemberGroup.STATIONED_UNIT,
                                            "name": "县供电所"})
    assert r.status_code == 302
    unit = Member.objects.get(name="县供电所")
    assert sec.post(f"/meetings/members/{unit.pk}/remove/").status_code == 302
    unit.refresh_from_db()
    assert not unit.is_active
    sec.get("/meetings/members/", {"village": tree.village.pk})  # shows (and clears) notices
    page = sec.get("/meetings/members/", {"village": tree.village.pk}).content.decode()
    assert "张建国" in page and "县供电所" not in page


def test_kinds_are_set_by_the_county(tree):
    county = login_client(tree.user("county_office"))
    sec = login_client(tree.user("village_secretary"))
    assert "村民代表会议" in sec.get("/meetings/kinds/").content.decode()
    assert sec.get("/meetings/kinds/new/").status_code == 403
    r = county.post("/meetings/kinds/new/", {
        "name": "乡贤议事会", "invitee_groups": ["sages", "villager_rep"], "quorum_num": "1",
        "quorum_den": "2", "quorum_strict": "1", "decision": "majority_present",
        "allows_consensus": "1", "freeze_days": "7", "is_active": "1"})
    assert r.status_code == 302
    kinds = ensure_kinds(tree.county)
    local = next(k for k in kinds.values() if k.name == "乡贤议事会")
    assert local.code.startswith("local") and local.freeze_days == 7
    assert local.quorum == {"num": 1, "den": 2, "strict": True}
    r = county.post(f"/meetings/kinds/{local.pk}/", {
        "name": "乡贤议事会", "invitee_groups": ["sages"], "quorum_num": "3", "quorum_den": "2",
        "decision": "majority_present", "freeze_days": "7", "is_active": "1"})
    assert r.status_code == 400 and "法定人数的写法有误" in r.content.decode()


def test_public_pages_need_no_login_and_only_villages(tree, setup, client):
    meeting, *_rest = setup
    assert client.get(f"/meetings/public/{tree.village.pk}/").status_code == 200
    assert client.get(f"/meetings/public/{tree.village.pk}/{meeting.pk}/").status_code == 200
    assert client.get(f"/meetings/public/{tree.town.pk}/").status_code == 404
    assert client.get(f"/meetings/public/{tree.other_village.pk}/{meeting.pk}/").status_code == 404
    assert client.get("/meetings/topics/").status_code == 302  # login to propose


def test_a_second_resident_of_the_village_and_one_of_another(tree, setup):
    _meeting, topic, _other, other_topic = setup
    neighbour = resident(tree, "res_li")
    far = resident(tree, "res_far", household=tree.other_household)
    assert login_client(neighbour).post(f"/meetings/topics/{topic.pk}/second/").status_code == 302
    assert login_client(far).post(f"/meetings/topics/{topic.pk}/second/").status_code == 404
    assert login_client(far).post(
        f"/meetings/topics/{other_topic.pk}/second/").status_code == 302
    topic.refresh_from_db()
    other_topic.refresh_from_db()
    assert topic.seconds_count == 1 and other_topic.seconds_count == 1


@pytest.mark.parametrize(("role", "pages"), [
    ("village_secretary", {"/meetings/": 200, "/meetings/?view=calendar": 200,
                           "/meetings/new/": 200, "/meetings/members/": 200,
                           "/meetings/schedules/": 200, "/meetings/kinds/": 200,
                           "/meetings/topics/": 200}),
    ("village_cadre", {"/meetings/": 200, "/meetings/kinds/": 200, "/meetings/new/": 403,
                       "/meetings/schedules/": 403, "/meetings/topics/": 200}),
    ("supervisor", {"/meetings/": 200, "/meetings/topics/": 403, "/meetings/kinds/": 200}),
    ("town_secretary", {"/meetings/": 200, "/meetings/members/": 200}),
    ("department_liaison", {"/meetings/": 403, "/meetings/topics/": 403}),
])
def test_staff_pages_by_role(tree, setup, role, pages):
    meeting, *_rest = setup
    c = login_client(tree.user(role))
    for url, status in pages.items():
        assert c.get(url).status_code == status, url
    expected = 200 if role != "department_liaison" else 404
    assert c.get(f"/meetings/{meeting.pk}/").status_code == expected
