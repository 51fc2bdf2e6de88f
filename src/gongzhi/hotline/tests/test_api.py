"""接诉即办 through /api/v1/: orders with their matters, one order with its pushes, the
exchange log; 403 without ``hotline.view_log``, 404 outside the caller's places; no secrets,
phones masked.

Orders arrive through the signed webhook and pushes go to the fake hotline on loopback
(``conftest``), as in production.
"""

import datetime as dt
import time

import pytest
from django.utils import timezone

from gongzhi.accounts.actions import do_create_user, do_grant_role
from gongzhi.accounts.roles import Role
from gongzhi.hotline.models import Connection, HotlineOrder
from gongzhi.matters.models import Matter
from gongzhi.places.actions import do_create_place
from gongzhi.testing import PASSWORD, api_client, login_client


def _get(user, url, **params):
    client, headers = api_client(user)
    return client.get(url, params, headers=headers)


def _order(hotline, order_id, **extra) -> Matter:
    r = hotline.order(order_id, **extra)
    assert r.status_code == 201, r.content
    return Matter.objects.get(pk=r.json()["matter_id"])


def _accept(tree, matter) -> None:
    r = login_client(tree.user("village_cadre")).post(
        f"/matters/{matter.pk}/transition/", {"transition": "accept"})
    assert r.status_code in (200, 302), r.content


def _secrets(connection) -> list[str]:
    connection.refresh_from_db()
    return [*connection.secrets.values(), connection.inbound_salt, connection.outbound_salt]


def test_orders_list_with_their_matters_and_filters(tree, hotline, connection,
                                                    django_assert_max_num_queries):
    first = _order(hotline, "GD1")
    second = _order(hotline, "GD2", classification="投诉")
    _accept(tree, second)
    HotlineOrder.objects.filter(order_id="GD1").update(
        received_at=timezone.now() - dt.timedelta(days=10))
    office = tree.user("county_office")
    client, headers = api_client(office)

    with django_assert_max_num_queries(8):
        r = client.get("/api/v1/hotline/orders", headers=headers)
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["count"] == 2
    assert [o["order_id"] for o in body["items"]] == ["GD2", "GD1"]  # newest first
    got = body["items"][0]
    assert got["matter_id"] == second.pk and got["connection_id"] == connection.pk
    assert got["matter"]["tracking_code"] == second.tracking_code
    assert got["matter"]["stage"] == "handling" and got["matter"]["is_closed"] is False
    assert got["matter"]["stage_name"]
    assert got["classification"] == "投诉" and got["status"] == "open"
    assert body["items"][1]["matter"]["id"] == first.pk

    def ids(**params):
        r = client.get("/api/v1/hotline/orders", params, headers=headers)
        assert r.status_code == 200, r.content
        return [o["order_id"] for o in r.json()["items"]]

    assert ids(order_id="GD1") == ["GD1"]
    assert ids(connection=connection.pk) == ["GD2", "GD1"]
    today = timezone.localdate()
    assert ids(received_from=today.isoformat()) == ["GD2"]
    assert ids(received_to=(today - dt.timedelta(days=1)).isoformat()) == ["GD1"]
    assert ids(received_from=(today - dt.timedelta(days=10)).isoformat(),
               received_to=today.isoformat()) == ["GD2", "GD1"]
    HotlineOrder.objects.filter(order_id="GD1").update(status="withdrawn")
    assert ids(status="withdrawn") == ["GD1"]
    page = client.get("/api/v1/hotline/orders", {"limit": 1, "offset": 1},
                      headers=headers).json()
    assert page["count"] == 2 and [o["order_id"] for o in page["items"]] == ["GD1"]

    bad = client.get("/api/v1/hotline/orders", {"received_from": today.isoformat(),
                                               "received_to": "2001-01-01"}, headers=headers)
    assert bad.status_code == 400 and bad.json()["detail"]
    assert client.get("/api/v1/hotline/orders", {"status": "lost"},
                      headers=headers).status_code == 422
    assert client.get("/api/v1/hotline/orders", {"limit": 500},
                      headers=headers).status_code == 422


