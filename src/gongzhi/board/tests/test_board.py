"""The public board: what is published, and that nothing identifying ever reaches it."""

import pytest
from defusedxml import ElementTree as ET
from django.test import Client

from gongzhi.accounts.models import User
from gongzhi.audit.models import AuditEvent
from gongzhi.board.actions import do_publish_matter
from gongzhi.core.errors import ActionError
from gongzhi.evaluation.actions import do_submit_evaluation
from gongzhi.evaluation.models import EvaluationRequest
from gongzhi.matters import workflow
from gongzhi.matters.actions import (
    do_adopt_preset,
    do_merge_matters,
    do_raise_matter,
    matter_settings,
)
from gongzhi.matters.models import Category, EventKind, Matter, MatterEvent
from gongzhi.testing import login_client

REPORTER = "王小明"
REPORTER_PHONE = "13900001111"
SECRETARY_NAME = "刘建华"
ATOM = "{http://www.w3.org/2005/Atom}"


def raise_one(tree, **kw):
    args = dict(place=tree.grid, title="村口路灯不亮", channel="walk_in", ledger="claim",
                text="村口路灯坏了一个月，联系电话13812345678，身份证11010519491231002X。",
                reporter_name=REPORTER, reporter_phone=REPORTER_PHONE,
                acting_user=tree.user("grid_worker"),
                category=Category.objects.get(county=tree.county, code="infrastructure"))
    args.update(kw)
    return do_raise_matter(**args)


def walk_to_evaluation(tree, matter, *, result="已更换灯泡。"):
    sec = tree.user("village_secretary")
    matter = workflow.do_transition(matter, "accept", acting_user=sec)
    matter = workflow.do_transition(matter, "report_result", acting_user=sec,
                                    fields={"outcome": "solved", "outcome_text": result})
    return workflow.do_transition(
        matter, "give_feedback", acting_user=sec,
        comment=f"已电话告知{REPORTER}（{REPORTER_PHONE}），{SECRETARY_NAME}跟进。")


def rate(matter, outcome="satisfied"):
    req = EvaluationRequest.objects.get(matter=matter, status="pending")
    do_submit_evaluation(req, outcome=outcome)
    return Matter.objects.get(pk=matter.pk)


@pytest.fixture
def board(tree):
    """A county on the default preset (publish_on_close): one matter closed and published, one
    open, one complaint closed, one merged duplicate; the secretary has a real name."""
    matter_settings(tree.county)
    User.objects.filter(pk=tree.user("village_secretary").pk).update(
        display_name=SECRETARY_NAME)
    published = rate(walk_to_evaluation(tree, raise_one(tree)))
    open_one = raise_one(tree, title="二组水渠堵塞", text="水渠堵了。")
    complaint = raise_one(tree, ledger="complaint", title="举报村会计挪用资金",
                          text="村会计挪用集体资金，举报人电话13700001111。",
                          reporter_name="赵六", reporter_phone="13700001111",
                          accused_organisation=tree.department)
    complaint = rate(walk_to_evaluation(tree, complaint, result="经核查已责令退还。"))
    survivor = raise_one(tree, title="垃圾清运不及时", text="垃圾三天没人收。")
    duplicate = raise_one(tree, title="垃圾没人收（重复）", text="垃圾三天没人收了。")
    do_merge_matters(duplicate, survivor, acting_user=tree.user("village_secretary"))
    return {"published": published, "open": open_one, "complaint": complaint,
            "duplicate": Matter.objects.get(pk=duplicate.pk), "survivor": survivor}


FORBIDDEN = [REPORTER, "王*", REPORTER_PHONE, "139****1111", "13812345678",
             "11010519491231002X", SECRETARY_NAME, "赵六", "13700001111", "挪用集体资金"]


def assert_anonymous(html: str) -> None:
    for text in FORBIDDEN:
        assert text not in html, text


