"""A county with an app key and a question, and helpers that check answers against the
official GeoReport v2 schemas (JSON) and parse the XML answers with defusedxml."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from defusedxml import ElementTree
from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from gongzhi.matters.models import Category
from gongzhi.open311.actions import do_create_key, do_save_question

SCHEMA_DIR = Path(__file__).parent / "schema"
W3_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$")
DATE_FIELDS = ("requested_datetime", "updated_datetime", "expected_datetime")


def _registry() -> Registry:
    resources = []
    for path in SCHEMA_DIR.glob("*.json"):
        resources.append((path.name, Resource.from_contents(
            json.loads(path.read_text("utf-8")),
            default_specification=DRAFT7)))
    return Registry().with_resources(resources)


REGISTRY = _registry()


def validate(data, schema_name: str) -> None:
    """Raises if ``data`` does not match the official schema; dates must carry a zone.
    ``swagger.json#/definitions/X`` names a definition of the spec's Swagger file (checked
    against each item of a list answer)."""
    if "#" in schema_name:
        schema = {"type": "array", "minItems": 1, "items": {"$ref": schema_name}}
    else:
        schema = json.loads((SCHEMA_DIR / schema_name).read_text("utf-8"))
    Draft7Validator(schema, registry=REGISTRY).validate(data)
    rows = data if isinstance(data, list) else [data]
    for row in rows:
        for name in DATE_FIELDS:
            if isinstance(row, dict) and row.get(name) is not None:
                assert W3_RE.match(row[name]), (name, row[name])


def xml_root(response):
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    return ElementTree.fromstring(response.content)


def xml_rows(response, item: str) -> list[dict[str, str]]:
    """Each item element as {child tag: text} (nested lists left as elements)."""
    return [{child.tag: (child.text or "") for child in el} for el in xml_root(response)
            .findall(item)]


@pytest.fixture
def o311(tree):
    """The test county (jurisdiction 110105), its categories from the default preset, a key."""
    from gongzhi.matters.actions import matter_settings

    matter_settings(tree.county)  # adopts the default preset: its categories
    key, raw = do_create_key(tree.county, "随手拍", acting_user=None)
    infra = Category.objects.get(county=tree.county, code="infrastructure")
    do_save_question(infra, code="severity", datatype="singlevaluelist", description="严重程度",
                     required=True, order=2, acting_user=None,
                     values=[{"key": "low", "name": "轻微"}, {"key": "high", "name": "严重"}])
    tree.key, tree.raw_key, tree.infra = key, raw, infra
    return tree


@pytest.fixture
def post_request(client, o311):
    def post(fmt: str = "json", **fields):
        data = {"api_key": o311.raw_key, "service_code": "infrastructure",
                "address_string": "城关镇高城寨村村口", "description": "村口路灯坏了三天了",
                "attribute[severity]": "high"}
        data.update(fields)
        data = {k: v for k, v in data.items() if v is not None}
        return client.post(f"/open311/v2/requests.{fmt}", data)
    return post
