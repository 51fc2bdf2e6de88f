"""XML and JSON answers, as GeoReport v2 wants them.

Data is built once as Python lists and dicts; :func:`answer` writes it as JSON (the Spark
convention: the list itself) or as XML (a root element, one child element per item, nested
lists as ``<plural><singular>…</singular></plural>``). Errors are ``errors/error`` with
``code`` and ``description``.
"""

from __future__ import annotations

import json
import re
from typing import Any
from xml.sax.saxutils import escape

from django.http import HttpResponse

FORMATS = ("xml", "json")
XML_TYPE = "text/xml; charset=utf-8"
JSON_TYPE = "application/json; charset=utf-8"
# Characters XML 1.0 cannot carry (control characters other than tab, newline, return).
NOT_XML_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

# Nested lists: the element each item is written as.
ITEM_TAGS = {"attributes": "attribute", "values": "value", "endpoints": "endpoint",
             "formats": "format", "errors": "error"}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return escape(NOT_XML_RE.sub("", str(value)))


def _element(tag: str, value: Any, out: list[str]) -> None:
    if isinstance(value, dict):
        out.append(f"<{tag}>")
        for key, val in value.items():
            _element(key, val, out)
        out.append(f"</{tag}>")
    elif isinstance(value, list):
        item = ITEM_TAGS.get(tag, "item")
        out.append(f"<{tag}>")
        for val in value:
            _element(item, val, out)
        out.append(f"</{tag}>")
    elif value is None or value == "":
        out.append(f"<{tag}/>")
    else:
        out.append(f"<{tag}>{_text(value)}</{tag}>")


def to_xml(root: str, item: str | None, data: Any) -> str:
    out = ['<?xml version="1.0" encoding="UTF-8"?>']
    if item is None:  # one object
        _element(root, data, out)
    else:
        out.append(f"<{root}>")
        for row in data:
            _element(item, row, out)
        out.append(f"</{root}>")
    return "\n".join(out) + "\n"


def answer(fmt: str, data: Any, *, root: str, item: str | None, status: int = 200
           ) -> HttpResponse:
    if fmt == "json":
        body = json.dumps(data, ensure_ascii=False)
        return HttpResponse(body.encode("utf-8"), status=status, content_type=JSON_TYPE)
    return HttpResponse(to_xml(root, item, data).encode("utf-8"), status=status,
                        content_type=XML_TYPE)


class Open311Error(Exception):
    """An error answered as ``errors/error`` with ``status`` as the HTTP code."""

    def __init__(self, status: int, description: str, code: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.code = code or status


def error_answer(fmt: str, errors: list[Open311Error]) -> HttpResponse:
    status = errors[0].status
    data = [{"code": e.code, "description": e.description} for e in errors]
    if fmt not in FORMATS:
        fmt = "xml"
    return answer(fmt, data, root="errors", item="error", status=status)
