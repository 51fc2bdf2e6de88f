"""SMS, WeChat and email through loopback servers; templates per language; quiet hours,
opt-outs and retries; the acceptance notice and evaluation link to a matter's reporter."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core import mail
from django.core.cache import cache
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from gongzhi.matters.actions import do_raise_matter
from gongzhi.matters.workflow import do_transition
from gongzhi.notifications import preferences
from gongzhi.notifications.actions import do_bind_wechat, do_set_preferences
from gongzhi.notifications.models import OutboxMessage
from gongzhi.notifications.outbox import Resident, deliver_outbox, notify
from gongzhi.notifications.transports import sign
from gongzhi.places.models import Person
from gongzhi.testing import login_client

from .servers import SmsGateway, WeChat

NO_QUIET = "00:00-00:00"


def head_of(household) -> Person:
    return Person.objects.get(household_id=household.pk, relation="head")


def sms_settings(gw, **extra):
    return override_settings(GONGZHI_SMS_URL=gw.url + "/send", GONGZHI_SMS_KEY="k1",
                             GONGZHI_SMS_SECRET="sms-secret", GONGZHI_SMS_TIMEOUT=5,
                             GONGZHI_NOTIFY_QUIET_HOURS=extra.pop("quiet", NO_QUIET),
                             GONGZHI_SITE_URL="https://gz.example.org", **extra)


def raise_matter(tree, **kw):
    args = dict(place=tree.grid, title="村口路灯不亮", text="村口路灯坏了一个月",
                channel="walk_in", ledger="claim", acting_user=tree.user("grid_worker"),
                reporter_person=head_of(tree.household), reporter_phone="13812341234")
    args.update(kw)
    return do_raise_matter(**args)


def test_acceptance_notice_reaches_the_reporter_by_sms_once(
        tree, django_capture_on_commit_callbacks):
    with SmsGateway() as gw, sms_settings(gw):
        matter = raise_matter(tree)
        client = login_client(tree.user("village_secretary"))
        with django_capture_on_commit_callbacks(execute=True):
            r = client.post(f"/matters/{matter.pk}/transition/", {"transition": "accept"})
        assert r.status_code in (200, 302)
        assert len(gw.delivered) == 1
        sms = gw.delivered[0]
        assert sms["to"] == "13812341234" and sms["sign_name"]
        assert "已受理" in sms["text"] and matter.tracking_code in sms["text"]
        # The signed link to the resident's preferences is in the message.
        assert "https://gz.example.org/notifications/preferences/" in sms["text"]
        req = gw.requests[0]
        assert req["headers"]["Idempotency-Key"] == sms["id"]
        msg = OutboxMessage.objects.get(event="matters.accepted")
        assert msg.status == "sent" and str(msg.key) == sms["id"] and msg.is_resident
        # The request is signed with the gateway secret.
        body = json.dumps({k: sms[k] for k in ("id", "to", "sign_name", "text", "event")},
                          ensure_ascii=False).encode()
        assert req["headers"]["X-Signature"] == sign("sms-secret",
                                                     req["headers"]["X-Timestamp"], body)


def test_english_preference_renders_english_sms(tree, django_capture_on_commit_callbacks):
    do_set_preferences("13812341234", language="en", quiet_start=dt.time(0, 0),
                       quiet_end=dt.time(0, 0))
    with SmsGateway() as gw, sms_settings(gw):
        matter = raise_matter(tree)
        with django_capture_on_commit_callbacks(execute=True):
            do_transition(matter, "accept", acting_user=tree.user("village_secretary"))
        assert len(gw.delivered) == 1
        text = gw.delivered[0]["text"]
        assert text.startswith("Your report") and "已受理" not in text


def test_opt_out_is_recorded_as_skipped_with_reason(tree, django_capture_on_commit_callbacks):
    do_set_preferences("13812341234", opt_out_sms=True)
    with SmsGateway() as gw, sms_settings(gw):
        matter = raise_matter(tree)
        with django_capture_on_commit_callbacks(execute=True):
            do_transition(matter, "accept", acting_user=tree.user("village_secretary"))
        assert gw.requests == []
    msg = OutboxMessage.objects.get(event="matters.accepted")
    assert msg.status == "skipped" and "退订" in msg.skip_reason


def test_quiet_hours_defer_residents_but_not_urgent_events(
        tree, django_capture_on_commit_callbacks):
    now = timezone.localtime()
    window = f"{(now - dt.timedelta(hours=1)):%H:%M}-{(now + dt.timedelta(hours=1)):%H:%M}"
    with SmsGateway() as gw, sms_settings(gw, quiet=window):
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            notify(event="matters.feedback", title="结果", residents=[Resident("13812341234")],
                   county_id=tree.county.pk)
        msg = OutboxMessage.objects.get(event="matters.feedback")
        assert msg.status == "pending" and msg.not_before > timezone.now() + dt.timedelta(
            minutes=55)
        assert gw.requests == []
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            notify(event="handling.summoned", title="紧急", urgent=True,
                   residents=[Resident("13912345678")], county_id=tree.county.pk)
        assert [d["to"] for d in gw.delivered] == ["13912345678"]


def test_failed_send_is_retried_with_backoff_then_sent(tree, django_capture_on_commit_callbacks):
    with SmsGateway(fail=1) as gw, sms_settings(gw, GONGZHI_NOTIFY_BACKOFF_SECONDS=60):
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            notify(event="matters.feedback", title="结果", residents=[Resident("13812341234")],
                   county_id=tree.county.pk)
        msg = OutboxMessage.objects.get()
        assert msg.status == "pending" and msg.attempts == 1 and "503" in msg.last_error
        assert msg.not_before > timezone.now() + dt.timedelta(seconds=50)
        assert deliver_outbox.call() == 0  # not due yet
        OutboxMessage.objects.filter(pk=msg.pk).update(not_before=timezone.now())
        assert deliver_outbox.call() == 1
        msg.refresh_from_db()
        assert msg.status == "sent" and msg.attempts == 2 and msg.last_error == ""
        # Both tries carried the same idempotency key.
        assert {r["key"] for r in gw.requests} == {str(msg.key)}


def test_misconfigured_transport_fails_at_once(tree, django_capture_on_commit_callbacks):
    with override_settings(GONGZHI_SMS_URL="http://127.0.0.1:9/x",
                           GONGZHI_NOTIFY_TRANSPORTS={"sms": "no.such.Transport"},
                           GONGZHI_NOTIFY_QUIET_HOURS=NO_QUIET), \
            django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        notify(event="x", title="t", residents=[Resident("13812341234")],
               county_id=tree.county.pk)
    msg = OutboxMessage.objects.get()
    assert msg.status == "failed" and msg.attempts == 1 and "no.such" in msg.last_error


@pytest.fixture
def wechat():
    cache.delete("notifications:wechat:token")
    with WeChat(expire_first_token=True) as wx, override_settings(
        GONGZHI_WECHAT_API=wx.url, GONGZHI_WECHAT_APPID="wxtest", GONGZHI_WECHAT_SECRET="s3cret",
        GONGZHI_WECHAT_TEMPLATES={"evaluation_request": "TPL-EVAL",
                                  "meetings.notice": "TPL-MEET"},
        GONGZHI_NOTIFY_QUIET_HOURS=NO_QUIET, GONGZHI_SITE_URL="https://gz.example.org",
    ):
        yield wx
    cache.delete("notifications:wechat:token")


def test_wechat_evaluation_link_with_token_refresh_and_cache(
        tree, wechat, django_capture_on_commit_callbacks):
    person = head_of(tree.household)
    do_bind_wechat("o-resident-1", person=person, acting_user=tree.user("county_office"))
    matter = raise_matter(tree)
    sec = tree.user("village_secretary")
    with django_capture_on_commit_callbacks(execute=True):
        matter = do_transition(matter, "accept", acting_user=sec)
        matter = do_transition(matter, "report_result", acting_user=sec,
                               fields={"outcome": "solved", "outcome_text": "已更换灯泡"})
        matter = do_transition(matter, "give_feedback", acting_user=sec, comment="已告知")
    assert matter.stage == "evaluation"
    assert len(wechat.sent) == 1
    sent = wechat.sent[0]
    assert sent["touser"] == "o-resident-1" and sent["template_id"] == "TPL-EVAL"
    assert sent["url"].startswith("https://gz.example.org/e/")
    assert "请评价" in sent["data"]["first"]["value"]
    # The first token was refused as expired: fetched again once, then cached.
    assert wechat.tokens_issued == 2
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        notify(event="evaluation_request", title="再次", residents=[Resident(person=person)],
               matter=matter)
    assert len(wechat.sent) == 2 and wechat.tokens_issued == 2
    # Events without a template id are not sent by WeChat at all.
    assert not OutboxMessage.objects.filter(channel="wechat").exclude(
        event="evaluation_request").exists()


def test_staff_email_and_in_app(tree, django_capture_on_commit_callbacks):
    user = tree.user("village_secretary")
    user.email = "sec@example.org"
    user.save(update_fields=["email"])
    matter = raise_matter(tree)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        notify(event="handling.assigned", title="新交办事项", users=[user], matter=matter)
    assert len(mail.outbox) == 1 and matter.title in mail.outbox[0].subject


def test_preferences_from_signed_link(tree, client):
    token = preferences.token_for("138 1234 1234")
    url = f"/notifications/preferences/{token}/"
    page = client.get(url)
    assert page.status_code == 200 and "138****1234" in page.content.decode()
    r = client.post(url, {"language": "en", "quiet_start": "21:00", "quiet_end": "07:30",
                          "opt_out_wechat": "on"})
    assert r.status_code == 302
    pref = preferences.find("13812341234")
    assert pref.language == "en" and pref.opt_out_wechat and not pref.opt_out_sms
    assert pref.quiet_start == dt.time(21, 0)
    assert client.get(f"/notifications/preferences/{token}x/").status_code == 404
    assert client.get("/notifications/preferences/13812341234/").status_code == 404


def test_staff_set_preferences_on_the_person_record(tree):
    person = head_of(tree.household)
    sec = login_client(tree.user("village_secretary"))
    household = sec.get(f"/places/household/{tree.household.pk}/")
    link = f"/notifications/person/{person.pk}/preferences/"
    assert link in household.content.decode()
    r = sec.post(link, {"language": "zh-hans", "quiet_start": "22:00", "quiet_end": "08:00",
                        "opt_out_all": "on"})
    assert r.status_code == 302
    assert preferences.find(person.phone).opt_out_all
    other = head_of(tree.other_household)
    assert sec.get(f"/notifications/person/{other.pk}/preferences/").status_code == 404


def test_outbox_page_for_county_admins_only(tree, django_capture_on_commit_callbacks):
    with SmsGateway(fail=99) as gw, sms_settings(gw, GONGZHI_NOTIFY_MAX_ATTEMPTS=1):
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            notify(event="matters.feedback", title="结果", residents=[Resident("13812341234")],
                   county_id=tree.county.pk)
        msg = OutboxMessage.objects.get()
        assert msg.status == "failed"
        admin = login_client(tree.user("county_office"))
        page = admin.get("/notifications/outbox/?status=failed")
        html = page.content.decode()
        assert page.status_code == 200 and "matters.feedback" in html and "503" in html
        assert "13812341234" not in html  # addresses are not shown
        assert login_client(tree.user("village_secretary")).get(
            "/notifications/outbox/").status_code == 403
        gw.fail = 0
        with django_capture_on_commit_callbacks(execute=True):
            r = admin.post(f"/notifications/outbox/{msg.pk}/retry/")
        assert r.status_code == 302
        msg.refresh_from_db()
        assert msg.status == "sent" and len(gw.delivered) == 1
