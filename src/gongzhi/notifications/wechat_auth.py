"""Residents binding WeChat themselves: the official account's web authorisation (网页授权,
scope ``snsapi_base``, silent: WeChat only tells us the resident's openid).

1. The signed preferences link leads to ``/notifications/wechat/bind/<token>/``, which sends
   the browser to WeChat's authorisation URL with a ``state`` signed here that names the phone
   and expires after ``GONGZHI_WECHAT_STATE_SECONDS``.
2. WeChat sends the browser back to ``/notifications/wechat/callback/?code=..&state=..``; the
   code is exchanged at ``/sns/oauth2/access_token`` for the openid, which is bound to the
   phone by ``do_bind_wechat``.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

import httpx
from django.core import signing
from django.utils.translation import gettext as _

from . import conf
from .preferences import normalise_phone

STATE_SALT = "gongzhi.notifications.wechat.state"


class WeChatAuthError(Exception):
    """The authorisation cannot complete; the message is shown to the resident."""


def state_for(phone: str) -> str:
    return signing.dumps({"p": normalise_phone(phone)}, salt=STATE_SALT, compress=True)


def phone_from_state(state: str) -> str:
    """The phone a state names; raises WeChatAuthError when it is tampered with or too old."""
    try:
        data = signing.loads(state or "", salt=STATE_SALT,
                             max_age=int(conf.get("GONGZHI_WECHAT_STATE_SECONDS")))
    except signing.SignatureExpired as exc:
        raise WeChatAuthError(_("授权已过期，请回到通知偏好页面重新点击“接收微信通知”。")) from exc
    except signing.BadSignature as exc:
        raise WeChatAuthError(_("授权链接无效，未绑定微信。")) from exc
    phone = data.get("p") if isinstance(data, dict) else None
    if not phone:
        raise WeChatAuthError(_("授权链接无效，未绑定微信。"))
    return phone


def authorize_url(phone: str, redirect_uri: str) -> str:
    """WeChat's authorisation page for this phone, returning to ``redirect_uri``. WeChat
    requires its parameters in this order and the ``#wechat_redirect`` fragment."""
    query = urlencode([
        ("appid", conf.get("GONGZHI_WECHAT_APPID")),
        ("redirect_uri", redirect_uri),
        ("response_type", "code"),
        ("scope", "snsapi_base"),
        ("state", state_for(phone)),
    ])
    return f"{conf.get('GONGZHI_WECHAT_OAUTH_URL')}?{query}#wechat_redirect"


def openid_for_code(code: str) -> str:
    """Exchange the code WeChat gave the browser for the resident's openid."""
    if not code:
        raise WeChatAuthError(_("您没有同意微信授权，未绑定微信。"))
    try:
        response = httpx.get(
            conf.get("GONGZHI_WECHAT_API").rstrip("/") + "/sns/oauth2/access_token",
            params={"appid": conf.get("GONGZHI_WECHAT_APPID"),
                    "secret": conf.get("GONGZHI_WECHAT_SECRET"),
                    "code": code, "grant_type": "authorization_code"},
            timeout=float(conf.get("GONGZHI_WECHAT_TIMEOUT")))
        response.raise_for_status()
        data = json.loads(response.text)  # WeChat answers JSON as text/plain
    except (httpx.HTTPError, ValueError) as exc:
        raise WeChatAuthError(_("暂时无法连接微信，未绑定微信，请稍后再试。")) from exc
    if not isinstance(data, dict):
        raise WeChatAuthError(_("微信返回了无法识别的结果，未绑定微信。"))
    errcode = data.get("errcode")
    if errcode not in (None, 0):
        if errcode in (40029, 40163):  # invalid code, code already used
            raise WeChatAuthError(
                _("微信授权码无效或已使用，未绑定微信，请重新点击“接收微信通知”。"))
        raise WeChatAuthError(_("微信授权失败（错误码 %(code)s：%(message)s），未绑定微信。") % {
            "code": errcode, "message": str(data.get("errmsg", ""))[:100]})
    openid = str(data.get("openid") or "")
    if not openid:
        raise WeChatAuthError(_("微信没有返回 openid，未绑定微信。"))
    return openid
