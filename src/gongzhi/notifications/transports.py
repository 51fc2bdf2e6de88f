"""How each channel leaves: pluggable classes chosen by ``GONGZHI_NOTIFY_TRANSPORTS``.

A transport's ``send(msg)`` returns normally when the far end accepted the message and raises
:class:`Permanent` when trying again cannot help (the message is marked failed at once); any
other exception is retried with backoff.
"""

from __future__ import annotations

import json
import time

import httpx
from django.core.cache import cache
from django.utils.module_loading import import_string

from gongzhi.core.signing import timestamped_hmac

from . import conf


class Permanent(Exception):
    """The far end refused the message for good (bad number, unknown template ...)."""


class Transport:
    channel = ""

    def send(self, msg) -> None:  # pragma: no cover - interface
        raise NotImplementedError


class EmailTransport(Transport):
    channel = "email"

    def send(self, msg) -> None:
        from django.conf import settings
        from django.core.mail import EmailMessage, mailers

        mailers.default.send_messages([EmailMessage(
            subject=msg.subject, body=msg.body, from_email=settings.DEFAULT_FROM_EMAIL,
            to=[msg.to], headers={"Message-ID": f"<{msg.key}@gongzhi>"})])


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 over ``timestamp + "." + body`` (hex)."""
    return timestamped_hmac(secret, timestamp, body)


class HttpSmsTransport(Transport):
    """A generic JSON SMS gateway: ``POST GONGZHI_SMS_URL`` with the message and the message's
    key as ``Idempotency-Key``, signed with ``GONGZHI_SMS_SECRET``; any 2xx is accepted."""

    channel = "sms"

    def send(self, msg) -> None:
        body = json.dumps({
            "id": str(msg.key), "to": msg.to, "sign_name": conf.get("GONGZHI_SMS_SIGN_NAME"),
            "text": msg.body, "event": msg.event,
        }, ensure_ascii=False).encode()
        timestamp = str(int(time.time()))
        headers = {"Content-Type": "application/json", "Idempotency-Key": str(msg.key),
                   "X-Api-Key": conf.get("GONGZHI_SMS_KEY"), "X-Timestamp": timestamp}
        secret = conf.get("GONGZHI_SMS_SECRET")
        if secret:
            headers["X-Signature"] = sign(secret, timestamp, body)
        response = httpx.post(conf.get("GONGZHI_SMS_URL"), content=body, headers=headers,
                              timeout=float(conf.get("GONGZHI_SMS_TIMEOUT")))
        if response.status_code in (408, 429) or response.status_code >= 500:
            raise RuntimeError(f"SMS gateway answered {response.status_code}")
        if response.status_code >= 400:
            raise Permanent(f"SMS gateway refused: {response.status_code} {response.text[:200]}")


TOKEN_CACHE_KEY = "notifications:wechat:token"  # noqa: S105 - a cache key
TOKEN_ERRORS = {40001, 40014, 42001}  # invalid or expired access token


class WeChatTemplateTransport(Transport):
    """Template messages of an official account: an access token fetched with the app id and
    secret and cached until shortly before it expires; ``template_id`` per event from
    ``GONGZHI_WECHAT_TEMPLATES``; the recipient's openid from their binding."""

    channel = "wechat"

    def token(self, *, refresh: bool = False) -> str:
        if not refresh:
            cached = cache.get(TOKEN_CACHE_KEY)
            if cached:
                return cached
        response = httpx.get(
            conf.get("GONGZHI_WECHAT_API").rstrip("/") + "/cgi-bin/token",
            params={"grant_type": "client_credential", "appid": conf.get("GONGZHI_WECHAT_APPID"),
                    "secret": conf.get("GONGZHI_WECHAT_SECRET")},
            timeout=float(conf.get("GONGZHI_WECHAT_TIMEOUT")))
        response.raise_for_status()
        data = response.json()
        if "access_token" not in data:
            raise RuntimeError(f"WeChat token refused: {data.get('errcode')} {data.get('errmsg')}")
        lifetime = int(data.get("expires_in", 7200))
        cache.set(TOKEN_CACHE_KEY, data["access_token"], max(lifetime - 300, 60))
        return data["access_token"]

    def send(self, msg) -> None:
        template_id = conf.get("GONGZHI_WECHAT_TEMPLATES").get(msg.event)
        if not template_id:
            raise Permanent(f"no WeChat template for {msg.event}")
        payload = {"touser": msg.to, "template_id": template_id,
                   "data": {k: {"value": v} for k, v in (msg.data or {}).items()}}
        if msg.url:
            payload["url"] = msg.url
        for attempt in (0, 1):
            response = httpx.post(
                conf.get("GONGZHI_WECHAT_API").rstrip("/") + "/cgi-bin/message/template/send",
                params={"access_token": self.token(refresh=attempt == 1)}, json=payload,
                timeout=float(conf.get("GONGZHI_WECHAT_TIMEOUT")))
            response.raise_for_status()
            data = response.json()
            errcode = int(data.get("errcode", 0))
            if errcode == 0:
                return
            if errcode in TOKEN_ERRORS and attempt == 0:
                cache.delete(TOKEN_CACHE_KEY)
                continue
            if errcode == -1:  # system busy
                raise RuntimeError(f"WeChat busy: {data.get('errmsg')}")
            raise Permanent(f"WeChat refused: {errcode} {data.get('errmsg')}")


def transport_for(channel: str) -> Transport:
    path = conf.get("GONGZHI_NOTIFY_TRANSPORTS").get(channel)
    if not path:
        raise Permanent(f"channel {channel} has no transport configured")
    try:
        return import_string(path)()
    except ImportError as exc:
        raise Permanent(f"transport {path} cannot be loaded: {exc}") from exc
