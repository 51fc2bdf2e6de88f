"""红黑榜: drafted, submitted, approved by someone else (four eyes), published, withdrawn."""

import pytest
from defusedxml import ElementTree as ET
from django.test import Client

from gongzhi.audit.log import verify
from gongzhi.audit.models import AuditEvent
from gongzhi.board.models import HonourList, ListStatus
from gongzhi.testing import login_client

ATOM = "{http://www.w3.org/2005/Atom}"


def form(tree, **kw):
    data = {"place": tree.village.pk, "kind": "red", "title": "2026年第一季度红榜",
            "period_label": "2026年第一季度", "period_start": "2026-01-01",
            "period_end": "2026-03-31", "intro": "表扬热心公益的村民。", "entry_kind": "person",
            "entries": "张建国｜带头捐资修路\n户｜李家｜人居环境整治示范户\n"
                       "单位|县供电公司|及时抢修"}
    data.update(kw)
    return data


def create(client, tree, **kw) -> HonourList:
    response = client.post("/board/manage/lists/new/", form(tree, **kw))
    assert response.status_code == 302, response.content.decode()[:3000]
    return HonourList.objects.order_by("-pk").first()


def step(client, hl, name, **data):
    return client.post(f"/board/manage/lists/{hl.pk}/{name}/", data)


def board_html(place) -> str:
    return Client().get(f"/board/{place.pk}/").content.decode()


