"""The one signature gongzhi puts on (and checks in) HTTP bodies it exchanges with other
systems: HMAC-SHA256 over ``timestamp + "." + body``, hex. The SMS gateway, outgoing webhooks
and the 12345 hotline all use it (each documents its own header names)."""

import hashlib
import hmac


def timestamped_hmac(secret: str, timestamp: str | int, body: bytes) -> str:
    message = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()
