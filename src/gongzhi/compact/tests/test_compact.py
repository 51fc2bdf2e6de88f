"""The village compact over HTTP: an amendment adopted by a recorded vote publishes a new
version and the old one stays readable; without a passing vote nothing is published.
Associations with members and their own meeting; moral review results reaching the 红榜."""

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from gongzhi.board.models import HonourList
from gongzhi.compact import actions
from gongzhi.compact.models import (
    AmendmentStatus,
    Association,
    Compact,
    CompactVersion,
    ImmutableVersion,
)
from gongzhi.core.errors import ActionError
from gongzhi.meetings import actions as meetings
from gongzhi.meetings.kinds import TWO_COMMITTEES, VILLAGER_REPS, ensure_kinds
from gongzhi.meetings.models import Invitation, Meeting, MemberGroup, Resolution
from gongzhi.places.models import Person
from gongzhi.testing import login_client


def DEADLINE():
    return (timezone.localdate() + dt.timedelta(days=30)).isoformat()


ARTICLES = "爱党爱国，遵纪守法。\n红白喜事从简办理。\n维护公共卫生，不乱倒垃圾。"


@pytest.fixture
def compact(tree):
    client = login_client(tree.user("village_secretary"))
    response = client.post("/compact/register/", {
        "village": tree.village.pk, "title": "高城寨村村规民约", "articles": ARTICLES,
        "adopted_on": "2019-03-01", "basis": "2019年3月村民会议通过"})
    assert response.status_code == 302, response.content.decode()
    return Compact.objects.get(village=tree.village)


def _meeting(tree, code=VILLAGER_REPS, reps=3):
    for i in range(reps):
        meetings.do_add_member(tree.village, MemberGroup.VILLAGER_REPRESENTATIVE,
                               acting_user=None, name=f"代表{i + 1}")
        meetings.do_add_member(tree.village, MemberGroup.COMMITTEE, acting_user=None,
                               name=f"委员{i + 1}")
    kind = ensure_kinds(tree.county)[code]
    return meetings.do_create_meeting(tree.village, kind, acting_user=None, title="村民代表会议",
                                      starts_at=timezone.now() + dt.timedelta(days=20))


def _propose(client, compact):
    response = client.post(f"/compact/{compact.pk}/amend/", {
        "reason": "移风易俗，明确彩礼标准。",
        "articles": ARTICLES.replace("红白喜事从简办理。", "红白喜事从简办理，彩礼不超过三万元。")
        + "\n禁止在河道倾倒垃圾。"})
    assert response.status_code == 302, response.content.decode()
    return compact.amendments.get(status=AmendmentStatus.PROPOSED)


def _sign_all_in(client, meeting):
    assert client.post(f"/meetings/{meeting.pk}/open/", {"chair": "王书记"}).status_code == 302
    for inv in Invitation.objects.filter(meeting=meeting):
        client.post(f"/meetings/{meeting.pk}/sign-in/{inv.pk}/", {"present": "1"})


def test_amendment_adopted_by_vote_publishes_new_version(tree, compact):
    secretary = login_client(tree.user("village_secretary"))
    amendment = _propose(secretary, compact)
    assert [c["op"] for c in amendment.changes] == ["change", "add"]
    meeting = _meeting(tree)
    assert secretary.post(f"/compact/amendments/{amendment.pk}/schedule/",
                          {"meeting": meeting.pk}).status_code == 302
    amendment.topic.refresh_from_db()
    assert amendment.topic.meeting_id == meeting.pk
    _sign_all_in(secretary, meeting)
    topic = amendment.topic
    assert secretary.post(f"/meetings/{meeting.pk}/topics/{topic.pk}/vote/", {
        "votes_for": "5", "votes_against": "1"}).status_code == 302
    amendment.refresh_from_db()
    assert amendment.status == AmendmentStatus.PASSED
    assert compact.versions.count() == 1  # a vote alone does not publish
    response = secretary.post(f"/meetings/{meeting.pk}/topics/{topic.pk}/resolution/", {
        "text": "通过村规民约修订。", "deadline": DEADLINE(),
        "responsible_name": "村民委员会"})
    assert response.status_code == 302
    amendment.refresh_from_db()
    assert amendment.status == AmendmentStatus.ADOPTED
    v2 = compact.versions.get(number=2)
    assert v2.resolution == Resolution.objects.get(topic=topic)
    assert "彩礼不超过三万元" in v2.articles[1] and len(v2.articles) == 4
    # Public: the current text, the history with the meeting, and the old text at its URL.
    page = Client().get(f"/compact/public/{tree.village.pk}/").content.decode()
    assert "彩礼不超过三万元" in page and "第 2 版" in page and "村民代表会议" in page
    assert "赞成 5" in page
    old = Client().get(f"/compact/public/{tree.village.pk}/v1/")
    assert old.status_code == 200
    text = old.content.decode()
    assert "历史版本" in text and "彩礼" not in text and "红白喜事从简办理。" in text
    api = Client().get(f"/api/v1/public/compacts/{tree.village.pk}").json()
    assert api["current"]["number"] == 2 and api["current"]["meeting_id"] == meeting.pk
    assert [v["number"] for v in api["history"]] == [2, 1]
    # Versions are never edited in place.
    v1 = compact.versions.get(number=1)
    v1.articles = ["改了"]
    with pytest.raises(ImmutableVersion):
        v1.save()
    with pytest.raises(ImmutableVersion):
        CompactVersion.objects.filter(pk=v1.pk).update(articles=[])
    with pytest.raises(ImmutableVersion):
        v1.delete()
    assert CompactVersion.objects.get(pk=v1.pk).articles[1] == "红白喜事从简办理。"


