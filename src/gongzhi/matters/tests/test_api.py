"""Matters through /api/v1/: list, filter, raise, read, transitions, timeline, notes; who may
know the reporter; the public view by tracking code; the OpenAPI schema."""

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from gongzhi.accounts.actions import do_create_user, do_grant_role
from gongzhi.audit.models import AuditEvent
from gongzhi.matters.actions import do_raise_matter, matter_settings
from gongzhi.matters.models import Category, Matter, MatterEvent
from gongzhi.places.models import Person
from gongzhi.testing import api_client


class Api:
    def __init__(self, user):
        self.client, self.headers = api_client(user)

    def get(self, url, **params):
        return self.client.get(f"/api/v1{url}", params, headers=self.headers)

    def post(self, url, data=None):
        return self.client.post(f"/api/v1{url}", data=json.dumps(data or {}),
                                content_type="application/json", headers=self.headers)


@pytest.fixture
def api(tree):
    matter_settings(tree.county)
    return lambda role: Api(tree.user(role))


def raise_one(tree, **kw):
    args = dict(place=tree.grid, title="村口路灯不亮", text="村口路灯坏了一个月。",
                channel="walk_in", ledger="claim", reporter_name="王小明",
                reporter_phone="13900001111", acting_user=tree.user("grid_worker"))
    args.update(kw)
    return do_raise_matter(**args)


def other_village_secretary(tree):
    user = do_create_user("other_sec", acting_user=None, county=tree.county)
    do_grant_role(user, "village_secretary", tree.other_village, acting_user=None)
    return user


# ---------------------------------------------------------------- list and filters


def test_list_is_scoped_and_filtered(tree, api, django_assert_max_num_queries):
    cat = Category.objects.get(county=tree.county, code="environment")
    here = raise_one(tree, category=cat)
    complaint = raise_one(tree, ledger="complaint", title="举报乱倒垃圾", text="有人乱倒垃圾。")
    there = raise_one(tree, place=tree.other_grid, title="东关下水道堵塞", text="堵了。",
                      acting_user=tree.user("county_office"))
    Matter.objects.filter(pk=complaint.pk).update(
        stage_deadline=timezone.now() - timedelta(hours=1))
    sec = api("village_secretary")
    with django_assert_max_num_queries(8):
        response = sec.get("/matters")
    assert response.status_code == 200
    body = response.json()
    ids = {m["id"] for m in body["items"]}
    assert ids == {here.pk, complaint.pk} and body["count"] == 2
    first = body["items"][0]
    assert first["stage_name"] == "登记受理" and first["place_name"] == "第一网格"
    assert "reporter_name" not in first and "reporter" not in first

    def ids_of(**params):
        r = sec.get("/matters", **params)
        assert r.status_code == 200, r.content
        return {m["id"] for m in r.json()["items"]}

    assert ids_of(ledger="complaint") == {complaint.pk}
    assert ids_of(category=cat.pk) == {here.pk}
    assert ids_of(overdue="true") == {complaint.pk}
    assert ids_of(overdue="false") == {here.pk}
    assert ids_of(q="乱倒") == {complaint.pk}
    assert ids_of(q=here.tracking_code) == {here.pk}
    assert ids_of(stage="intake", channel="walk_in") == {here.pk, complaint.pk}
    assert ids_of(place=tree.grid.pk) == {here.pk, complaint.pk}
    assert ids_of(place=tree.grid2.pk) == set()
    assert sec.get("/matters", place=tree.other_village.pk).status_code == 404
    assert sec.get("/matters", ledger="nonsense").status_code == 422
    assert there.pk in {m["id"] for m in api("county_office").get("/matters").json()["items"]}
    assert api("resident").get("/matters").json()["count"] == 0


# ---------------------------------------------------------------- raise


