"""Recording a visit over HTTP, as a grid worker in scope; a need becomes a matter in one step,
linked both ways; what is heard is masked for those who may not see numbers."""

import re

import pytest

from gongzhi.audit.models import AuditEvent
from gongzhi.matters.models import Channel, Matter
from gongzhi.testing import login_client
from gongzhi.visits.models import Visit, VisitMatter, VisitPhoto

from .conftest import TODAY, D, members, visit

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def worker(village, today):
    return login_client(village.user("grid_worker"))


def test_search_finds_households_in_scope_only(village, worker):
    # By the head's name, by the address, by the card code; never outside the worker's grid.
    card = village.household.card_code
    for text in ("张建国", "高城寨村1号", card[-6:]):
        page = worker.get("/visits/households/search/", {"q": text}).content.decode()
        assert f"?household={village.household.pk}" in page, text
    page = worker.get("/visits/households/search/", {"q": "王桂兰"}).content.decode()  # grid2
    assert "household=" not in page and "没有找到" in page
    page = worker.get("/visits/households/search/", {"q": "东关"}).content.decode()
    assert "household=" not in page
    # With nothing typed: households due a visit, the special ones first (李秀英 is disabled;
    # 孩子16 is a left-behind child), never visited first.
    page = worker.get("/visits/households/search/").content.decode()
    order = [int(x) for x in re.findall(r"\?household=(\d+)", page)]
    assert set(order[:2]) == {village.household.pk, village.extra[-1].pk}


def test_grid_worker_records_a_visit(village, worker):
    page = worker.get("/visits/new/", {"household": village.household.pk})
    assert page.status_code == 200
    body = page.content.decode()
    assert "张建国" in body and "李秀英" in body and f'max="{TODAY:%Y-%m-%d}"' in body
    _head, spouse = members(village.household)
    response = worker.post("/visits/new/", {
        "household": village.household.pk, "visited_on": "2025-03-11", "kind": "special_group",
        "met": [spouse.pk], "notes": "李秀英轮椅坏了，儿子电话13812345678。",
    })
    assert response.status_code == 302
    v = Visit.objects.get()
    assert response["Location"] == f"/visits/{v.pk}/"
    assert (v.visitor, v.visitor_role, v.visitor_place_id) == (
        village.user("grid_worker"), "grid_worker", village.grid.pk)
    assert (v.household_id, v.grid_id, v.village_id, v.county_id) == (
        village.household.pk, village.grid.pk, village.village.pk, village.county.pk)
    assert (v.visited_on, v.kind, v.nobody_home) == (D(3, 11), "special_group", False)
    assert list(v.met.all()) == [spouse]
    event = AuditEvent.objects.get(action="visits.visit.record")
    assert event.after["met"] == [spouse.pk]
    # The worker may not see full numbers: masked on the page; the secretary sees them.
    detail = worker.get(f"/visits/{v.pk}/").content.decode()
    assert "138****5678" in detail and "13812345678" not in detail
    secretary = login_client(village.user("village_secretary"))
    assert "13812345678" in secretary.get(f"/visits/{v.pk}/").content.decode()
    listing = worker.get("/visits/").content.decode()
    assert "138****5678" in listing and "13812345678" not in listing


def test_households_out_of_scope_are_not_found(village, worker):
    for household in (village.household2, village.other_household):  # grid2, the other town
        assert worker.get("/visits/new/", {"household": household.pk}).status_code == 404
        response = worker.post("/visits/new/", {
            "household": household.pk, "visited_on": "2025-03-12", "kind": "routine",
            "nobody_home": "1"})
        assert response.status_code == 404
    assert not Visit.objects.exists()
    # Someone else's visit is not found either; a resident may not record at all.
    there = visit(village.user("county_office"), village.other_household, TODAY)
    assert worker.get(f"/visits/{there.pk}/").status_code == 404
    assert login_client(village.user("resident")).get("/visits/new/").status_code == 403


def test_what_the_form_refuses(village, worker):
    head, _spouse = members(village.household)
    base = {"household": village.household.pk, "visited_on": "2025-03-12", "kind": "routine"}
    cases = [
        ({"visited_on": "2025-03-13", "nobody_home": "1"}, "走访日期不能晚于今天。"),
        ({"met": [head.pk], "nobody_home": "1"}, "已勾选“无人在家”，就不能再选择见到的人。"),
        ({}, "请选择见到了哪位家庭成员，或勾选“无人在家”。"),
        ({"met": [members(village.household2)[0].pk]}, "所选的人员不是这户的在册成员。"),
        ({"nobody_home": "1", "raise_matter": "1"}, "请为要登记的事项写一个标题。"),
    ]
    for extra, message in cases:
        response = worker.post("/visits/new/", {**base, **extra})
        assert response.status_code == 400, extra
        assert message in response.content.decode(), extra
    assert not Visit.objects.exists()


