"""Residents' preferences: finding them by phone, the signed no-login link, quiet hours."""

from __future__ import annotations

import datetime as dt
import re

from django.core import signing
from django.urls import reverse
from django.utils import timezone

from . import conf
from .models import Preference

SALT = "gongzhi.notifications.preferences"


def normalise_phone(phone: str) -> str:
    digits = re.sub(r"[^\d+]", "", phone or "")
    if digits.startswith("+86"):
        digits = digits[3:]
    return digits[:20]


def find(phone: str) -> Preference | None:
    phone = normalise_phone(phone)
    if not phone:
        return None
    return Preference.objects.filter(phone=phone).first()


def token_for(phone: str) -> str:
    return signing.dumps({"p": normalise_phone(phone)}, salt=SALT, compress=True)


def phone_from_token(token: str) -> str | None:
    try:
        data = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        return None
    phone = data.get("p") if isinstance(data, dict) else None
    return phone or None


def link_for(phone: str) -> str:
    return conf.absolute(reverse("notifications:preferences", args=[token_for(phone)]))


def _default_window() -> tuple[dt.time, dt.time]:
    start, _, end = str(conf.get("GONGZHI_NOTIFY_QUIET_HOURS")).partition("-")
    try:
        return dt.time.fromisoformat(start.strip()), dt.time.fromisoformat(end.strip())
    except ValueError:
        return dt.time(22, 0), dt.time(8, 0)


def quiet_until(pref: Preference | None, now: dt.datetime | None = None) -> dt.datetime | None:
    """The end of the quiet window if ``now`` falls inside it (local time), else None.
    A window whose start equals its end means no quiet hours."""
    now = now or timezone.now()
    start, end = (pref.quiet_start, pref.quiet_end) if pref else _default_window()
    if start == end:
        return None
    local = timezone.localtime(now)
    t = local.time()
    inside = (start <= t < end) if start < end else (t >= start or t < end)
    if not inside:
        return None
    end_at = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if end_at <= local:
        end_at += dt.timedelta(days=1)
    return end_at