def test_raise_on_behalf(tree, api):
    cat = Category.objects.get(county=tree.county, code="infrastructure")
    person = Person.objects.get(name="张建国")
    worker = api("grid_worker")
    response = worker.post("/matters", {
        "place_id": tree.grid.pk, "title": "路面塌陷", "text": "三组路面塌陷一米见方。",
        "channel": "visit", "ledger": "claim", "category_id": cat.pk, "urgency": "urgent",
        "reporter_person_id": person.pk,
    })
    assert response.status_code == 201, response.content
    body = response.json()
    matter = Matter.objects.get(pk=body["id"])
    assert body["tracking_code"] == matter.tracking_code and len(body["tracking_code"]) == 10
    assert matter.reporter_person == person and matter.urgency == "urgent"
    assert matter.created_by == tree.user("grid_worker")
    assert body["reporter"]["person_id"] == person.pk
    assert body["transitions"] == []  # the village's queue: grid staff do not act on it
    assert AuditEvent.objects.filter(action="matters.matter.raise",
                                     object_id=str(matter.pk)).exists()
    # A look-alike is offered for merging.
    again = worker.post("/matters", {"place_id": tree.grid.pk, "title": "路面塌陷",
                                     "text": "三组路面塌陷一米见方。", "channel": "visit",
                                     "ledger": "claim", "category_id": cat.pk})
    assert again.status_code == 201
    assert [s["id"] for s in again.json()["similar"]] == [matter.pk]


def test_raise_refusals(tree, api):
    worker = api("grid_worker")
    base = {"title": "路灯", "text": "坏了。", "channel": "walk_in", "ledger": "claim"}
    assert worker.post("/matters", {**base, "place_id": tree.other_grid.pk}).status_code == 404
    response = worker.post("/matters", {**base, "place_id": tree.grid.pk, "title": " "})
    assert response.status_code == 400 and response.json()["detail"] == "请填写事项标题。"
    response = worker.post("/matters", {**base, "place_id": tree.grid.pk, "category_id": 999999})
    assert response.status_code == 400
    assert worker.post("/matters", {**base, "place_id": tree.grid.pk,
                                    "channel": "pigeon"}).status_code == 422
    # A resident may see their household but not raise on anyone's behalf.
    resident = api("resident")
    response = resident.post("/matters", {**base, "place_id": tree.household.pk})
    assert response.status_code == 403 and response.json()["detail"]
    assert Matter.objects.count() == 0


# ---------------------------------------------------------------- read


def test_get_with_transitions_and_scope(tree, api):
    matter = raise_one(tree)
    response = api("village_secretary").get(f"/matters/{matter.pk}")
    assert response.status_code == 200
    body = response.json()
    assert body["text"] == "村口路灯坏了一个月。"
    assert {t["key"] for t in body["transitions"]} == {"accept", "decline"}
    decline = next(t for t in body["transitions"] if t["key"] == "decline")
    assert decline["requires_comment"] and decline["to_name"] == "办结归档"
    assert body["reporter_visible"] and body["reporter"]["name"] == "王小明"
    assert body["reporter"]["phone"] == "13900001111"  # the handler calls back
    assert {t["key"] for t in api("village_cadre").get(
        f"/matters/{matter.pk}").json()["transitions"]} == {"accept"}
    assert api("supervisor").get(f"/matters/{matter.pk}").json()["reporter"]["phone"] == (
        "139****1111")  # sees the matter, does not handle it
    other = Api(other_village_secretary(tree))
    assert other.get(f"/matters/{matter.pk}").status_code == 404
    assert other.post(f"/matters/{matter.pk}/transitions",
                      {"transition": "accept"}).status_code == 404
    assert Client().get(f"/api/v1/matters/{matter.pk}").status_code == 401


# ---------------------------------------------------------------- transitions


