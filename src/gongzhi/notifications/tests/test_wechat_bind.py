"""Residents bind WeChat themselves through the official account's web authorisation
(snsapi_base), against a loopback WeChat; staff see and remove a member's binding."""

from __future__ import annotations

import time
from unittest import mock
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.cache import cache
from django.db import transaction
from django.test import override_settings

from gongzhi.audit.models import AuditEvent
from gongzhi.notifications import preferences, wechat_auth
from gongzhi.notifications.actions import do_bind_wechat
from gongzhi.notifications.models import OutboxMessage, WeChatBinding
from gongzhi.notifications.outbox import Resident, notify
from gongzhi.places.models import Person
from gongzhi.testing import login_client

from .servers import WeChat

PHONE = "13812341234"
OAUTH = "https://open.weixin.qq.com/connect/oauth2/authorize"


@pytest.fixture
def wechat():
    cache.delete("notifications:wechat:token")
    with WeChat() as wx, override_settings(
        GONGZHI_WECHAT_API=wx.url, GONGZHI_WECHAT_APPID="wxtest", GONGZHI_WECHAT_SECRET="s3cret",
        GONGZHI_WECHAT_TEMPLATES={"matters.feedback": "TPL-FB"}, GONGZHI_WECHAT_TIMEOUT=5,
        GONGZHI_NOTIFY_QUIET_HOURS="00:00-00:00", GONGZHI_SITE_URL="https://gz.example.org",
    ):
        yield wx
    cache.delete("notifications:wechat:token")


