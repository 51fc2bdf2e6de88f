"""The JSON API's contract: schema and docs, errors, pagination, filters, writes, query counts."""

import json
import re

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

from gongzhi.audit.models import AuditEvent
from gongzhi.places.actions import do_create_household, do_create_organisation
from gongzhi.places.models import Household, Person, Place
from gongzhi.testing import ID_NUMBERS, api_client, login_client

VALID_ID = "32031119900101123X"  # checksummed


@pytest.fixture
def secretary(tree):
    """The village secretary's API: sees the village, may change people and places there."""
    client, headers = api_client(tree.user("village_secretary"))
    return Api(client, headers)


class Api:
    def __init__(self, client, headers):
        self.client, self.headers = client, headers

    def get(self, url, **params):
        return self.client.get(f"/api/v1{url}", params, headers=self.headers)

    def send(self, method, url, data=None, raw=None):
        body = raw if raw is not None else json.dumps(data or {})
        return getattr(self.client, method)(f"/api/v1{url}", data=body,
                                            content_type="application/json",
                                            headers=self.headers)

    def names(self, url, key="name", **params):
        response = self.get(url, **params)
        assert response.status_code == 200, response.content
        return [item[key] for item in response.json()["items"]]


# ---------------------------------------------------------------- schema and docs


def test_openapi_schema_lists_the_endpoints(db):
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["info"]["title"] == "gongzhi API"
    for path in ("/api/v1/me", "/api/v1/places", "/api/v1/places/{place_id}",
                 "/api/v1/households", "/api/v1/households/{household_id}/people",
                 "/api/v1/people", "/api/v1/people/{person_id}/reveal",
                 "/api/v1/organisations"):
        assert path in schema["paths"], path
    assert set(schema["paths"]["/api/v1/people/{person_id}"]) == {"get", "patch"}
    limit = next(p for p in schema["paths"]["/api/v1/people"]["get"]["parameters"]
                 if p["name"] == "limit")
    assert limit["schema"]["maximum"] == 200
    assert schema["components"]["securitySchemes"]["TokenAuth"] == {"type": "http",
                                                                    "scheme": "bearer"}


def test_docs_page_is_served_without_any_cdn(db):
    response = Client().get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert not re.search(r"(src|href)=\"(https?:)?//", html), "docs must not load remote assets"
    for asset in re.findall(r"(?:src|href)=\"/static/([^\"]+)\"", html):
        assert finders.find(asset), asset
    assert "ninja/swagger-ui-bundle.js" in html
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]


def test_api_root_points_to_the_schema(db):
    body = Client().get("/api/v1/").json()
    assert body["openapi"] == "/api/v1/openapi.json" and body["docs"] == "/api/v1/docs"


# ---------------------------------------------------------------- errors


def test_unknown_path_is_a_json_404(secretary):
    for url in ("/nothing-here", "/places/1/nothing", "/places/"):
        response = secretary.get(url)
        assert response.status_code == 404
        assert response.json() == {"detail": "未找到。"}


def test_wrong_method_is_a_json_405(secretary):
    response = secretary.send("put", "/places", {})
    assert response.status_code == 405
    assert response.json()["detail"]
    assert set(response["Allow"].replace(" ", "").split(",")) == {"GET", "POST"}


def test_malformed_json_is_400(secretary, tree):
    response = secretary.send("post", "/households", raw="{not json")
    assert response.status_code == 400
    assert response.json() == {"detail": "请求内容不是有效的 JSON。"}


def test_schema_mismatch_is_422_with_where(secretary, tree):
    response = secretary.send("post", "/households", {"parent": "x", "colour": "red"})
    assert response.status_code == 422
    body = response.json()
    assert body["detail"] == "请求参数有误。"
    assert {tuple(e["loc"][-1:]) for e in body["errors"]} >= {("parent",), ("colour",)}
    assert secretary.get("/places", kind="planet").status_code == 422
    assert secretary.get("/people", limit=201).status_code == 422
    assert secretary.get("/people", limit=0).status_code == 422


def test_action_error_is_400_with_the_sentence(secretary, tree):
    before = Place.objects.count()
    response = secretary.send("post", "/places",
                              {"parent": tree.village.pk, "kind": "town", "name": "错层"})
    assert response.status_code == 400
    assert response.json() == {"detail": "“镇/街道”不能设在“高城寨村”之下。"}
    response = secretary.send("post", f"/households/{tree.household.pk}/people",
                              {"name": "错号", "id_number": "110105194912310020"})
    assert response.status_code == 400 and "身份证号" in response.json()["detail"]
    assert Place.objects.count() == before


