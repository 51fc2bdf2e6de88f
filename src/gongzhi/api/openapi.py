"""Complete the generated OpenAPI schema with the answers every operation may give.

Ninja writes the responses each operation declares. The API as a whole adds more, the same
for every operation, so they are declared here once rather than in each app's ``api.py``:

- 401 and 403 for every operation that needs authentication (no valid token or session; the
  caller may not do this, or a session write failed the CSRF check);
- 400, 404 and 422 for every operation that takes parameters or a body: an action refused
  the input, an object named in the path, a filter or the body is not there for this caller,
  the input does not match the schema;
- 429 for every operation (rate limits, with ``Retry-After``).

A generated client therefore knows every status it may meet besides 5xx, each with its body
(``ErrorOut``: ``detail``; ``ValidationErrorOut``: ``detail`` and ``errors``).

Component names: Ninja names a schema after its class and generates each operation apart, so
two apps' classes of one name (``KindOut`` of meetings and of reports) would silently replace
each other. :class:`UniqueNames` gives such classes their app's prefix (``MeetingsKindOut``,
``ReportsKindOut``); a class whose name is used once keeps it.
"""

from __future__ import annotations

import re
from typing import Any

import ninja.openapi.schema
from ninja.schema import NinjaGenerateJsonSchema
from pydantic import BaseModel

ERROR_REF = {"$ref": "#/components/schemas/ErrorOut"}
VALIDATION_REF = {"$ref": "#/components/schemas/ValidationErrorOut"}

COMPONENTS: dict[str, Any] = {
    "ErrorOut": {
        "title": "ErrorOut",
        "type": "object",
        "properties": {"detail": {"title": "Detail", "type": "string"}},
        "required": ["detail"],
    },
    "ValidationErrorOut": {
        "title": "ValidationErrorOut",
        "type": "object",
        "properties": {
            "detail": {"title": "Detail", "type": "string"},
            "errors": {"title": "Errors", "type": "array",
                       "items": {"type": "object", "additionalProperties": True}},
        },
        "required": ["detail", "errors"],
    },
}

DESCRIPTIONS = {
    "400": "The request was refused; detail says why.",
    "403": "The caller may not do this (or a session write failed the CSRF check).",
    "401": "No valid token and no session.",
    "404": "No such object for this caller.",
    "422": "The parameters or the body do not match the schema.",
    "429": "Over the rate limit; Retry-After says in how many seconds to retry.",
}


def _answer(code: str, ref: dict[str, Any]) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": DESCRIPTIONS[code],
                              "content": {"application/json": {"schema": dict(ref)}}}
    if code == "429":
        answer["headers"] = {"Retry-After": {"description": "seconds to wait",
                                             "schema": {"type": "integer"}}}
    elif code == "401":
        answer["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
    return answer


def complete(schema: dict[str, Any]) -> dict[str, Any]:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for name, body in COMPONENTS.items():
        components.setdefault(name, body)
    for path, item in schema.get("paths", {}).items():
        for _method, op in item.items():
            if not isinstance(op, dict) or "responses" not in op:
                continue
            responses = op["responses"]
            wanted = {429: ERROR_REF}
            if op.get("security"):
                wanted[401] = ERROR_REF
                wanted[403] = ERROR_REF
            if "{" in path or op.get("parameters") or op.get("requestBody"):
                wanted[400] = ERROR_REF
                wanted[404] = ERROR_REF
                wanted[422] = VALIDATION_REF
            # Ninja keys responses by int; the JSON answer turns them into strings.
            for code, ref in wanted.items():
                if code not in responses and str(code) not in responses:
                    responses[code] = _answer(str(code), ref)
    return schema


def _subclasses(cls: type) -> set[type]:
    found: set[type] = set()
    stack = [cls]
    while stack:
        for sub in stack.pop().__subclasses__():
            if sub not in found:
                found.add(sub)
                stack.append(sub)
    return found


def clashing_names() -> set[str]:
    """Names shared by more than one of the project's pydantic classes."""
    seen: dict[str, set[str]] = {}
    for cls in _subclasses(BaseModel):
        if cls.__module__.startswith("gongzhi."):
            seen.setdefault(cls.__name__, set()).add(f"{cls.__module__}.{cls.__qualname__}")
    return {name for name, where in seen.items() if len(where) > 1}


def app_prefix(module: str) -> str:
    """``gongzhi.meetings.api_public_affairs`` → ``MeetingsPublicAffairs``."""
    parts = [p for p in module.split(".")[1:] if p != "api"]
    words = [w for p in parts for w in re.sub(r"^api_|_api$", "", p).split("_") if w]
    return "".join(w.capitalize() for w in words)


class UniqueNames(NinjaGenerateJsonSchema):
    def get_defs_ref(self, core_mode_ref):
        defs_ref = super().get_defs_ref(core_mode_ref)
        core_ref, _mode = core_mode_ref
        if "[" in core_ref:  # a generic's parameters: leave to pydantic
            return defs_ref
        qualified = core_ref.rsplit(":", 1)[0]
        module, _dot, name = qualified.rpartition(".")
        if module.startswith("gongzhi.") and name in _clashing():
            unique = self.normalize_name(app_prefix(module) + name)
            self._prioritized_defsref_choices[defs_ref][:0] = [unique]
        return defs_ref


_CLASHES: set[str] | None = None


def _clashing() -> set[str]:
    global _CLASHES
    if _CLASHES is None:
        _CLASHES = clashing_names()
    return _CLASHES


# Ninja's OpenAPI generator names its JSON-schema generator at module level; point it here.
ninja.openapi.schema.NinjaGenerateJsonSchema = UniqueNames
