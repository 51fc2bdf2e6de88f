"""What the hotline sends: orders (idempotent), refused requests, 催办, 撤单, its 回访 result."""

from __future__ import annotations

import json
import time

from gongzhi.hotline.models import Exchange, HotlineOrder, Nonce
from gongzhi.matters.models import Channel, Matter, MatterEvent
from gongzhi.testing import login_client


def test_an_order_becomes_a_matter_with_channel_12345(tree, hotline):
    r = hotline.order()
    assert r.status_code == 201, r.content
    body = r.json()
    matter = Matter.objects.get(pk=body["matter_id"])
    assert body["created"] is True and body["tracking_code"] == matter.tracking_code
    assert matter.channel == Channel.HOTLINE_12345
    assert matter.source_ref == "GD20250312001"
    assert matter.ledger == "claim"  # 求助
    assert matter.place_id == tree.village.pk  # from the place hint
    assert matter.category.code == "environment"  # through the category map
    assert matter.reporter_phone == "13811112222"
    assert matter.attributes["hotline"]["deadline"] == "2025-03-20T18:00:00+08:00"
    order = HotlineOrder.objects.get(matter=matter)
    assert order.hotline_deadline.isoformat() == "2025-03-20T10:00:00+00:00"


def test_the_same_order_twice_is_one_matter(tree, hotline):
    first = hotline.order()
    # A resend is signed anew (a new timestamp); the very same signed request is a replay.
    second = hotline.order(stamp=int(time.time()) + 1)
    assert first.status_code == 201
    assert second.status_code == 200
    assert second.json()["matter_id"] == first.json()["matter_id"]
    assert second.json()["created"] is False
    assert Matter.objects.filter(source_ref="GD20250312001").count() == 1


def test_classifications_map_to_ledgers(tree, hotline):
    expected = {"投诉": "complaint", "举报": "complaint", "求助": "claim", "建议": "suggestion",
                "咨询": "suggestion"}
    for n, (kind, ledger) in enumerate(expected.items()):
        r = hotline.order(f"L{n}", classification=kind)
        assert Matter.objects.get(pk=r.json()["matter_id"]).ledger == ledger


def test_unknown_place_hint_goes_to_the_default_place(tree, hotline):
    r = hotline.order(place_hint="不存在的村")
    assert Matter.objects.get(pk=r.json()["matter_id"]).place_id == tree.county.pk


def test_bad_signature_is_refused_and_logged(tree, hotline):
    r = hotline.post("/orders", {"order_id": "X1"}, signature="0" * 64)
    assert r.status_code == 401
    assert "签名" in r.json()["detail"]
    assert not Matter.objects.exists()
    ex = Exchange.objects.get()
    assert ex.direction == "in" and ex.status_code == 401


def test_missing_signature_is_refused(tree, hotline):
    r = hotline.client.post(f"/hotline/12345/{hotline.connection.key}/orders", data=b"{}",
                            content_type="application/json")
    assert r.status_code == 401


def test_stale_timestamp_is_refused(tree, hotline):
    body = b'{"order_id": "S1"}'
    r = hotline.post("/orders", body=body, stamp=int(time.time()) - 301)
    assert r.status_code == 401
    assert "5分钟" in r.json()["detail"]
    r = hotline.post("/orders", body=body, stamp=int(time.time()) + 301)
    assert r.status_code == 401


def test_a_replay_is_refused(tree, hotline):
    stamp = str(int(time.time()))
    body = json.dumps({"order_id": "R1", "classification": "建议", "content": "路灯坏了"},
                      ensure_ascii=False).encode()
    first = hotline.post("/orders", body=body, stamp=stamp)
    again = hotline.post("/orders", body=body, stamp=stamp)
    assert first.status_code == 201
    assert again.status_code == 409
    assert Nonce.objects.count() == 1


def test_malformed_json_creates_nothing(tree, hotline):
    r = hotline.post("/orders", body=b'{"order_id": "M1", ')
    assert r.status_code == 400
    assert "JSON" in r.json()["detail"]
    r = hotline.post("/orders", {"order_id": "M1", "classification": "闲聊", "content": "x"})
    assert r.status_code == 400
    assert "classification" in r.json()["detail"]
    r = hotline.post("/orders", {"order_id": "M1", "classification": "求助"})
    assert r.status_code == 400 and "content" in r.json()["detail"]
    r = hotline.order("M1", deadline="2025-03-20 18:00")
    assert r.status_code == 400 and "deadline" in r.json()["detail"]
    assert not Matter.objects.exists() and not HotlineOrder.objects.exists()
    # The refused request left no nonce: the vendor may correct and resend.
    assert not Nonce.objects.exists()


def test_unknown_and_disabled_connections(tree, hotline):
    r = hotline.client.post("/hotline/12345/nope/orders", data=b"{}",
                            content_type="application/json")
    assert r.status_code == 404
    hotline.connection.is_active = False
    hotline.connection.save(update_fields=["is_active"])
    assert hotline.order().status_code == 403


def test_a_complaint_keeps_the_caller_confidential(tree, hotline):
    r = hotline.order("C1", classification="投诉")
    matter = Matter.objects.get(pk=r.json()["matter_id"])
    assert matter.is_complaint
    ex = Exchange.objects.get(kind="order")
    assert "13811112222" not in ex.request_body
    # A cadre without matters.view_reporter sees the matter but not who called.
    page = login_client(tree.user("village_cadre")).get(f"/matters/{matter.pk}/")
    assert page.status_code == 200
    assert "13811112222" not in page.content.decode()
    assert "刘女士" not in page.content.decode()


def test_urge_withdraw_and_visit_result(tree, hotline):
    matter_id = hotline.order().json()["matter_id"]
    r = hotline.post("/orders/GD20250312001/urge", {"note": "群众再次来电"})
    assert r.status_code == 200
    order = HotlineOrder.objects.get()
    assert order.urge_count == 1
    assert MatterEvent.objects.filter(matter_id=matter_id, summary__contains="催办").exists()

    r = hotline.post("/orders/GD20250312001/visit",
                     {"reached": True, "satisfaction": "不满意", "notes": "还没清运"})
    assert r.status_code == 200
    order.refresh_from_db()
    assert order.visit_result["satisfaction"] == "dissatisfied"

    r = hotline.post("/orders/GD20250312001/withdraw", {"reason": "群众自行解决"})
    assert r.status_code == 200
    assert r.json()["status"] == "withdrawn"
    matter = Matter.objects.get(pk=matter_id)
    assert matter.is_closed

    assert hotline.post("/orders/NOPE/urge", {}).status_code == 404
    assert hotline.post("/orders/GD20250312001/withdraw", {}).status_code == 400  # no reason


def test_a_12345_matter_shows_in_the_workbench_with_its_channel(tree, hotline):
    hotline.order()
    page = login_client(tree.user("village_secretary")).get("/matters/all/")
    text = page.content.decode()
    assert "村口垃圾无人清运" in text
    assert "12345热线工单" in text
    page = login_client(tree.user("village_secretary")).get("/matters/")
    assert page.status_code == 200
