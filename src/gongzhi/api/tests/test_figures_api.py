"""``GET /figures``: compute() through the API, limited to the caller's places."""

import pytest
from django.test import Client

from gongzhi.matters.actions import do_raise_matter
from gongzhi.testing import api_client


@pytest.fixture
def matters(tree):
    clerk = tree.user("village_cadre")
    for title in ("路灯不亮", "垃圾清运"):
        do_raise_matter(place=tree.grid, title=title, text="请处理", channel="visit",
                        ledger="claim", acting_user=clerk)
    do_raise_matter(place=tree.other_grid, title="井盖缺失", text="请处理", channel="visit",
                    ledger="claim", acting_user=tree.user("county_office"))


def test_figures_of_the_callers_place(tree, matters):
    client, headers = api_client(tree.user("village_cadre"))
    response = client.get("/api/v1/figures", headers=headers)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["scope"] == {"id": tree.village.pk, "name": "高城寨村", "kind": "village"}
    assert body["total"]["received"] == 2
    assert body["total"]["completion_rate"] == 0


def test_a_breakdown_adds_up_and_filters_apply(tree, matters):
    client, headers = api_client(tree.user("county_office"))
    response = client.get("/api/v1/figures", {"place": tree.county.pk, "group_by": "town",
                                              "sets": ["matters", "satisfaction"]},
                          headers=headers)
    assert response.status_code == 200, response.content
    body = response.json()
    by_town = {r["key"]: r["figures"]["received"] for r in body["rows"]}
    assert by_town == {tree.town.pk: 2, tree.other_town.pk: 1}
    assert body["total"]["received"] == 3 and "satisfied" in body["total"]
    response = client.get("/api/v1/figures", {"place": tree.county.pk, "ledger": "complaint"},
                          headers=headers)
    assert response.json()["total"]["received"] == 0


def test_a_place_out_of_scope_is_404_and_bad_questions_are_400(tree, matters):
    client, headers = api_client(tree.user("village_cadre"))
    assert client.get("/api/v1/figures", {"place": tree.other_village.pk},
                      headers=headers).status_code == 404
    assert client.get("/api/v1/figures", {"place": tree.county.pk},
                      headers=headers).status_code == 404
    bad = client.get("/api/v1/figures", {"sets": "nonsense"}, headers=headers)
    assert bad.status_code == 400 and "nonsense" in bad.json()["detail"]
    coarse = client.get("/api/v1/figures", {"group_by": "town"}, headers=headers)
    assert coarse.status_code == 400 and coarse.json()["detail"]
    many = client.get("/api/v1/figures", {"group_by": "day", "start": "2001-01-01",
                                          "end": "2030-01-01"}, headers=headers)
    assert many.status_code == 400
    backwards = client.get("/api/v1/figures", {"start": "2026-05-01", "end": "2026-04-01"},
                           headers=headers)
    assert backwards.status_code == 400
    assert client.get("/api/v1/figures", {"start": "1066-10-14"},
                      headers=headers).status_code == 422
    assert Client().get("/api/v1/figures").status_code == 401


def test_by_month(tree, matters):
    client, headers = api_client(tree.user("village_cadre"))
    response = client.get("/api/v1/figures", {"group_by": "month", "start": "2026-01-01",
                                              "end": "2026-04-01"}, headers=headers)
    assert response.status_code == 200
    rows = response.json()["rows"]
    assert [r["key"] for r in rows] == ["2026-01-01", "2026-02-01", "2026-03-01"]
    assert all(r["start"] and r["end"] for r in rows)


def test_the_sets_are_listed(db, tree):
    client, headers = api_client(tree.user("grid_worker"))
    body = client.get("/api/v1/figures/sets", headers=headers).json()
    assert "matters" in {s["key"] for s in body["sets"]}
    assert body["ratios"]
