"""Outgoing webhooks: subscriptions through the API and the page, deliveries written with the
event and sent after commit to a loopback receiver that checks the signature, retries with
backoff, no personal data of reporters in payloads."""

from __future__ import annotations

import datetime as dt
import json

from django.db import transaction
from django.utils import timezone

from gongzhi.matters.actions import do_raise_matter
from gongzhi.matters.workflow import do_transition
from gongzhi.notifications.tests.servers import WebhookReceiver
from gongzhi.places.models import Person
from gongzhi.testing import api_client, login_client
from gongzhi.webhooks.delivery import deliver_webhooks
from gongzhi.webhooks.models import Delivery

SECRET = "a-receiver-secret-of-some-length"


def raise_matter(tree):
    head = Person.objects.get(household_id=tree.household.pk, relation="head")
    return do_raise_matter(place=tree.grid, title="张建国家门口路灯不亮", text="电话13812341234",
                           channel="walk_in", ledger="claim", reporter_person=head,
                           reporter_name="张建国", reporter_phone="13812341234",
                           acting_user=tree.user("grid_worker"))


def subscribe(tree, receiver, types):
    client, headers = api_client(tree.user("county_office"))
    r = client.post("/api/v1/webhooks/subscriptions", json.dumps({
        "county": tree.county.pk, "url": receiver.url + "/hook", "event_types": types,
        "secret": SECRET}), content_type="application/json", headers=headers)
    assert r.status_code == 201, r.content
    return r.json()


def test_matter_events_are_signed_and_carry_no_personal_data(
        tree, django_capture_on_commit_callbacks):
    with WebhookReceiver(SECRET) as rx:
        sub = subscribe(tree, rx, ["matter.raised", "matter.transitioned"])
        with django_capture_on_commit_callbacks(execute=True):
            matter = raise_matter(tree)
        with django_capture_on_commit_callbacks(execute=True):
            do_transition(matter, "accept", acting_user=tree.user("village_secretary"))
        assert rx.bad_signatures == 0
        types = [r["body"]["type"] for r in rx.received]
        assert types == ["matter.raised", "matter.transitioned"]
        first = rx.received[0]
        assert first["headers"]["X-Gongzhi-Event"] == "matter.raised"
        assert first["headers"]["X-Gongzhi-Delivery"] == first["body"]["id"]
        assert first["body"]["data"]["matter"]["tracking_code"] == matter.tracking_code
        assert rx.received[1]["body"]["data"]["transition"] == "accept"
        raw = json.dumps([r["body"] for r in rx.received], ensure_ascii=False)
        for private in ("张建国", "13812341234", "路灯不亮"):
            assert private not in raw
    client, headers = api_client(tree.user("county_office"))
    log = client.get(f"/api/v1/webhooks/subscriptions/{sub['id']}/deliveries",
                     headers=headers).json()
    assert log["count"] == 2 and {d["status"] for d in log["items"]} == {"sent"}


def test_failed_delivery_retries_with_backoff(tree, django_capture_on_commit_callbacks):
    with WebhookReceiver(SECRET, fail=1) as rx:
        subscribe(tree, rx, ["matter.raised"])
        with django_capture_on_commit_callbacks(execute=True):
            raise_matter(tree)
        d = Delivery.objects.get()
        assert d.status == "pending" and d.attempts == 1 and d.last_status_code == 500
        assert d.not_before > timezone.now() + dt.timedelta(seconds=20)
        assert deliver_webhooks.call() == 0  # not due yet
        Delivery.objects.filter(pk=d.pk).update(not_before=timezone.now())
        assert deliver_webhooks.call() == 1
        d.refresh_from_db()
        assert d.status == "sent" and d.attempts == 2 and d.log.count() == 2
        assert len(rx.received) == 1


def test_rolled_back_event_writes_no_delivery(tree, django_capture_on_commit_callbacks):
    with WebhookReceiver(SECRET) as rx:
        subscribe(tree, rx, ["matter.raised"])
        with django_capture_on_commit_callbacks(execute=True):
            try:
                with transaction.atomic():
                    raise_matter(tree)
                    raise RuntimeError("boom")
            except RuntimeError:
                pass
        assert Delivery.objects.count() == 0 and rx.received == []


def test_subscription_api_validates_and_restricts(tree):
    client, headers = api_client(tree.user("county_office"))
    bad = client.post("/api/v1/webhooks/subscriptions", json.dumps({
        "county": tree.county.pk, "url": "ftp://x", "event_types": ["matter.raised"]}),
        content_type="application/json", headers=headers)
    assert bad.status_code == 400 and "网址" in bad.json()["detail"]
    unknown = client.post("/api/v1/webhooks/subscriptions", json.dumps({
        "county": tree.county.pk, "url": "https://h.example.org/", "event_types": ["nope"]}),
        content_type="application/json", headers=headers)
    assert unknown.status_code == 400
    ok = client.post("/api/v1/webhooks/subscriptions", json.dumps({
        "county": tree.county.pk, "url": "https://h.example.org/", "event_types":
        ["meeting.scheduled"]}), content_type="application/json", headers=headers)
    assert ok.status_code == 201 and len(ok.json()["secret"]) >= 32
    sid = ok.json()["id"]
    r = client.patch(f"/api/v1/webhooks/subscriptions/{sid}", json.dumps({"is_active": False}),
                     content_type="application/json", headers=headers)
    assert r.status_code == 200 and r.json()["is_active"] is False
    other, oheaders = api_client(tree.user("village_secretary"))
    assert other.get("/api/v1/webhooks/subscriptions", headers=oheaders).json()["count"] == 0
    assert other.post("/api/v1/webhooks/subscriptions", json.dumps({
        "county": tree.county.pk, "url": "https://h.example.org/", "event_types":
        ["matter.raised"]}), content_type="application/json",
        headers=oheaders).status_code == 403
    assert other.delete(f"/api/v1/webhooks/subscriptions/{sid}",
                        headers=oheaders).status_code == 404
    assert client.delete(f"/api/v1/webhooks/subscriptions/{sid}",
                         headers=headers).status_code == 204


def test_management_page(tree):
    admin = login_client(tree.user("county_office"))
    r = admin.post("/webhooks/", {"county": tree.county.pk, "url": "https://h.example.org/in",
                                  "event_types": ["matter.closed", "meeting.resolution"],
                                  "description": "县大数据中心"})
    assert r.status_code == 302
    page = admin.get(r["Location"])
    html = page.content.decode()
    assert "https://h.example.org/in" in html and "X-Gongzhi-Signature" in html
    assert login_client(tree.user("village_secretary")).get("/webhooks/").status_code == 403
