"""Delivery settings of the notification channels.

Each value is read when used, from the Django setting of the same name if a settings module
defines it, else from the environment, else the default below, so deployments configure
channels with environment variables and tests with ``override_settings``.
"""

from __future__ import annotations

import json
import os
from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # Which class sends each channel (dotted paths); see transports.py.
    "GONGZHI_NOTIFY_TRANSPORTS": {
        "email": "gongzhi.notifications.transports.EmailTransport",
        "sms": "gongzhi.notifications.transports.HttpSmsTransport",
        "wechat": "gongzhi.notifications.transports.WeChatTemplateTransport",
    },
    # SMS through a generic JSON gateway. No URL: no SMS is written at all.
    "GONGZHI_SMS_URL": "",
    "GONGZHI_SMS_KEY": "",
    "GONGZHI_SMS_SECRET": "",
    "GONGZHI_SMS_SIGN_NAME": "共治",
    "GONGZHI_SMS_TIMEOUT": 10.0,
    # Events whose messages staff also receive by SMS (residents always do, unless opted out).
    "GONGZHI_SMS_STAFF_EVENTS": ["handling.summoned", "deadline_passed"],
    # WeChat official account template messages. No app id: no WeChat messages.
    "GONGZHI_WECHAT_API": "https://api.weixin.qq.com",
    "GONGZHI_WECHAT_APPID": "",
    "GONGZHI_WECHAT_SECRET": "",
    "GONGZHI_WECHAT_TEMPLATES": {},  # event -> template_id
    "GONGZHI_WECHAT_TIMEOUT": 10.0,
    # Residents bind their openid through the official account's web authorisation (网页授权).
    "GONGZHI_WECHAT_OAUTH_URL": "https://open.weixin.qq.com/connect/oauth2/authorize",
    "GONGZHI_WECHAT_STATE_SECONDS": 600,  # how long the signed ``state`` is accepted
    # Delivery.
    "GONGZHI_NOTIFY_MAX_ATTEMPTS": 6,
    "GONGZHI_NOTIFY_BACKOFF_SECONDS": 60.0,  # attempt n waits base * 2**(n-1)
    "GONGZHI_NOTIFY_CLAIM_SECONDS": 120.0,  # a claimed message is retried after this lease
    "GONGZHI_NOTIFY_QUIET_HOURS": "22:00-08:00",  # residents' default quiet window
    "GONGZHI_SITE_URL": "",  # absolute links in messages, e.g. https://gongzhi.example.org
}


def get(name: str) -> Any:
    default = DEFAULTS[name]
    if hasattr(settings, name):
        return getattr(settings, name)
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if isinstance(default, bool):
        return raw.lower() in {"1", "true", "yes", "on"}
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    if isinstance(default, dict):
        return json.loads(raw)
    if isinstance(default, list):
        return [part.strip() for part in raw.split(",") if part.strip()]
    return raw


def sms_enabled() -> bool:
    return bool(get("GONGZHI_SMS_URL"))


def wechat_enabled() -> bool:
    return bool(get("GONGZHI_WECHAT_APPID"))


def absolute(url: str) -> str:
    if not url or url.startswith(("http://", "https://")):
        return url
    return get("GONGZHI_SITE_URL").rstrip("/") + url