def test_transitions(tree, api):
    matter = raise_one(tree)
    sec = api("village_secretary")
    url = f"/matters/{matter.pk}/transitions"
    before = Matter.objects.get(pk=matter.pk)
    events = MatterEvent.objects.filter(matter=matter).count()

    response = sec.post(url, {"transition": "give_feedback", "comment": "x"})
    assert response.status_code == 400
    assert response.json()["detail"] == "事项当前处于“登记受理”环节，不能执行此操作。"
    response = api("grid_worker").post(url, {"transition": "decline", "comment": "重复"})
    assert response.status_code == 403 and "不予受理" in response.json()["detail"]
    response = sec.post(url, {"transition": "decline"})
    assert response.status_code == 400 and "意见" in response.json()["detail"]
    after = Matter.objects.get(pk=matter.pk)
    assert (after.stage, after.updated_at) == (before.stage, before.updated_at)
    assert MatterEvent.objects.filter(matter=matter).count() == events

    response = sec.post(url, {"transition": "accept", "comment": "受理"})
    assert response.status_code == 200, response.content
    assert response.json()["stage"] == "handling"
    response = sec.post(url, {"transition": "report_result",
                              "fields": {"outcome": "unsolvable", "outcome_text": "无法修复"}})
    assert response.status_code == 400 and "解释" in response.json()["detail"]
    response = sec.post(url, {"transition": "report_result",
                              "fields": {"outcome": "solved", "outcome_text": "已更换灯泡",
                                         "responsible_org": tree.department.pk}})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["stage"] == "feedback" and body["outcome"] == "solved"
    assert body["responsible_org_id"] == tree.department.pk
    response = sec.post(url, {"transition": "give_feedback", "comment": "已告知",
                              "fields": {"responsible_user": 999999}})
    assert response.status_code == 400
    assert sec.post(url, {"transition": "accept", "bogus": 1}).status_code == 422
    assert AuditEvent.objects.filter(action="matters.matter.transition",
                                     object_id=str(matter.pk)).count() == 2


# ---------------------------------------------------------------- timeline and notes


def test_timeline_and_notes(tree, api):
    matter = raise_one(tree)
    sec = api("village_secretary")
    sec.post(f"/matters/{matter.pk}/transitions", {"transition": "accept"})
    response = sec.post(f"/matters/{matter.pk}/notes", {"text": "已联系电工", "is_public": True})
    assert response.status_code == 201, response.content
    assert response.json()["kind"] == "note" and response.json()["is_public"]
    response = sec.post(f"/matters/{matter.pk}/notes", {"text": "  "})
    assert response.status_code == 400
    assert api("resident").post(f"/matters/{matter.pk}/notes",
                                {"text": "x"}).status_code == 404
    timeline = sec.get(f"/matters/{matter.pk}/timeline")
    assert timeline.status_code == 200
    events = timeline.json()
    assert [e["kind"] for e in events] == ["raised", "transition", "note"]
    assert events[1]["actor_name"] == str(tree.user("village_secretary"))
    assert events[1]["from_stage"] == "intake" and events[1]["to_stage"] == "handling"
    assert events[2]["comment"] == "已联系电工"


def test_merge(tree, api):
    survivor = raise_one(tree)
    duplicate = raise_one(tree, title="路灯坏了")
    response = api("grid_worker").post(f"/matters/{duplicate.pk}/merge", {"into": survivor.pk})
    assert response.status_code == 403
    response = api("village_secretary").post(f"/matters/{duplicate.pk}/merge",
                                             {"into": survivor.pk})
    assert response.status_code == 200
    assert response.json()["merged_into_id"] == survivor.pk and response.json()["is_closed"]
    assert not response.json()["is_public"]


# ---------------------------------------------------------------- reporters of complaints


