"""Rate limits of the JSON API: one per token (or per logged-in user) and one per address.

Both count requests in a sliding window kept in Django's cache (``API_RATE_CACHE``, the
``default`` cache unless set). A request over either limit answers 429 with a ``detail``
sentence and ``Retry-After`` (whole seconds until the oldest request in the window expires).

The rates are read from the settings at each request (``API_RATE_TOKEN``, ``API_RATE_ADDRESS``:
``"N/s"``, ``"N/min"``, ``"N/hour"``, ``"N/day"``; empty means no limit), so a deployment sets
them from the environment and a test may change them with ``override_settings``.

The cache is per process when it is Django's local-memory cache (the default): then each
worker process counts on its own, and a client may get up to ``workers × N``. A deployment
with several processes points ``default`` (or ``API_RATE_CACHE``) at a shared cache.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time

from django.conf import settings
from django.core.cache import caches
from ninja.throttling import BaseThrottle, SimpleRateThrottle

PERIODS = SimpleRateThrottle._PERIODS


def parse_rate(rate: str | None) -> tuple[int, int] | None:
    """``"120/min"`` → ``(120, 60)``; ``"10/5s"`` → ``(10, 5)``; empty → None (no limit)."""
    if not rate:
        return None
    count, _slash, rest = rate.strip().partition("/")
    rest = rest.strip().lower()
    for unit in sorted(PERIODS, key=len, reverse=True):
        if rest.endswith(unit):
            multiple = rest[: -len(unit)].strip()
            return int(count), (int(multiple) if multiple else 1) * PERIODS[unit]
    return int(count), int(rest)


def client_address(request) -> str:
    """The caller's address: ``REMOTE_ADDR``, or with ``API_NUM_PROXIES`` = N > 0 trusted
    proxies in front, the address the outermost of them saw (N-th from the right of
    ``X-Forwarded-For``)."""
    remote = request.META.get("REMOTE_ADDR", "") or ""
    proxies = getattr(settings, "API_NUM_PROXIES", 0) or 0
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if proxies <= 0 or not forwarded:
        return remote
    hops = [h.strip() for h in forwarded.split(",") if h.strip()]
    return hops[-min(proxies, len(hops))] if hops else remote


class WindowThrottle(BaseThrottle):
    """A sliding-window counter; subclasses say which setting holds the rate and whom to
    count."""

    setting = ""
    scope = ""

    def __init__(self) -> None:
        self._local = threading.local()  # the wait of this thread's last refusal

    def rate(self) -> tuple[int, int] | None:
        return parse_rate(getattr(settings, self.setting, ""))

    def ident(self, request) -> str | None:
        raise NotImplementedError

    def allow_request(self, request) -> bool:
        self._local.wait = None
        rate = self.rate()
        ident = self.ident(request)
        if rate is None or ident is None:
            return True
        limit, duration = rate
        cache = caches[getattr(settings, "API_RATE_CACHE", "default") or "default"]
        key = f"gongzhi:api-rate:{self.scope}:{ident}"
        now = time.time()
        history = [t for t in cache.get(key, []) if t > now - duration]
        if len(history) >= limit:
            # a place frees up when the limit-th newest request leaves the window
            self._local.wait = max(1, math.ceil(history[limit - 1] + duration - now))
            return False
        history.insert(0, now)
        cache.set(key, history[:limit], duration)
        return True

    def wait(self) -> float | None:
        return getattr(self._local, "wait", None)


class TokenThrottle(WindowThrottle):
    """Per token; a logged-in browser session counts per user."""

    setting = "API_RATE_TOKEN"
    scope = "token"

    def ident(self, request) -> str | None:
        user = getattr(request, "auth", None)
        if user is None or not getattr(user, "is_authenticated", False):
            return None
        token = getattr(user, "api_token", None)
        return f"t{token.pk}" if token is not None else f"u{user.pk}"


class AddressThrottle(WindowThrottle):
    """Per client address, authenticated or not."""

    setting = "API_RATE_ADDRESS"
    scope = "address"

    def ident(self, request) -> str | None:
        address = client_address(request)
        return hashlib.sha256(address.encode()).hexdigest()[:32] if address else None


THROTTLES = [TokenThrottle(), AddressThrottle()]
