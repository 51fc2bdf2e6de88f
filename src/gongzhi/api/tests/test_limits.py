"""Rate limits: per token and per address, a 429 with ``detail`` and ``Retry-After``."""

import pytest
from django.core.cache import cache
from django.test import Client, override_settings

from gongzhi.accounts.actions import do_create_token
from gongzhi.api.throttling import parse_rate


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def bearer(user, **kwargs):
    _token, raw = do_create_token(user, "limits", acting_user=None, **kwargs)
    return {"Authorization": f"Bearer {raw}"}


def test_parse_rate():
    assert parse_rate("120/min") == (120, 60)
    assert parse_rate("10/5s") == (10, 5)
    assert parse_rate("3/hour") == (3, 3600)
    assert parse_rate("1000/day") == (1000, 86400)
    assert parse_rate("") is None


@override_settings(API_RATE_TOKEN="3/min", API_RATE_ADDRESS="")
def test_a_token_over_its_limit_gets_429_with_retry_after(tree):
    headers = bearer(tree.user("grid_worker"))
    client = Client()
    for _ in range(3):
        assert client.get("/api/v1/me", headers=headers).status_code == 200
    response = client.get("/api/v1/places", headers=headers)
    assert response.status_code == 429
    assert response.json()["detail"].startswith("请求过于频繁")
    assert 1 <= int(response["Retry-After"]) <= 60

    # In English for a client that asks for it.
    response = client.get("/api/v1/me", headers={**headers, "Accept-Language": "en"})
    assert response.status_code == 429 and "detail" in response.json()

    # Another token of the same user has its own allowance.
    assert client.get("/api/v1/me", headers=bearer(tree.user("grid_worker"))).status_code == 200


@override_settings(API_RATE_TOKEN="", API_RATE_ADDRESS="2/min")
def test_an_address_over_its_limit_gets_429_whoever_asks(tree):
    one = Client(REMOTE_ADDR="10.0.0.7")
    assert one.get("/api/v1/me", headers=bearer(tree.user("grid_worker"))).status_code == 200
    assert one.get(f"/api/v1/public/boards/{tree.village.pk}").status_code in (200, 404)
    response = one.get("/api/v1/me", headers=bearer(tree.user("town_staff")))
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    assert set(response.json()) == {"detail"}
    # Another address is not held back.
    other = Client(REMOTE_ADDR="10.0.0.8")
    assert other.get("/api/v1/me", headers=bearer(tree.user("grid_worker"))).status_code == 200


@override_settings(API_RATE_TOKEN="", API_RATE_ADDRESS="1/min", API_NUM_PROXIES=1)
def test_behind_a_proxy_the_forwarded_address_counts(tree):
    headers = bearer(tree.user("grid_worker"))
    proxy = Client(REMOTE_ADDR="127.0.0.1")
    first = proxy.get("/api/v1/me", headers={**headers, "X-Forwarded-For": "203.0.113.1"})
    second = proxy.get("/api/v1/me", headers={**headers, "X-Forwarded-For": "203.0.113.2"})
    again = proxy.get("/api/v1/me", headers={**headers, "X-Forwarded-For": "203.0.113.1"})
    assert (first.status_code, second.status_code, again.status_code) == (200, 200, 429)


@override_settings(API_RATE_TOKEN="2/min", API_RATE_ADDRESS="")
def test_the_limit_frees_up_when_the_window_passes(tree, monkeypatch):
    import gongzhi.api.throttling as throttling

    now = [1_000_000.0]
    monkeypatch.setattr(throttling.time, "time", lambda: now[0])
    headers = bearer(tree.user("grid_worker"))
    client = Client()
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    now[0] += 20
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 429 and response["Retry-After"] == "40"
    now[0] += 41
    assert client.get("/api/v1/me", headers=headers).status_code == 200


def test_the_429_is_declared_in_the_schema(db):
    schema = Client().get("/api/v1/openapi.json").json()
    op = schema["paths"]["/api/v1/me"]["get"]
    assert "429" in op["responses"]