def test_board_shows_only_published_matters_anonymised(tree, board):
    published = board["published"]
    assert published.is_public and published.published_at and published.is_closed
    response = Client().get(f"/board/{tree.village.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "村口路灯不亮" in html
    assert "138****5678" in html  # phones in the text are masked, not dropped
    assert "110105********002X" in html
    assert "二组水渠堵塞" not in html  # still open, not published
    assert "垃圾没人收（重复）" not in html and not board["duplicate"].is_public
    assert_anonymous(html)
    # The whole county's board and the town's list the village's matters too.
    for place in (tree.town, tree.county):
        page = Client().get(f"/board/{place.pk}/").content.decode()
        assert "村口路灯不亮" in page
        assert_anonymous(page)
    # The other town's board does not.
    assert "村口路灯不亮" not in Client().get(f"/board/{tree.other_town.pk}/").content.decode()


def test_matter_page_shows_timeline_as_roles_outcome_and_rating(tree, board):
    published = board["published"]
    response = Client().get(f"/board/{tree.village.pk}/matters/{published.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "已更换灯泡" in html and "已解决" in html
    assert "满意" in html  # the reporter's rating
    assert "村（社区）书记" in html  # staff shown as their role
    assert "公示" in html  # the publication is a public step
    assert published.tracking_code not in html
    assert_anonymous(html)
    assert "刘*" in html  # the secretary's name in the comment, masked
    # An unpublished matter has no public page, nor does one under another place.
    assert Client().get(f"/board/{tree.village.pk}/matters/{board['open'].pk}/").status_code == 404
    assert Client().get(
        f"/board/{tree.other_village.pk}/matters/{published.pk}/").status_code == 404


def test_complaint_shows_no_text(tree, board):
    complaint = board["complaint"]
    assert complaint.is_public
    html = Client().get(f"/board/{tree.village.pk}/").content.decode()
    assert "投诉举报已办结" in html
    assert "举报村会计挪用资金" not in html
    page = Client().get(f"/board/{tree.village.pk}/matters/{complaint.pk}/").content.decode()
    assert "投诉举报已办结" in page and "基础设施" in page and "高城寨村" in page
    assert "经核查已责令退还" not in page and "举报村会计" not in page
    assert_anonymous(page)


def test_complaint_details_when_policy_allows(tree, board):
    settings = matter_settings(tree.county)
    settings.policy = {**settings.policy, "publish_complaint_details": True}
    settings.save(update_fields=["policy"])
    page = Client().get(
        f"/board/{tree.village.pk}/matters/{board['complaint'].pk}/").content.decode()
    assert "举报村会计挪用资金" in page
    assert "赵六" not in page and "13700001111" not in page and "137****1111" not in page


def test_merged_matters_are_never_published(tree, board):
    duplicate = board["duplicate"]
    with pytest.raises(ActionError):
        do_publish_matter(duplicate, acting_user=tree.user("village_secretary"))
    duplicate.refresh_from_db()
    assert not duplicate.is_public
    assert Client().get(f"/board/{tree.village.pk}/matters/{duplicate.pk}/").status_code == 404


def test_publication_is_audited_and_happens_once(tree, board):
    published = board["published"]
    assert MatterEvent.objects.filter(matter=published, kind=EventKind.PUBLISHED,
                                      is_public=True).count() == 1
    assert AuditEvent.objects.filter(action="board.matter.publish",
                                     object_id=str(published.pk)).count() == 1


def test_policy_without_publish_on_close_keeps_matters_off(tree):
    settings = matter_settings(tree.county)
    settings.policy = {**settings.policy, "publish_on_close": False}
    settings.save(update_fields=["policy"])
    matter = rate(walk_to_evaluation(tree, raise_one(tree)))
    assert matter.is_closed and not matter.is_public
    assert "村口路灯不亮" not in Client().get(f"/board/{tree.village.pk}/").content.decode()


def test_disclosure_stage_publishes(tree):
    do_adopt_preset(tree.county, "anze", acting_user=None)
    sec = tree.user("village_secretary")
    matter = raise_one(tree)
    matter = workflow.do_transition(matter, "accept", acting_user=sec)
    matter = workflow.do_transition(matter, "report_result", acting_user=sec,
                                    fields={"outcome": "solved", "outcome_text": "已修好。"})
    matter = workflow.do_transition(matter, "give_feedback", acting_user=sec, comment="已告知。")
    assert not matter.is_public
    matter = rate(matter)
    assert matter.stage_kind == "disclosure" and matter.is_public
    matter = workflow.do_transition(matter, "archive", acting_user=sec)
    assert matter.is_closed
    assert MatterEvent.objects.filter(matter=matter, kind=EventKind.PUBLISHED).count() == 1


def test_withdraw_by_hand_and_policy_leaves_it_off(tree, board):
    published = board["published"]
    client = login_client(tree.user("village_secretary"))
    url = f"/board/manage/matters/{published.pk}/publish/"
    assert login_client(tree.user("grid_worker")).post(
        url, {"withdraw": "1", "reason": "含有姓名"}).status_code == 403
    response = client.post(url, {"withdraw": "1", "reason": "内容含有当事人姓名"})
    assert response.status_code == 302
    published.refresh_from_db()
    assert not published.is_public
    assert AuditEvent.objects.filter(action="board.matter.withdraw").exists()
    assert "村口路灯不亮" not in Client().get(f"/board/{tree.village.pk}/").content.decode()
    do_publish_matter(published, acting_user=None, by_policy=True)
    published.refresh_from_db()
    assert not published.is_public
    client.post(url, {})  # published again by hand
    published.refresh_from_db()
    assert published.is_public


def test_filters_figures_and_pagination(tree, board):
    url = f"/board/{tree.village.pk}/"
    closed = Client().get(url, {"status": "closed"}).content.decode()
    assert "村口路灯不亮" in closed
    assert "村口路灯不亮" not in Client().get(url, {"status": "open"}).content.decode()
    other = Category.objects.get(county=tree.county, code="neighbour")
    assert "村口路灯不亮" not in Client().get(url, {"category": other.pk}).content.decode()
    assert "村口路灯不亮" not in Client().get(url, {"month": "2001-01"}).content.decode()
    response = Client().get(url)
    summary = response.context["summary"]
    # Received: four (the merged duplicate is not counted); closed: the two rated ones.
    assert (summary.received, summary.closed) == (4, 2)
    assert summary.closed_percent == "50.0%"
    assert (summary.answered, summary.satisfied, summary.no_answer) == (2, 2, 0)
    assert summary.satisfaction_percent == "100.0%"
    assert Client().get(url, {"page": "99"}).status_code == 200
    assert Client().get(f"/board/{tree.grid.pk}/").status_code == 404  # no board below villages


def test_index_links_down(tree, board):
    html = Client().get("/board/").content.decode()
    assert f"/board/{tree.county.pk}/" in html
    county = Client().get(f"/board/{tree.county.pk}/").content.decode()
    assert f"/board/{tree.town.pk}/" in county and f"/board/{tree.other_town.pk}/" in county
    town = Client().get(f"/board/{tree.town.pk}/").content.decode()
    assert f"/board/{tree.village.pk}/" in town


def test_atom_feed_is_valid_and_anonymised(tree, board):
    response = Client().get(f"/board/{tree.village.pk}/feed.atom")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    body = response.content.decode()
    root = ET.fromstring(response.content)
    assert root.tag == f"{ATOM}feed"
    titles = [e.findtext(f"{ATOM}title") for e in root.findall(f"{ATOM}entry")]
    assert "村口路灯不亮" in titles and "投诉举报已办结" in titles
    assert "二组水渠堵塞" not in titles and "垃圾没人收（重复）" not in titles
    for entry in root.findall(f"{ATOM}entry"):
        assert entry.findtext(f"{ATOM}id") and entry.find(f"{ATOM}link") is not None
        assert entry.findtext(f"{ATOM}updated")
    assert "138****5678" in body
    assert_anonymous(body)
    assert board["published"].tracking_code not in body
    assert Client().get(f"/board/{tree.grid.pk}/feed.atom").status_code == 404


def test_public_board_api(tree, board):
    client = Client()
    response = client.get(f"/api/v1/public/boards/{tree.village.pk}")
    assert response.status_code == 200
    assert response.json()["summary"]["received"] == 4
    response = client.get(f"/api/v1/public/boards/{tree.village.pk}/matters")
    assert response.status_code == 200
    items = response.json()["items"]
    assert {i["title"] for i in items} == {"村口路灯不亮", "投诉举报已办结"}
    complaint = next(i for i in items if i["is_complaint"])
    assert complaint["text"] is None and not complaint["details_shown"]
    assert_anonymous(response.content.decode())
    detail = client.get(f"/api/v1/public/boards/{tree.village.pk}/matters/{board['published'].pk}")
    assert detail.status_code == 200 and detail.json()["events"]
    assert_anonymous(detail.content.decode())
    assert client.get(
        f"/api/v1/public/boards/{tree.village.pk}/matters/{board['open'].pk}").status_code == 404


def test_matter_page_panel(tree, board):
    published = board["published"]
    html = login_client(tree.user("village_secretary")).get(
        f"/matters/{published.pk}/").content.decode()
    assert 'id="panel-board"' in html and "撤下公示" in html
    assert f"/board/{tree.village.pk}/matters/{published.pk}/" in html
    # Not public and no right to publish: no panel.
    worker = login_client(tree.user("grid_worker")).get(f"/matters/{board['open'].pk}/")
    assert 'id="panel-board"' not in worker.content.decode()


def test_board_query_count_does_not_grow(tree, board, django_assert_max_num_queries):
    url = f"/board/{tree.county.pk}/"
    with django_assert_max_num_queries(12) as first:
        Client().get(url)
    for _i in range(5):
        rate(walk_to_evaluation(tree, raise_one(tree)))
    with django_assert_max_num_queries(len(first.captured_queries)):
        response = Client().get(url)
    assert len(response.context["matters"]) == 7


def test_village_board_links_to_agenda_and_disclosures(tree):
    from django.test import Client

    page = Client().get(f"/board/{tree.village.pk}/").content.decode()
    assert f"/meetings/public/{tree.village.pk}/" in page
    assert f"/meetings/public/{tree.village.pk}/disclosures/" in page
    town_page = Client().get(f"/board/{tree.town.pk}/").content.decode()
    assert "/meetings/public/" not in town_page