def test_amendment_without_passing_vote_is_refused(tree, compact):
    secretary = login_client(tree.user("village_secretary"))
    amendment = _propose(secretary, compact)
    # Only one open amendment at a time.
    again = secretary.post(f"/compact/{compact.pk}/amend/", {"reason": "再改",
                                                             "articles": "一条。"})
    assert again.status_code == 400 and "已有一项修订" in again.content.decode()
    # A kind of meeting that may not adopt a compact is refused.
    two = _meeting(tree, TWO_COMMITTEES)
    secretary.post(f"/compact/amendments/{amendment.pk}/schedule/", {"meeting": two.pk})
    amendment.topic.refresh_from_db()
    assert amendment.topic.meeting_id is None
    meeting = _meeting(tree, reps=0)
    secretary.post(f"/compact/amendments/{amendment.pk}/schedule/", {"meeting": meeting.pk})
    _sign_all_in(secretary, meeting)
    topic = amendment.topic
    # Consensus is no vote: refused, nothing recorded.
    response = secretary.post(f"/meetings/{meeting.pk}/topics/{topic.pk}/consensus/")
    assert response.status_code == 400
    # A vote that fails: the amendment is rejected; a resolution cannot be recorded.
    assert secretary.post(f"/meetings/{meeting.pk}/topics/{topic.pk}/vote/", {
        "votes_for": "2", "votes_against": "4"}).status_code == 302
    amendment.refresh_from_db()
    assert amendment.status == AmendmentStatus.REJECTED
    response = secretary.post(f"/meetings/{meeting.pk}/topics/{topic.pk}/resolution/", {
        "text": "通过。", "deadline": DEADLINE(),
        "responsible_name": "村民委员会"})
    assert response.status_code == 400
    with pytest.raises(ActionError):
        actions.do_adopt_amendment(amendment, resolution=None, acting_user=None)
    assert compact.versions.count() == 1
    page = Client().get(f"/compact/public/{tree.village.pk}/").content.decode()
    assert "彩礼" not in page


def test_association_meeting_and_moral_review_to_honour_list(tree):
    secretary = login_client(tree.user("village_secretary"))
    assert secretary.post("/compact/associations/", {
        "village": tree.village.pk, "kind": "moral"}).status_code == 302
    association = Association.objects.get()
    assert association.name == "道德评议会"
    people = list(Person.objects.filter(village_id=tree.village.pk).order_by("pk"))
    for person, role in zip(people, ["president", "member"], strict=False):
        assert secretary.post(f"/compact/associations/{association.pk}/members/", {
            "person": person.pk, "role": role}).status_code == 302
    assert association.members.filter(is_active=True).count() == 2
    # A village representative meeting does not invite association members, and vice versa.
    meetings.do_add_member(tree.village, MemberGroup.VILLAGER_REPRESENTATIVE, acting_user=None,
                           name="代表甲")
    starts = (timezone.localtime() + dt.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    assert secretary.post(f"/compact/associations/{association.pk}/meetings/", {
        "starts_at": starts}).status_code == 302
    meeting = Meeting.objects.get(association=association.meeting_key)
    invited = sorted(Invitation.objects.filter(meeting=meeting)
                     .values_list("member__person_id", flat=True))
    assert invited == sorted(p.pk for p in people[:2])
    page = secretary.get(f"/compact/associations/{association.pk}/").content.decode()
    assert meeting.title in page
    # A moral review round: one commended household, one criticism.
    review = actions.do_open_review(association, acting_user=tree.user("village_cadre"),
                                    title="2026年第一季度道德评议",
                                    held_on=timezone.localdate(), meeting=meeting)
    cadre = login_client(tree.user("village_cadre"))
    assert cadre.post(f"/compact/reviews/{review.pk}/results/", {
        "household": tree.household.pk, "verdict": "commend", "honour": "好婆媳",
        "reason": "照顾残疾家人十年如一日"}).status_code == 302
    assert cadre.post(f"/compact/reviews/{review.pk}/results/", {
        "household": tree.household2.pk, "verdict": "criticise",
        "reason": "乱倒垃圾"}).status_code == 302
    assert cadre.post(f"/compact/reviews/{review.pk}/honour/").status_code == 302
    assert not HonourList.objects.exists()  # not before the round is concluded
    cadre.post(f"/compact/reviews/{review.pk}/conclude/")
    assert cadre.post(f"/compact/reviews/{review.pk}/honour/").status_code == 302
    hl = HonourList.objects.get()
    entries = list(hl.entries.values_list("name", "reason"))
    assert hl.kind == "red" and hl.status == "draft" and len(entries) == 1
    assert entries[0][0].startswith("高城寨村1号") and "张建国" not in entries[0][0]
    assert entries[0][1] == "好婆媳：照顾残疾家人十年如一日"


def test_withdrawing_an_amendment_takes_its_topic_off_the_agenda(tree, compact):
    from gongzhi.audit.models import AuditEvent
    from gongzhi.meetings.models import Topic, TopicStatus

    secretary = login_client(tree.user("village_secretary"))
    amendment = _propose(secretary, compact)
    secretary.post(f"/compact/amendments/{amendment.pk}/withdraw/", {"reason": ""})
    amendment.refresh_from_db()
    assert amendment.status == AmendmentStatus.PROPOSED  # a reason is needed
    secretary.post(f"/compact/amendments/{amendment.pk}/withdraw/", {"reason": "再议"})
    amendment.refresh_from_db()
    topic = Topic.objects.get(pk=amendment.topic_id)
    assert amendment.status == AmendmentStatus.WITHDRAWN
    assert topic.status == TopicStatus.WITHDRAWN and topic.meeting_id is None
    assert AuditEvent.objects.filter(action="meetings.topic.withdraw",
                                     object_id=str(topic.pk)).exists()