def test_one_order_with_its_pushes_and_no_secrets(tree, hotline, connection, hotline_server,
                                                  django_capture_on_commit_callbacks):
    # The receiving address carries a token; it must not come back through the API.
    Connection.objects.filter(pk=connection.pk).update(
        outbound_url=hotline_server.url + "?token=tok-s3cr3t-value")
    matter = _order(hotline, "GD7")
    hotline_server.fail_first = 1
    with django_capture_on_commit_callbacks(execute=True):
        _accept(tree, matter)
    order = HotlineOrder.objects.get(order_id="GD7")

    r = _get(tree.user("supervisor"), f"/api/v1/hotline/orders/{order.pk}")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["order_id"] == "GD7" and body["matter_id"] == matter.pk
    assert [(p["kind"], p["status"], p["attempts"]) for p in body["pushes"]] == [
        ("accept", "pending", 1)]
    push = body["pushes"][0]
    assert push["last_error"] == "HTTP 500" and push["next_attempt_at"]
    assert push["sent_at"] is None
    assert body["visit_result"] is None

    # The hotline's own return visit comes back with phones masked.
    r = hotline.post("/orders/GD7/visit", {"satisfaction": "不满意",
                                           "notes": "请回电13911112222"})
    assert r.status_code == 200, r.content
    body = _get(tree.user("county_office"), f"/api/v1/hotline/orders/{order.pk}").json()
    assert body["visit_result"]["satisfaction"] == "dissatisfied"
    assert "13911112222" not in body["visit_result"]["notes"]
    assert "139****2222" in body["visit_result"]["notes"]

    conns = _get(tree.user("county_office"), "/api/v1/hotline/connections")
    assert conns.status_code == 200
    assert [c["id"] for c in conns.json()] == [connection.pk]
    assert conns.json()[0]["outbound_host"] == hotline_server.url
    log = _get(tree.user("county_office"),
               f"/api/v1/hotline/connections/{connection.pk}/exchanges", direction="out")
    assert log.json()["count"] == 1
    assert log.json()["items"][0]["url"] == hotline_server.url
    for answer in (r.content, conns.content, log.content,
                   _get(tree.user("county_office"), "/api/v1/hotline/orders").content):
        text = answer.decode()
        assert "tok-s3cr3t-value" not in text
        for secret in _secrets(connection):
            assert secret not in text


def test_exchange_log_masks_phones_and_pages(tree, hotline, connection):
    _order(hotline, "GD1", content="村口垃圾无人清运，联系电话13822223333。")
    _order(hotline, "GD2")
    # Already received (signed anew: the same signature would be a replay): logged too.
    assert hotline.order("GD2", stamp=int(time.time()) - 1).status_code == 200
    office = tree.user("county_office")
    client, headers = api_client(office)
    url = f"/api/v1/hotline/connections/{connection.pk}/exchanges"
    r = client.get(url, headers=headers)
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["count"] == 3
    newest = body["items"][0]
    assert newest["direction"] == "in" and newest["kind"] == "order"
    assert newest["order_ref"] == "GD2" and newest["status_code"] == 200
    assert "13811112222" not in r.content.decode()  # the caller's phone
    assert "13822223333" not in r.content.decode()  # a phone in the text
    assert "138****2222" in body["items"][2]["request_body"]
    assert "138****3333" in body["items"][2]["request_body"]

    page = client.get(url, {"limit": 1, "offset": 2, "order": "GD1"}, headers=headers).json()
    assert page["count"] == 1 and page["items"] == []
    only = client.get(url, {"order": "GD1"}, headers=headers).json()
    assert [e["order_ref"] for e in only["items"]] == ["GD1"]
    assert client.get(url, {"direction": "out"}, headers=headers).json()["count"] == 0
    assert client.get(url, {"direction": "sideways"}, headers=headers).status_code == 422


@pytest.mark.parametrize("role", ["town_staff", "village_secretary", "resident"])
def test_without_the_permission_is_403(tree, hotline, connection, role):
    _order(hotline, "GD1")
    order = HotlineOrder.objects.get()
    user = tree.user(role)
    for url in ("/api/v1/hotline/orders", f"/api/v1/hotline/orders/{order.pk}",
                "/api/v1/hotline/connections",
                f"/api/v1/hotline/connections/{connection.pk}/exchanges"):
        r = _get(user, url)
        assert r.status_code == 403, (url, r.content)
        assert r.json()["detail"]


def test_outside_the_callers_places_is_404(tree, hotline, connection):
    _order(hotline, "GD1")
    order = HotlineOrder.objects.get()
    far = do_create_place(None, "county", "邻县", acting_user=None)
    stranger = do_create_user("u_far_office", acting_user=None, password=PASSWORD,
                              county=far)
    do_grant_role(stranger, Role.COUNTY_OFFICE, far, acting_user=None)

    assert _get(stranger, f"/api/v1/hotline/orders/{order.pk}").status_code == 404
    assert _get(stranger, f"/api/v1/hotline/connections/{connection.pk}/exchanges"
                ).status_code == 404
    assert _get(stranger, "/api/v1/hotline/orders",
                connection=connection.pk).status_code == 404
    listed = _get(stranger, "/api/v1/hotline/orders")
    assert listed.status_code == 200 and listed.json() == {"items": [], "count": 0}
    assert _get(stranger, "/api/v1/hotline/connections").json() == []
    # The same requests from the county's own office succeed.
    office = tree.user("county_office")
    assert _get(office, f"/api/v1/hotline/orders/{order.pk}").status_code == 200
    assert _get(office, "/api/v1/hotline/orders").json()["count"] == 1
