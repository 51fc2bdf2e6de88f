"""Bad input is a 4xx with ``detail``, never a 500 (what schemathesis found, pinned)."""

from gongzhi.testing import api_client


def test_nul_characters_are_refused_in_bodies_and_queries(tree):
    client, headers = api_client(tree.user("village_cadre"))
    response = client.patch(f"/api/v1/households/{tree.household.pk}",
                            {"notes": "门牌\u0000损坏"}, content_type="application/json",
                            headers=headers)
    assert response.status_code == 422
    body = response.json()
    assert body["detail"] and body["errors"][0]["loc"] == ["body", "notes"]
    response = client.get("/api/v1/people", {"q": "王\x00"}, headers=headers)
    assert response.status_code == 422 and response.json()["errors"][0]["loc"] == ["query", "q"]


def test_ids_past_64_bits_are_unknown(tree):
    client, headers = api_client(tree.user("village_cadre"))
    response = client.get(f"/api/v1/matters/{2**70}", headers=headers)
    assert response.status_code == 404 and response.json() == {"detail": "未找到。"}
    response = client.post("/api/v1/visits", {"household": 2**70, "kind": "routine"},
                           content_type="application/json", headers=headers)
    assert response.status_code in (404, 422), response.content


def test_offsets_and_dates_are_bounded(tree):
    client, headers = api_client(tree.user("village_cadre"))
    response = client.get("/api/v1/matters", {"offset": 2**65}, headers=headers)
    assert response.status_code == 422 and response.json()["errors"]
    response = client.get(f"/api/v1/public/boards/{tree.village.pk}", {"end": "1999-12-31"})
    assert response.status_code == 422
    response = client.get(f"/api/v1/public/boards/{tree.village.pk}",
                          {"start": "2026-03-01", "end": "2026-02-01"})
    assert response.status_code == 400 and response.json()["detail"]
