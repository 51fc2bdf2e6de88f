"""Request parsing: JSON bodies and query strings, refusing text with NUL characters.

PostgreSQL cannot store a NUL (``\\x00``) in a text column, and no form a person fills in
contains one; SQLite would keep it. So a body or query string that carries one is refused with
422 before any action sees it, the same on both databases. (A NUL in a path segment is
answered 400 by the handler in ``errors.py``.)
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from ninja.errors import ValidationError
from ninja.parser import Parser


def nul_errors(value: Any, loc: tuple) -> list[dict]:
    if isinstance(value, str):
        return ([{"loc": list(loc), "msg": _("文本中不能含有空字符（NUL）。"),
                  "type": "nul_character"}] if "\x00" in value else [])
    if isinstance(value, dict):
        return [e for k, v in value.items() for e in nul_errors(k, (*loc, "key"))
                + nul_errors(v, (*loc, k))]
    if isinstance(value, list):
        return [e for i, v in enumerate(value) for e in nul_errors(v, (*loc, i))]
    return []


class NulRefusingParser(Parser):
    def parse_body(self, request):
        data = super().parse_body(request)
        errors = nul_errors(data, ("body",))
        if errors:
            raise ValidationError(errors)
        return data

    def parse_querydict(self, data, list_fields, request):
        result = super().parse_querydict(data, list_fields, request)
        errors = nul_errors(result, ("query",))
        if errors:
            raise ValidationError(errors)
        return result