def test_complaint_reporter_hidden_from_department_and_accused(tree, api):
    about_department = raise_one(tree, ledger="complaint", title="供电所乱收费",
                                 text="供电所多收电费。", accused_organisation=tree.department)
    handled_by_department = raise_one(tree, ledger="complaint", title="施工扰民",
                                      text="夜间施工。", reporter_name="赵六")
    Matter.objects.filter(pk=handled_by_department.pk).update(responsible_org=tree.department)
    about_cadre = raise_one(tree, ledger="complaint", title="村干部态度差", text="态度差。",
                            accused_user=tree.user("village_cadre"))
    liaison = api("department_liaison")
    assert liaison.get(f"/matters/{about_department.pk}").status_code == 404
    assert liaison.get(f"/matters/{about_department.pk}/timeline").status_code == 404
    response = liaison.get(f"/matters/{handled_by_department.pk}")
    assert response.status_code == 200
    body = response.json()
    assert body["reporter"] is None and body["reporter_visible"] is False
    assert "赵六" not in response.content.decode()
    listed = {m["id"] for m in liaison.get("/matters").json()["items"]}
    assert listed == {handled_by_department.pk}
    cadre = api("village_cadre")
    assert cadre.get(f"/matters/{about_cadre.pk}").status_code == 404
    assert about_cadre.pk not in {m["id"] for m in cadre.get("/matters").json()["items"]}
    # A grid worker sees the complaint, not who made it; nothing to audit.
    worker_view = api("grid_worker").get(f"/matters/{about_cadre.pk}").json()
    assert worker_view["reporter"] is None
    assert not AuditEvent.objects.filter(action="matters.reporter.view").exists()
    # The secretary may know, and that is audited.
    response = api("village_secretary").get(f"/matters/{about_cadre.pk}")
    assert response.json()["reporter"]["name"] == "王小明"
    viewed = AuditEvent.objects.filter(action="matters.reporter.view")
    assert list(viewed.values_list("object_id", "actor__username")) == [
        (str(about_cadre.pk), "u_village_secretary")]


# ---------------------------------------------------------------- set-up and public view


def test_categories_and_workflow(tree, api):
    sec = api("village_secretary")
    response = sec.get("/categories")
    assert response.status_code == 200
    names = [c["name"] for c in response.json()]
    assert "邻里纠纷" in names and "基础设施" in names
    infra = next(c for c in response.json() if c["code"] == "infrastructure")
    assert infra["questions"][0]["code"] == "facility"
    assert sec.get("/categories", county=999999).status_code == 404
    response = sec.get("/workflow")
    assert response.status_code == 200
    body = response.json()
    assert body["key"] == "default" and body["initial"] == "intake"
    assert body["stages"][0]["key"] == "intake"
    evaluated = next(t for t in body["transitions"] if t["key"] == "evaluated")
    assert evaluated["trigger"] == "evaluated" and evaluated["from_stages"] == ["evaluation"]
    assert body["policy"]["publish_on_close"] is True


def test_public_view_by_tracking_code(tree, api):
    matter = raise_one(tree, text="路灯坏了，联系13812345678。")
    response = Client().get(f"/api/v1/public/matters/{matter.tracking_code.lower()}")
    assert response.status_code == 200
    body = response.json()
    assert body["title"] == "村口路灯不亮" and body["text"] == "路灯坏了，联系138****5678。"
    assert body["stage_name"] == "登记受理" and body["events"][0]["who"] == "网格员"
    raw = response.content.decode()
    assert "王小明" not in raw and "13900001111" not in raw and "reporter" not in raw
    complaint = raise_one(tree, ledger="complaint", title="举报", text="举报内容")
    body = Client().get(f"/api/v1/public/matters/{complaint.tracking_code}").json()
    assert body["title"] == "投诉举报已受理" and body["text"] is None and body["events"] == []
    assert Client().get("/api/v1/public/matters/NOPE234567").status_code == 404


def test_openapi_lists_the_operations(db):
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    expected = {
        "/api/v1/matters": {"get", "post"},
        "/api/v1/matters/{matter_id}": {"get"},
        "/api/v1/matters/{matter_id}/transitions": {"post"},
        "/api/v1/matters/{matter_id}/timeline": {"get"},
        "/api/v1/matters/{matter_id}/notes": {"post"},
        "/api/v1/matters/{matter_id}/merge": {"post"},
        "/api/v1/categories": {"get"},
        "/api/v1/workflow": {"get"},
        "/api/v1/public/matters/{tracking_code}": {"get"},
        "/api/v1/public/boards/{place_id}": {"get"},
    }
    for path, methods in expected.items():
        assert path in paths, path
        assert methods <= set(paths[path]), path
    transitions = paths["/api/v1/matters/{matter_id}/transitions"]["post"]
    assert {"200", "400", "403", "404"} <= set(transitions["responses"])
    assert transitions["tags"] == ["matters"]
    assert "security" not in paths["/api/v1/public/matters/{tracking_code}"]["get"] or (
        paths["/api/v1/public/matters/{tracking_code}"]["get"]["security"] == [])
