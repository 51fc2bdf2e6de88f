"""The documented wire format matches the code."""

from __future__ import annotations

import re
from pathlib import Path

from gongzhi.hotline import delivery, signing
from gongzhi.hotline.actions import LEDGER_OF
from gongzhi.hotline.models import OutboundKind

DOC = Path(__file__).resolve().parents[4] / "docs" / "hotline-12345.md"


def _example() -> dict[str, str]:
    text = DOC.read_text("utf-8")
    block = text.split("<!-- signature-example -->", 1)[1].split("```text", 1)[1]
    block = block.split("```", 1)[0]
    return {m[1]: m[2] for m in re.finditer(r"^(\w+):\s+(.*)$", block, re.M)}


def test_the_worked_example_signature_matches_the_code():
    ex = _example()
    assert set(ex) == {"secret", "timestamp", "body", "signature"}
    assert signing.sign(ex["secret"], ex["timestamp"], ex["body"].encode("utf-8")) == (
        ex["signature"])


def test_the_doc_names_the_headers_types_and_limits():
    text = DOC.read_text("utf-8")
    assert signing.TIMESTAMP_HEADER in text and signing.SIGNATURE_HEADER in text
    for kind in OutboundKind.values:
        assert f"`{kind}`" in text
    for classification in LEDGER_OF:
        assert classification in text
    assert f"{delivery.MAX_ATTEMPTS} attempts" in text
    assert f"{signing.MAX_SKEW_SECONDS // 60} minutes" in text