def test_lifecycle_with_four_eyes_and_audit(tree):
    cadre = login_client(tree.user("village_cadre"))
    secretary = login_client(tree.user("village_secretary"))
    assert cadre.get("/board/manage/lists/new/?kind=red").status_code == 200
    hl = create(cadre, tree)
    assert hl.status == ListStatus.DRAFT and hl.created_by == tree.user("village_cadre")
    assert "2026年第一季度红榜" in cadre.get("/board/manage/lists/").content.decode()
    edit = cadre.get(f"/board/manage/lists/{hl.pk}/edit/").content.decode()
    assert "户｜李家｜人居环境整治示范户" in edit
    assert [(e.kind, e.name) for e in hl.entries.all()] == [
        ("person", "张建国"), ("household", "李家"), ("unit", "县供电公司")]
    assert "2026年第一季度红榜" not in board_html(tree.village)

    assert step(cadre, hl, "submit").status_code == 302
    hl.refresh_from_db()
    assert hl.status == ListStatus.SUBMITTED
    # The author's role may not approve at all; a submitted list cannot be edited.
    assert step(cadre, hl, "approve").status_code == 403
    assert cadre.get(f"/board/manage/lists/{hl.pk}/edit/").status_code == 302
    # Publishing before approval is refused with a sentence, and changes nothing.
    response = step(secretary, hl, "publish")
    assert response.status_code == 400 and "审批" in response.content.decode()
    hl.refresh_from_db()
    assert hl.status == ListStatus.SUBMITTED

    assert step(secretary, hl, "approve").status_code == 302
    hl.refresh_from_db()
    assert hl.status == ListStatus.APPROVED and hl.approved_by == tree.user("village_secretary")
    assert "2026年第一季度红榜" not in board_html(tree.village)  # approved is not yet published

    assert step(secretary, hl, "publish").status_code == 302
    hl.refresh_from_db()
    assert hl.status == ListStatus.PUBLISHED and hl.published_at
    for place in (tree.village, tree.town, tree.county):
        assert "2026年第一季度红榜" in board_html(place)
    page = Client().get(f"/board/{tree.village.pk}/lists/{hl.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "张建国" in html and "带头捐资修路" in html and "人居环境整治示范户" in html
    feed = ET.fromstring(Client().get(f"/board/{tree.village.pk}/feed.atom").content)
    assert any("2026年第一季度红榜" in (e.findtext(f"{ATOM}title") or "")
               for e in feed.findall(f"{ATOM}entry"))

    response = step(secretary, hl, "withdraw", reason="")
    assert response.status_code == 400 and "原因" in response.content.decode()
    assert step(secretary, hl, "withdraw", reason="名单有误，核实后重发").status_code == 302
    hl.refresh_from_db()
    assert hl.status == ListStatus.WITHDRAWN and hl.withdraw_reason == "名单有误，核实后重发"
    assert "2026年第一季度红榜" not in board_html(tree.village)
    assert Client().get(f"/board/{tree.village.pk}/lists/{hl.pk}/").status_code == 404

    actions = list(AuditEvent.objects.filter(action__startswith="board.list.",
                                             object_id=str(hl.pk)).order_by("seq")
                   .values_list("action", "actor__username"))
    assert actions == [
        ("board.list.create", "u_village_cadre"), ("board.list.submit", "u_village_cadre"),
        ("board.list.approve", "u_village_secretary"),
        ("board.list.publish", "u_village_secretary"),
        ("board.list.withdraw", "u_village_secretary"),
    ]
    assert verify() == []


def test_author_may_not_approve_own_list(tree):
    secretary = login_client(tree.user("village_secretary"))
    hl = create(secretary, tree, kind="black", title="不文明行为曝光")
    assert step(secretary, hl, "submit").status_code == 302
    response = step(secretary, hl, "approve")
    assert response.status_code == 403
    hl.refresh_from_db()
    assert hl.status == ListStatus.SUBMITTED
    page = secretary.get(f"/board/manage/lists/{hl.pk}/").content.decode()
    assert "须由其他有审批权限的人审批" in page
    # Another holder of matters.publish approves: the town secretary.
    assert step(login_client(tree.user("town_secretary")), hl, "approve").status_code == 302
    hl.refresh_from_db()
    assert hl.status == ListStatus.APPROVED


def test_return_to_draft_and_edit(tree):
    cadre = login_client(tree.user("village_cadre"))
    secretary = login_client(tree.user("village_secretary"))
    hl = create(cadre, tree)
    step(cadre, hl, "submit")
    assert step(secretary, hl, "return", reason="请补充事由").status_code == 302
    hl.refresh_from_db()
    assert hl.status == ListStatus.DRAFT and hl.returned_reason == "请补充事由"
    response = cadre.post(f"/board/manage/lists/{hl.pk}/edit/",
                          form(tree, entries="王桂兰｜照顾孤寡老人十年"))
    assert response.status_code == 302
    assert [e.name for e in hl.entries.all()] == ["王桂兰"]
    assert AuditEvent.objects.filter(action="board.list.update", object_id=str(hl.pk)).exists()


@pytest.mark.parametrize("entries", [
    "张建国｜带头修路，电话13812341234",
    "张建国 11010519491231002X｜带头修路",
    "张建国｜带头修路，电话 138 1234 1234",
])
def test_phone_or_id_numbers_refused(tree, entries):
    cadre = login_client(tree.user("village_cadre"))
    response = cadre.post("/board/manage/lists/new/", form(tree, entries=entries))
    assert response.status_code == 400
    assert "电话号码或身份证号" in response.content.decode()
    assert not HonourList.objects.exists()


def test_malformed_lines_and_bad_period_refused(tree):
    cadre = login_client(tree.user("village_cadre"))
    response = cadre.post("/board/manage/lists/new/", form(tree, entries="只有名字"))
    assert response.status_code == 400 and "名称｜事由" in response.content.decode()
    response = cadre.post("/board/manage/lists/new/",
                          form(tree, period_start="2026-04-01", period_end="2026-03-01"))
    assert response.status_code == 400 and "起始日期" in response.content.decode()
    assert not HonourList.objects.exists()


def test_scope_and_roles(tree):
    # A grid worker reads lists but may not draft; a resident sees no staff pages.
    assert login_client(tree.user("grid_worker")).get("/board/manage/lists/new/").status_code == 403
    assert login_client(tree.user("resident")).get("/board/manage/lists/").status_code == 403
    assert Client().get("/board/manage/lists/").status_code == 302  # to the login page
    # Lists of another village are not visible to this village's staff.
    other = _other_village_secretary(tree)
    hl = create(login_client(other), tree, place=tree.other_village.pk)
    cadre = login_client(tree.user("village_cadre"))
    assert cadre.get(f"/board/manage/lists/{hl.pk}/").status_code == 404
    assert step(cadre, hl, "submit").status_code == 404
    # Nor can a list be drafted for a place outside one's own.
    response = cadre.post("/board/manage/lists/new/", form(tree, place=tree.other_village.pk))
    assert response.status_code == 400
    assert HonourList.objects.count() == 1


def _other_village_secretary(tree):
    from gongzhi.accounts.actions import do_create_user, do_grant_role

    user = do_create_user("other_sec", acting_user=None, county=tree.county)
    do_grant_role(user, "village_secretary", tree.other_village, acting_user=None)
    return user


def test_public_list_api(tree):
    cadre = login_client(tree.user("village_cadre"))
    secretary = login_client(tree.user("village_secretary"))
    hl = create(cadre, tree)
    step(cadre, hl, "submit")
    response = Client().get(f"/api/v1/public/boards/{tree.village.pk}/honour-lists")
    assert response.json() == {"items": [], "count": 0}
    step(secretary, hl, "approve")
    step(secretary, hl, "publish")
    body = Client().get(f"/api/v1/public/boards/{tree.town.pk}/honour-lists").json()
    assert body["count"] == 1
    assert [e["name"] for e in body["items"][0]["entries"]] == ["张建国", "李家", "县供电公司"]
