"""What we push back to the hotline: 签收, 办结反馈, 回访, 退单; retries with backoff; the log.

The hotline is a real HTTP server on loopback (``conftest.FakeHotline``) that checks every
push's signature. Pages are used as staff use them; commit callbacks are run so the delivery
task (immediate in tests) posts for real.
"""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.utils import timezone

from gongzhi.hotline import delivery
from gongzhi.hotline.models import Exchange, HotlineOrder, OutboundMessage
from gongzhi.matters.models import Matter
from gongzhi.testing import login_client


def _order(hotline, order_id="GD1", **extra) -> Matter:
    r = hotline.order(order_id, **extra)
    assert r.status_code == 201, r.content
    return Matter.objects.get(pk=r.json()["matter_id"])


def _transition(user, matter, key, **fields):
    r = login_client(user).post(f"/matters/{matter.pk}/transition/",
                                {"transition": key, **fields})
    assert r.status_code in (200, 302), r.content
    matter.refresh_from_db()
    return matter


def test_accept_result_and_return_visit_are_pushed(tree, hotline, hotline_server,
                                                   django_capture_on_commit_callbacks):
    matter = _order(hotline)
    cadre = tree.user("village_cadre")
    with django_capture_on_commit_callbacks(execute=True):
        _transition(cadre, matter, "accept")
    assert matter.stage == "handling"
    assert hotline_server.types() == ["accept"]
    push = hotline_server.received[0]
    assert push["body"]["order_id"] == "GD1"
    assert push["body"]["matter"]["tracking_code"] == matter.tracking_code
    assert push["message_id"] == str(OutboundMessage.objects.get(kind="accept").pk)

    with django_capture_on_commit_callbacks(execute=True):
        _transition(cadre, matter, "report_result", outcome="solved",
                    outcome_text="已联系环卫所清运完毕。")
    assert hotline_server.types() == ["accept", "result"]
    result = hotline_server.received[1]["body"]["data"]
    assert result["outcome"] == "solved" and result["text"] == "已联系环卫所清运完毕。"

    with django_capture_on_commit_callbacks(execute=True):
        r = login_client(tree.user("village_secretary")).post(
            f"/evaluation/matters/{matter.pk}/return-visit/",
            {"reached": "yes", "resolved": "yes", "satisfaction": "satisfied",
             "notes": "群众表示满意"})
    assert r.status_code == 302, r.content
    assert hotline_server.types() == ["accept", "result", "return_visit"]
    visit = hotline_server.received[2]["body"]["data"]
    assert visit["satisfaction"] == "satisfied" and visit["reached"] is True

    # Each push once, each logged with its status code.
    outs = Exchange.objects.filter(direction="out").order_by("id")
    assert [(e.kind, e.status_code, e.attempt) for e in outs] == [
        ("accept", 200, 1), ("result", 200, 1), ("return_visit", 200, 1)]


def test_pushes_are_signed_with_the_outbound_secret(tree, hotline, hotline_server,
                                                    django_capture_on_commit_callbacks):
    matter = _order(hotline)
    hotline_server.secret = "not-the-secret"
    with django_capture_on_commit_callbacks(execute=True):
        _transition(tree.user("village_cadre"), matter, "accept")
    assert hotline_server.received == []  # the server refused: the signature did not match
    msg = OutboundMessage.objects.get()
    assert msg.status == "pending" and msg.attempts == 1 and "401" in msg.last_error


def test_retries_back_off_and_each_attempt_is_logged(tree, hotline, hotline_server,
                                                     django_capture_on_commit_callbacks):
    matter = _order(hotline)
    hotline_server.fail_first = 3
    _transition(tree.user("village_cadre"), matter, "accept")  # queued, not yet sent
    t0 = timezone.now() + dt.timedelta(seconds=1)
    with mock.patch("django.utils.timezone.now", return_value=t0):
        assert delivery.deliver_one().status == "pending"  # attempt 1 fails
    msg = OutboundMessage.objects.get()
    assert msg.attempts == 1 and msg.not_before == t0 + dt.timedelta(minutes=1)

    def at(seconds):
        return mock.patch("django.utils.timezone.now",
                          return_value=t0 + dt.timedelta(seconds=seconds))

    with at(59):
        assert delivery.deliver_one() is None  # not due yet
    with at(60):
        delivery.deliver_one()  # attempt 2 fails
    msg.refresh_from_db()
    assert msg.attempts == 2 and msg.not_before == t0 + dt.timedelta(minutes=3)
    with at(179):
        assert delivery.deliver_one() is None
    with at(180):
        delivery.deliver_one()  # attempt 3 fails; next in 4 minutes
    msg.refresh_from_db()
    assert msg.not_before == t0 + dt.timedelta(minutes=7)
    with at(420):
        assert delivery.deliver_hotline_outbox.call() == 1  # attempt 4 goes through
    msg.refresh_from_db()
    assert msg.status == "sent" and msg.attempts == 4
    assert hotline_server.types() == ["accept"]
    log = list(Exchange.objects.filter(direction="out").order_by("id"))
    assert [e.status_code for e in log] == [500, 500, 500, 200]
    assert [e.attempt for e in log] == [1, 2, 3, 4]
    assert all(e.response_excerpt for e in log)
    assert '"order_id":"GD1"' in log[0].request_body