def test_action_forbidden_is_403_with_the_sentence(tree):
    api = Api(*api_client(tree.user("town_staff")))
    response = api.send("patch", f"/people/{Person.objects.first().pk}", {"name": "改"})
    assert response.status_code == 403
    assert response.json() == {"detail": "您没有在该地点执行此操作的权限。"}


def test_csrf_failure_of_a_session_write_is_a_json_403(tree):
    client = Client(enforce_csrf_checks=True)
    client.force_login(tree.user("village_secretary"))
    response = client.patch(f"/api/v1/places/{tree.grid.pk}", data='{"name": "x"}',
                            content_type="application/json")
    assert response.status_code == 403
    assert response.json() == {"detail": "CSRF 校验失败，请刷新页面后重试。"}
    tree.grid.refresh_from_db()
    assert tree.grid.name == "第一网格"


def test_unexpected_error_is_a_json_500_without_traceback(secretary, monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("secret internals: /srv/db password=hunter2")

    monkeypatch.setattr("gongzhi.places.api._places", explode)
    secretary.client.raise_request_exception = False
    response = secretary.get("/places")
    assert response.status_code == 500
    body = response.json()
    assert body["detail"] == "服务器内部错误，请稍后再试。"
    assert set(body) == {"detail", "request_id"} and body["request_id"] == response[
        "X-Request-ID"]
    assert b"secret" not in response.content and b"Traceback" not in response.content


# ---------------------------------------------------------------- reads, pages, filters


def test_people_are_masked_everywhere_in_reads(secretary, tree):
    raw_phone, raw_id = "13812341234", ID_NUMBERS[0]
    head = Person.objects.get(name="张建国")
    for url in ("/people", f"/people/{head.pk}", f"/households/{tree.household.pk}"):
        content = secretary.get(url).content.decode()
        assert raw_phone not in content and raw_id not in content, url
        assert "138****1234" in content and "110105********002X" in content, url


def test_household_detail_lists_its_members(secretary, tree):
    body = secretary.get(f"/households/{tree.household.pk}").json()
    assert body["address"] == "高城寨村1号" and body["household_type"] == "party"
    assert [m["name"] for m in body["members"]] == ["张建国", "李秀英"]


def test_pagination(secretary, tree):
    for i in range(5):
        do_create_household(tree.grid, acting_user=None, address=f"新村{i}号")
    first = secretary.get("/households", limit=3).json()
    second = secretary.get("/households", limit=3, offset=3).json()
    assert first["count"] == second["count"] == 7
    assert len(first["items"]) == 3 and len(second["items"]) == 3
    assert not {h["id"] for h in first["items"]} & {h["id"] for h in second["items"]}


def test_filters(secretary, tree):
    assert secretary.names("/places", kind="grid") == ["第一网格", "第二网格"]
    assert secretary.names("/places", parent=tree.village.pk) == ["第一网格", "第二网格"]
    assert secretary.names("/places", q="二网") == ["第二网格"]
    assert secretary.names("/households", "address", household_type="elderly") == [
        "高城寨村2号"]
    assert secretary.names("/households", "address", q="1号") == ["高城寨村1号"]
    assert secretary.names("/households", "address", place=tree.grid2.pk) == ["高城寨村2号"]
    assert secretary.names("/people", party_member=True) == ["张建国"]
    assert secretary.names("/people", special_group="disabled") == ["李秀英"]
    assert secretary.names("/people", special_group="lonely_elderly") == ["王桂兰"]
    assert secretary.names("/people", place=tree.grid2.pk) == ["王桂兰"]
    assert secretary.names("/people", q="建国") == ["张建国"]
    # A filter naming a place out of scope is a 404, not an empty answer.
    assert secretary.get("/people", place=tree.other_village.pk).status_code == 404


def test_organisation_filters(tree):
    do_create_organisation(tree.town, acting_user=None, kind="resident_unit", name="城关中学")
    api = Api(*api_client(tree.user("administrator")))
    assert api.names("/organisations") == ["县供电公司", "城关中学"]
    assert api.names("/organisations", kind="department") == ["县供电公司"]
    assert api.names("/organisations", category="供电") == ["县供电公司"]
    assert api.names("/organisations", place=tree.town.pk) == ["城关中学"]
    assert api.names("/organisations", q="中学") == ["城关中学"]


# ---------------------------------------------------------------- writes


def test_create_household_with_members(secretary, tree):
    before = AuditEvent.objects.count()
    response = secretary.send("post", "/households", {
        "parent": tree.grid2.pk, "address": "高城寨村5号", "household_type": "floating",
        "members": [
            {"name": "钱进", "relation": "head", "gender": "male", "phone": "13512345678",
             "id_number": VALID_ID, "special_groups": ["veteran"]},
            {"name": "钱小宝", "relation": "child"},
        ],
    })
    assert response.status_code == 201, response.content
    body = response.json()
    household = Household.objects.get(pk=body["id"])
    assert household.place.parent_id == tree.grid2.pk and household.household_type == "floating"
    assert [m["name"] for m in body["members"]] == ["钱进", "钱小宝"]
    assert body["members"][0]["phone"] == "135****5678"
    qian = Person.objects.get(name="钱进")
    assert (qian.phone, qian.id_number, qian.village_id) == (
        "13512345678", VALID_ID, tree.village.pk)
    assert AuditEvent.objects.count() == before + 1


def test_add_and_patch_person(secretary, tree):
    response = secretary.send("post", f"/households/{tree.household2.pk}/people",
                              {"name": "王小红", "relation": "grandchild", "gender": "female"})
    assert response.status_code == 201
    person_id = response.json()["id"]
    response = secretary.send("patch", f"/people/{person_id}",
                              {"phone": "13700002222", "is_party_member": True})
    assert response.status_code == 200
    assert response.json()["phone"] == "137****2222"
    person = Person.objects.get(pk=person_id)
    assert (person.phone, person.is_party_member, person.name) == ("13700002222", True, "王小红")
    # Clearing a choice, and a body that changes nothing, are fine too.
    assert secretary.send("patch", f"/people/{person_id}", {"gender": None}).json()[
        "gender"] == ""
    assert secretary.send("patch", f"/people/{person_id}", {}).status_code == 200


def test_patch_household_and_create_and_rename_place(secretary, tree):
    response = secretary.send("patch", f"/households/{tree.household.pk}",
                              {"address": "高城寨村1号院", "household_type": "ordinary"})
    assert response.status_code == 200 and response.json()["address"] == "高城寨村1号院"

    response = secretary.send("post", "/places",
                              {"parent": tree.grid.pk, "kind": "building", "name": "1号楼"})
    assert response.status_code == 201
    building = Place.objects.get(pk=response.json()["id"])
    assert (building.grid_id, building.village_id, building.kind) == (
        tree.grid.pk, tree.village.pk, "building")

    response = secretary.send("patch", f"/places/{building.pk}", {"name": "一号楼"})
    assert response.status_code == 200 and response.json()["name"] == "一号楼"


def test_writes_through_a_session_need_csrf_but_work(tree):
    client = login_client(tree.user("village_secretary"))
    response = client.patch(f"/api/v1/places/{tree.grid.pk}", data='{"name": "一网格"}',
                            content_type="application/json")
    assert response.status_code == 200


# ---------------------------------------------------------------- query counts


@pytest.fixture
def crowded(tree):
    """Enough rows that an N+1 would show: 20 more households with 2 members each."""
    for i in range(20):
        do_create_household(tree.grid, acting_user=None, address=f"新村{i}号",
                            members=[{"name": f"户主{i}"}, {"name": f"家属{i}"}])
        do_create_organisation(tree.town, acting_user=None, kind="social_org", name=f"协会{i}")
    return tree


@pytest.mark.parametrize("url", ["/places", "/households", "/people", "/organisations",
                                 "/me"])
def test_lists_do_not_grow_queries_with_rows(crowded, url, django_assert_max_num_queries):
    api = Api(*api_client(crowded.user("administrator")))
    api.get("/me")  # the token's first use writes last_used_at; measure the steady state
    # token + user, grants, COUNT, page (and /me's grants with their places)
    with django_assert_max_num_queries(4):
        response = api.get(url, limit=200)
    assert response.status_code == 200
    if url != "/me":
        assert response.json()["count"] >= 20


def test_filtered_list_and_detail_query_counts(crowded, django_assert_max_num_queries):
    api = Api(*api_client(crowded.user("administrator")))
    api.get("/me")
    with django_assert_max_num_queries(5):  # + the place named in the filter
        assert api.get("/people", place=crowded.grid.pk).json()["count"] == 42
    household = Household.objects.order_by("-pk").first()
    with django_assert_max_num_queries(4):  # token, grants, household, its members
        assert len(api.get(f"/households/{household.pk}").json()["members"]) == 2
