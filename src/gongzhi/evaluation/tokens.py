"""The evaluation link's token: ``<request id>-<16 characters>``, the characters an HMAC of the
request's id and nonce under the server's secret (``SECRET_KEY``, or one of
``SECRET_KEY_FALLBACKS`` while a key is being rotated).

Nothing secret is stored: the token can be shown again to staff who read the link out to a
reporter by phone, and a stolen database does not yield working links. The alphabet leaves out
0/O and 1/I, so the token survives being read aloud; 80 bits make guessing hopeless. Whether a
token still works (once, and before the deadline) is the request's state, not the token's.
"""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from django.utils.crypto import constant_time_compare, salted_hmac

from gongzhi.matters.models import TRACKING_ALPHABET

from .models import EvaluationRequest

SALT = "gongzhi.evaluation.link"
SIG_LENGTH = 16


def _signature(pk: int, nonce: str, secret: str | None = None) -> str:
    digest = salted_hmac(SALT, f"{pk}:{nonce}", secret=secret, algorithm="sha256").digest()
    number = int.from_bytes(digest[:10], "big")
    chars = []
    for _ in range(SIG_LENGTH):
        chars.append(TRACKING_ALPHABET[number & 31])
        number >>= 5
    return "".join(chars)


def make_token(req: EvaluationRequest) -> str:
    return f"{req.pk}-{_signature(req.pk, req.nonce)}"


def link(req: EvaluationRequest) -> str:
    return reverse("evaluation:public", args=[make_token(req)])


def request_for(token: str) -> EvaluationRequest | None:
    """The request a token names, or None when the token is not one we signed."""
    pk, _sep, sig = (token or "").strip().partition("-")
    sig = sig.upper()
    if not pk.isdigit() or len(sig) != SIG_LENGTH or len(pk) > 18:
        return None
    req = EvaluationRequest.objects.select_related("matter").filter(pk=int(pk)).first()
    if req is None:
        return None
    for secret in [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]:
        if constant_time_compare(sig, _signature(req.pk, req.nonce, secret)):
            return req
    return None
