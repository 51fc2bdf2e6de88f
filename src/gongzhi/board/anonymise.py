"""What the public may read: free text with phones, ID numbers and known names masked.

Every text that leaves for the board, the feed or the public API passes :func:`scrub`:

- mobile numbers ``1[3-9]`` + 9 digits (also written ``138 1234 5678`` or ``138-1234-5678``)
  become ``138****5678``;
- 18-character ID numbers (and old 15-digit ones) become ``110105********002X``;
- what identifies the reporter (their name and phone, as registered) is hidden entirely
  (``***``), not even masked;
- the names of the staff who touched the matter become ``张*``.

Names in free text that nobody registered cannot be recognised; that is why staff are asked not
to write them into public comments, and why a matter can be withdrawn from the board.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from gongzhi.core.privacy import mask_name

PHONE_RE = re.compile(r"(?<!\d)(1[3-9]\d)[ -]?\d{4}[ -]?(\d{4})(?!\d)")
ID18_RE = re.compile(r"(?<![0-9A-Za-z])(\d{6})\d{8}(\d{3}[\dXx])(?![0-9A-Za-z])")
ID15_RE = re.compile(r"(?<!\d)(\d{6})\d{5}(\d{4})(?!\d)")
# Tracking codes (new_tracking_code's alphabet): a code is a key to a matter's own page.
CODE_RE = re.compile(r"(?<![0-9A-Za-z])[23456789ABCDEFGHJKLMNPQRSTUVWXYZ]{10}(?![0-9A-Za-z])")

# Refused outright in texts meant to be published with names (honour lists).
PHONE_OR_ID_RE = re.compile(
    r"(?<!\d)1[3-9]\d[ -]?\d{4}[ -]?\d{4}(?!\d)"
    r"|(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])"
    r"|(?<!\d)\d{15}(?!\d)"
)


def mask_numbers(text: str) -> str:
    """Phones and ID numbers inside free text, masked."""
    text = ID18_RE.sub(lambda m: f"{m.group(1)}********{m.group(2)}", text or "")
    text = ID15_RE.sub(lambda m: f"{m.group(1)}*****{m.group(2)}", text)
    return PHONE_RE.sub(lambda m: f"{m.group(1)}****{m.group(2)}", text)


def mask_names(text: str, names: Iterable[str]) -> str:
    """Each known name (two characters or more) replaced by its masked form (张三 → 张*)."""
    for name in sorted({n.strip() for n in names if n and len(n.strip()) >= 2},
                       key=len, reverse=True):
        text = text.replace(name, mask_name(name))
    return text


def hide(text: str, secrets: Iterable[str]) -> str:
    """Each secret (two characters or more) replaced by as many stars."""
    for secret in sorted({s.strip() for s in secrets if s and len(s.strip()) >= 2},
                         key=len, reverse=True):
        text = text.replace(secret, "*" * len(secret))
    return text


def scrub(text: str | None, names: Iterable[str] = (), hidden: Iterable[str] = ()) -> str:
    """Free text for the public: ``hidden`` strings starred out, then phones and ID numbers
    masked, then ``names`` masked."""
    return mask_names(mask_numbers(hide(text or "", hidden)), names)


def scrub_summary(text: str | None, names: Iterable[str] = (),
                  hidden: Iterable[str] = ()) -> str:
    """Timeline summaries: as :func:`scrub`, and tracking codes (of merged matters) hidden."""
    return CODE_RE.sub("**********", scrub(text, names, hidden))


def has_phone_or_id(text: str | None) -> bool:
    return bool(PHONE_OR_ID_RE.search(text or ""))