def test_need_becomes_a_matter_in_one_step(village, worker):
    head, spouse = members(village.household)
    response = worker.post("/visits/new/", {
        "household": village.household.pk, "visited_on": "2025-03-12", "kind": "routine",
        "met": [spouse.pk, head.pk], "notes": "门前排水沟堵了，下雨就漫进院子。",
        "raise_matter": "1", "matter_title": "门前排水沟堵塞", "matter_ledger": "claim",
    })
    assert response.status_code == 302
    v = Visit.objects.get()
    matter = Matter.objects.get()
    assert (matter.channel, matter.place_id, matter.reporter_person) == (
        Channel.VISIT, village.household.pk, head)  # the head speaks for the household
    assert matter.text == "门前排水沟堵了，下雨就漫进院子。" and matter.title == "门前排水沟堵塞"
    assert list(v.matters.all()) == [matter] and matter.visit_link.visit == v
    # Shown on the visit's page (with a link) and on the matter's page (with a link back).
    page = worker.get(f"/visits/{v.pk}/").content.decode()
    assert matter.tracking_code in page and f"/matters/{matter.pk}/" in page
    secretary = login_client(village.user("village_secretary"))
    matter_page = secretary.get(f"/matters/{matter.pk}/").content.decode()
    assert "来自入户走访" in matter_page and f"/visits/{v.pk}/" in matter_page
    assert "李秀英" in matter_page


def test_need_raised_later_from_the_visit_page(village, worker):
    head, spouse = members(village.household)
    v = visit(village.user("grid_worker"), village.household, D(3, 10), met=[spouse],
              notes="想咨询残疾人补贴怎么申请。")
    response = worker.post(f"/visits/{v.pk}/matters/", {
        "title": "咨询残疾人补贴", "ledger": "suggestion", "reporter_person": spouse.pk})
    assert response.status_code == 302
    matter = Matter.objects.get()
    assert (matter.channel, matter.ledger, matter.reporter_person, matter.text) == (
        "visit", "suggestion", spouse, "想咨询残疾人补贴怎么申请。")
    assert VisitMatter.objects.get().visit == v
    assert AuditEvent.objects.filter(action="visits.visit.raise_matter").count() == 1
    # The reporter must be someone met on the visit.
    worker.post(f"/visits/{v.pk}/matters/", {"title": "再一件", "ledger": "claim",
                                              "reporter_person": head.pk})
    assert Matter.objects.count() == 1


def test_complaint_from_a_visit_does_not_name_who_was_met(village, worker):
    head, _spouse = members(village.household)
    v = visit(village.user("grid_worker"), village.household, D(3, 10), met=[head],
              notes="反映有人在河边倒垃圾。")
    worker.post(f"/visits/{v.pk}/matters/", {"title": "河边倒垃圾", "ledger": "complaint"})
    matter = Matter.objects.get()
    cadre = login_client(village.user("village_cadre"))  # may not see a complaint's reporter
    page = cadre.get(f"/matters/{matter.pk}/").content.decode()
    assert "来自入户走访" in page and f"/visits/{v.pk}/" not in page
    # Nor does the visit's page show the complaint to those who may not see its reporter; the
    # secretary (who may) sees it there.
    assert matter.tracking_code not in cadre.get(f"/visits/{v.pk}/").content.decode()
    secretary = login_client(village.user("village_secretary"))
    assert matter.tracking_code in secretary.get(f"/visits/{v.pk}/").content.decode()


def test_photos_are_served_only_through_the_visit(village, worker, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = worker.post("/visits/new/", {
        "household": village.household.pk, "visited_on": "2025-03-12", "kind": "routine",
        "nobody_home": "1",
        "photos": [SimpleUploadedFile("门口.png", PNG, content_type="image/png")]})
    assert response.status_code == 302
    photo = VisitPhoto.objects.get()
    url = f"/visits/{photo.visit_id}/photos/{photo.pk}/"
    assert worker.get(url).status_code == 200
    other = login_client(village.user("town_staff"))  # town staff: in scope
    assert other.get(url).status_code == 200
    from gongzhi.accounts.actions import do_create_user, do_grant_role

    stranger = do_create_user("east_worker", acting_user=None, county=village.county)
    do_grant_role(stranger, "grid_worker", village.other_grid, acting_user=None)
    assert login_client(stranger).get(url).status_code == 404
    bad = worker.post("/visits/new/", {
        "household": village.household.pk, "visited_on": "2025-03-12", "kind": "routine",
        "nobody_home": "1",
        "photos": [SimpleUploadedFile("a.png", b"not an image", content_type="image/png")]})
    assert bad.status_code == 400 and "不是有效的图片" in bad.content.decode()
