"""The signature both sides compute, and the connection secrets.

A request carries ``X-Hotline-Timestamp`` (Unix seconds) and ``X-Hotline-Signature``:
the lowercase hex HMAC-SHA256, keyed with the secret, of ``timestamp + "." + raw body``
(the body's exact bytes, UTF-8). ``docs/hotline-12345.md`` shows a worked example that a test
checks against :func:`sign`.

Secrets are not stored. Each is derived from the server's key (``HOTLINE_SECRET_KEY``,
falling back to ``SECRET_KEY``) and a random salt on the connection, so a copy of the database
alone does not give them away; rotating a connection's salts replaces both.
"""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings

from gongzhi.core.signing import timestamped_hmac

TIMESTAMP_HEADER = "X-Hotline-Timestamp"
SIGNATURE_HEADER = "X-Hotline-Signature"
MAX_SKEW_SECONDS = 300


def sign(secret: str, timestamp: str | int, body: bytes) -> str:
    return timestamped_hmac(secret, timestamp, body)


def verify(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    return hmac.compare_digest(sign(secret, timestamp, body), (signature or "").strip().lower())


def _server_key() -> bytes:
    return (getattr(settings, "HOTLINE_SECRET_KEY", "") or settings.SECRET_KEY).encode("utf-8")


def _derive(label: str, connection_key: str, salt: str) -> str:
    msg = f"gongzhi.hotline:{label}:{connection_key}:{salt}".encode()
    return "hs_" + hmac.new(_server_key(), msg, hashlib.sha256).hexdigest()


def inbound_secret(connection) -> str:
    """What the hotline signs its requests to us with."""
    return _derive("in", connection.key, connection.inbound_salt)


def outbound_secret(connection) -> str:
    """What we sign our pushes to the hotline with."""
    return _derive("out", connection.key, connection.outbound_salt)


def fingerprint(secret: str) -> str:
    """A short, harmless way to tell secrets apart on a page."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()[:8]