def test_a_message_fails_for_good_after_the_last_attempt(tree, hotline, hotline_server):
    matter = _order(hotline)
    hotline_server.fail_first = 100
    _transition(tree.user("village_cadre"), matter, "accept")
    t = timezone.now() + dt.timedelta(seconds=1)
    for _ in range(delivery.MAX_ATTEMPTS):
        with mock.patch("django.utils.timezone.now", return_value=t):
            delivery.deliver_one()
        t += dt.timedelta(days=1)
    msg = OutboundMessage.objects.get()
    assert msg.status == "failed" and msg.attempts == delivery.MAX_ATTEMPTS


def test_messages_of_one_order_keep_their_order(tree, hotline, hotline_server):
    matter = _order(hotline)
    cadre = tree.user("village_cadre")
    hotline_server.fail_first = 1
    _transition(cadre, matter, "accept")
    _transition(cadre, matter, "report_result", outcome="solved", outcome_text="已清运。")
    t = timezone.now() + dt.timedelta(seconds=1)
    with mock.patch("django.utils.timezone.now", return_value=t):
        delivery.deliver_hotline_outbox.call()  # accept fails; result must wait behind it
    assert hotline_server.types() == []
    with mock.patch("django.utils.timezone.now", return_value=t + dt.timedelta(minutes=2)):
        assert delivery.deliver_hotline_outbox.call() == 2
    assert hotline_server.types() == ["accept", "result"]


def test_return_order_from_intake_leaves_the_queue(tree, hotline, hotline_server,
                                                   django_capture_on_commit_callbacks):
    matter = _order(hotline)
    client = login_client(tree.user("village_secretary"))
    page = client.get(f"/matters/{matter.pk}/").content.decode()
    assert "派单异议（退单）" in page
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(f"/hotline/matters/{matter.pk}/return/",
                        {"reason": "该路段属于邻县管辖，请改派。"})
    assert r.status_code == 302
    matter.refresh_from_db()
    assert matter.is_closed  # the workflow's 不予受理 took it out of the queue
    assert HotlineOrder.objects.get().status == "returned"
    assert hotline_server.types() == ["return"]
    assert hotline_server.received[0]["body"]["data"]["reason"] == "该路段属于邻县管辖，请改派。"
    # Once only.
    r = client.post(f"/hotline/matters/{matter.pk}/return/", {"reason": "再次"})
    assert OutboundMessage.objects.count() == 1


def test_return_order_while_handling_keeps_the_matter(tree, hotline, hotline_server,
                                                      django_capture_on_commit_callbacks):
    matter = _order(hotline)
    _transition(tree.user("village_cadre"), matter, "accept")
    with django_capture_on_commit_callbacks(execute=True):
        login_client(tree.user("village_secretary")).post(
            f"/hotline/matters/{matter.pk}/return/", {"reason": "不属于本村职责。"})
    matter.refresh_from_db()
    assert matter.stage == "handling" and not matter.is_closed
    assert hotline_server.types() == ["accept", "return"]


def test_return_order_needs_permission_and_a_reason(tree, hotline):
    matter = _order(hotline)
    r = login_client(tree.user("village_cadre")).post(
        f"/hotline/matters/{matter.pk}/return/", {"reason": "不归我们管"})
    assert r.status_code == 403
    r = login_client(tree.user("village_secretary")).post(
        f"/hotline/matters/{matter.pk}/return/", {"reason": "  "})
    assert r.status_code == 302
    assert not OutboundMessage.objects.exists()
    assert HotlineOrder.objects.get().status == "open"


def test_declining_a_12345_matter_is_a_return(tree, hotline, hotline_server):
    matter = _order(hotline)
    _transition(tree.user("village_secretary"), matter, "decline", comment="重复派单")
    msg = OutboundMessage.objects.get()
    assert msg.kind == "return" and msg.payload["data"]["reason"] == "重复派单"


@pytest.mark.parametrize("attempts,minutes", [(1, 1), (2, 2), (3, 4), (7, 64)])
def test_backoff_doubles(attempts, minutes):
    assert delivery.backoff(attempts) == dt.timedelta(minutes=minutes)