def start(client, phone: str = PHONE) -> dict:
    """Open the preferences page, follow its WeChat button; the authorisation parameters."""
    token = preferences.token_for(phone)
    page = client.get(f"/notifications/preferences/{token}/").content.decode()
    bind = f"/notifications/wechat/bind/{token}/"
    assert "接收微信通知" in page and bind in page
    r = client.get(bind)
    assert r.status_code == 302
    location = urlsplit(r["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == OAUTH
    assert location.fragment == "wechat_redirect"
    return {k: v[0] for k, v in parse_qs(location.query).items()}


def callback(client, code: str, state: str):
    return client.get("/notifications/wechat/callback/", {"code": code, "state": state})


def test_redirect_carries_the_authorisation_parameters(tree, wechat, client):
    params = start(client)
    assert params["appid"] == "wxtest" and params["response_type"] == "code"
    assert params["scope"] == "snsapi_base"
    assert params["redirect_uri"] == "https://gz.example.org/notifications/wechat/callback/"
    assert wechat_auth.phone_from_state(params["state"]) == PHONE
    assert client.get(f"/notifications/wechat/bind/{PHONE}/").status_code == 404


def test_good_callback_binds_and_template_message_reaches_the_openid(
        tree, wechat, client, django_capture_on_commit_callbacks):
    params = start(client)
    wechat.codes["code-1"] = "o-resident-9"
    r = callback(client, "code-1", params["state"])
    assert r.status_code == 200 and "已绑定微信" in r.content.decode()
    assert wechat.exchanges[-1] == {"appid": "wxtest", "secret": "s3cret", "code": "code-1",
                                    "grant_type": "authorization_code"}
    binding = WeChatBinding.objects.get()
    assert binding.openid == "o-resident-9" and binding.phone == PHONE
    event = AuditEvent.objects.get(action="notifications.wechat.bind")
    assert event.actor is None and PHONE not in str(event.after)
    # The preferences page now offers to unbind.
    page = client.get(f"/notifications/preferences/{preferences.token_for(PHONE)}/")
    assert "解除微信绑定" in page.content.decode()
    # A message to the resident by phone alone reaches the bound openid.
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        notify(event="matters.feedback", title="办理结果", residents=[Resident(PHONE)],
               county_id=tree.county.pk)
    assert [m["touser"] for m in wechat.sent] == ["o-resident-9"]
    assert wechat.sent[0]["template_id"] == "TPL-FB"
    assert OutboxMessage.objects.get(channel="wechat").status == "sent"
    # A code works once: replaying the callback binds nothing new and says so.
    again = callback(client, "code-1", params["state"])
    assert again.status_code == 400 and "无效或已使用" in again.content.decode()


def test_tampered_or_expired_state_is_refused(tree, wechat, client):
    params = start(client)
    wechat.codes["code-2"] = "o-x"
    forged = params["state"][:-2] + ("AA" if not params["state"].endswith("AA") else "BB")
    # The preferences token is signed too, but not as a state.
    for bad in (forged, preferences.token_for(PHONE), "", PHONE):
        r = callback(client, "code-2", bad)
        assert r.status_code == 400 and "授权链接无效" in r.content.decode()
    with mock.patch("django.core.signing.time.time", return_value=time.time() - 3600):
        old = wechat_auth.state_for(PHONE)
    r = callback(client, "code-2", old)
    assert r.status_code == 400 and "授权已过期" in r.content.decode()
    assert not WeChatBinding.objects.exists() and wechat.exchanges == []


def test_wechat_error_binds_nothing(tree, wechat, client):
    params = start(client)
    r = callback(client, "not-issued", params["state"])
    assert r.status_code == 400 and "未绑定微信" in r.content.decode()
    with override_settings(GONGZHI_WECHAT_SECRET="wrong"):
        wechat.codes["code-3"] = "o-y"
        r = callback(client, "code-3", params["state"])
    html = r.content.decode()
    assert r.status_code == 400 and "40125" in html and "invalid appsecret" in html
    with override_settings(GONGZHI_WECHAT_API="http://127.0.0.1:9"):
        r = callback(client, "code-4", params["state"])
    assert r.status_code == 400 and "暂时无法连接微信" in r.content.decode()
    assert not WeChatBinding.objects.exists()
    assert not AuditEvent.objects.filter(action="notifications.wechat.bind").exists()


def test_resident_unbinds_from_the_signed_link(tree, wechat, client,
                                               django_capture_on_commit_callbacks):
    do_bind_wechat("o-resident-9", phone=PHONE, acting_user=None)
    token = preferences.token_for(PHONE)
    assert client.get(f"/notifications/wechat/unbind/{token}/").status_code == 405
    r = client.post(f"/notifications/wechat/unbind/{token}/")
    assert r.status_code == 302 and not WeChatBinding.objects.exists()
    assert AuditEvent.objects.filter(action="notifications.wechat.unbind").count() == 1
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        notify(event="matters.feedback", title="办理结果", residents=[Resident(PHONE)],
               county_id=tree.county.pk)
    assert wechat.sent == []


def test_staff_see_and_remove_a_members_binding(tree, wechat):
    person = Person.objects.get(household_id=tree.household.pk, relation="head")
    sec = login_client(tree.user("village_secretary"))
    url = f"/notifications/person/{person.pk}/preferences/"
    page = sec.get(url).content.decode()
    assert "尚未绑定微信" in page and "<svg" in page  # a QR code of the binding link
    do_bind_wechat("o-head", phone=person.phone, acting_user=None)
    assert "解除微信绑定" in sec.get(url).content.decode()
    r = sec.post(f"/notifications/person/{person.pk}/wechat/unbind/")
    assert r.status_code == 302 and not WeChatBinding.objects.exists()
    other = Person.objects.get(household_id=tree.other_household.pk, relation="head")
    do_bind_wechat("o-other", person=other, acting_user=None)
    assert sec.post(f"/notifications/person/{other.pk}/wechat/unbind/").status_code == 404
    assert WeChatBinding.objects.filter(openid="o-other").exists()


def test_without_an_app_id_there_is_no_wechat_button(tree, client):
    token = preferences.token_for(PHONE)
    assert "接收微信通知" not in client.get(
        f"/notifications/preferences/{token}/").content.decode()
    assert client.get(f"/notifications/wechat/bind/{token}/").status_code == 404
