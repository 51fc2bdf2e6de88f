"""大走访 through /api/v1/: record, list with filters, read, need → matter; scope and masking."""

import pytest

from gongzhi.matters.models import Matter
from gongzhi.visits.models import Visit

from .conftest import D, members, visit


@pytest.fixture
def ready(village, today):
    return village


def test_record_and_read(ready, api):
    t = ready
    head, _spouse = members(t.household)
    worker = api("grid_worker")
    response = worker.post("/visits", {
        "household": t.household.pk, "kind": "follow_up", "met": [head.pk],
        "notes": "张建国说身份证110105194912310021要换。电话13812341234。",
    })
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["visited_on"], body["kind"], body["visitor_role"], body["visitor_place_id"],
            body["grid_id"], body["household_address"]) == (
        "2025-03-12", "follow_up", "grid_worker", t.grid.pk, t.grid.pk, "高城寨村1号")
    assert body["met"] == [{"id": head.pk, "name": "张建国"}]
    assert "138****1234" in body["notes"] and "110105********0021" in body["notes"]
    full = api("village_secretary").get(f"/visits/{body['id']}").json()
    assert "13812341234" in full["notes"] and "110105194912310021" in full["notes"]
    # Out of scope: 404, nothing recorded; wrong input: 400 or 422 with a sentence.
    assert worker.post("/visits", {"household": t.household2.pk, "nobody_home": True}
                       ).status_code == 404
    bad = worker.post("/visits", {"household": t.household.pk, "visited_on": "2025-03-13",
                                  "nobody_home": True})
    assert bad.status_code == 400 and bad.json()["detail"] == "走访日期不能晚于今天。"
    assert worker.post("/visits", {"household": t.household.pk}).status_code == 400
    assert worker.post("/visits", {"household": t.household.pk, "kind": "party"}
                       ).status_code == 422
    assert Visit.objects.count() == 1
    assert api("supervisor").post("/visits", {"household": t.household.pk,
                                              "nobody_home": True}).status_code == 404


def test_need_becomes_a_matter(ready, api):
    t = ready
    head, spouse = members(t.household)
    worker = api("grid_worker")
    body = worker.post("/visits", {
        "household": t.household.pk, "met": [spouse.pk], "notes": "院墙裂了。",
        "matter": {"title": "院墙开裂", "ledger": "claim"}}).json()
    matter = Matter.objects.get()
    assert (matter.channel, matter.place_id, matter.reporter_person_id, matter.text) == (
        "visit", t.household.pk, spouse.pk, "院墙裂了。")
    assert [m["tracking_code"] for m in body["matters"]] == [matter.tracking_code]
    # Later, a second need from the same visit.
    response = worker.post(f"/visits/{body['id']}/matters", {
        "title": "申请残疾人补贴", "text": "李秀英想申请残疾人补贴。", "ledger": "suggestion"})
    assert response.status_code == 201
    second = Matter.objects.get(pk=response.json()["id"])
    assert second.channel == "visit" and second.visit_link.visit_id == body["id"]
    assert len(worker.get(f"/visits/{body['id']}").json()["matters"]) == 2
    # A complaint raised from the visit is not shown beside it to those who may not see its
    # reporter (the village cadre), and is to the secretary.
    complaint = worker.post(f"/visits/{body['id']}/matters",
                            {"title": "河边倒垃圾", "ledger": "complaint"}).json()
    cadre_sees = api("village_cadre").get(f"/visits/{body['id']}").json()["matters"]
    assert complaint["id"] not in [m["id"] for m in cadre_sees] and len(cadre_sees) == 2
    secretary_sees = api("village_secretary").get(f"/visits/{body['id']}").json()["matters"]
    assert complaint["id"] in [m["id"] for m in secretary_sees]
    # Someone who may see visits but not record them or raise matters: 403, nothing raised.
    denied = api("supervisor").post(f"/visits/{body['id']}/matters",
                                    {"title": "x", "ledger": "claim"})
    assert denied.status_code == 403
    # The reporter must have been met.
    wrong = worker.post(f"/visits/{body['id']}/matters",
                        {"title": "x", "ledger": "claim", "reporter_person": head.pk})
    assert wrong.status_code == 400
    assert Matter.objects.count() == 3


def test_list_filters_and_query_count(ready, api, django_assert_max_num_queries):
    t = ready
    gw, vc = t.user("grid_worker"), t.user("village_cadre")
    visit(gw, t.household, D(3, 3), kind="routine")
    visit(gw, t.extra[0], D(3, 10), kind="emergency")
    visit(vc, t.household2, D(3, 11), kind="special_group")
    visit(t.user("county_office"), t.other_household, D(3, 11))
    secretary = api("village_secretary")
    all_ = secretary.get("/visits").json()
    assert all_["count"] == 3  # the other town's visit is not the village's
    assert [v["visited_on"] for v in all_["items"]] == ["2025-03-11", "2025-03-10", "2025-03-03"]
    assert secretary.get("/visits", visitor=gw.pk).json()["count"] == 2
    assert secretary.get("/visits", kind="emergency").json()["count"] == 1
    assert secretary.get("/visits", start="2025-03-10", end="2025-03-10").json()["count"] == 1
    assert secretary.get("/visits", place=t.grid2.pk).json()["count"] == 1
    assert secretary.get("/visits", place=t.other_village.pk).status_code == 404
    # The grid worker sees the grid's visits and their own.
    assert api("grid_worker").get("/visits").json()["count"] == 2
    with django_assert_max_num_queries(9) as first:
        secretary.get("/visits")
    for n in range(4):
        visit(gw, t.extra[n + 1], D(3, 12), met=members(t.extra[n + 1]))
    with django_assert_max_num_queries(len(first.captured_queries)):
        assert secretary.get("/visits").json()["count"] == 7
