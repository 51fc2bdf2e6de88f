"""Discovery, the service list and service definitions, in JSON (schema-valid) and XML."""

from __future__ import annotations

import json

import pytest

from gongzhi.places.actions import do_create_place

from .conftest import validate, xml_root, xml_rows

pytestmark = pytest.mark.django_db


def test_discovery_json_and_xml(client, o311):
    r = client.get("/open311/v2/discovery.json")
    assert r.status_code == 200 and r["Content-Type"] == "application/json; charset=utf-8"
    d = r.json()
    assert set(d) == {"changeset", "contact", "key_service", "endpoints"}
    (ep,) = d["endpoints"]
    assert ep["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert ep["url"] == "http://testserver/open311/v2"
    assert ep["formats"] == ["text/xml", "application/json"]
    root = xml_root(client.get("/open311/v2/discovery.xml"))
    assert root.tag == "discovery"
    assert [f.text for f in root.find("endpoints/endpoint/formats")] == ["text/xml",
                                                                         "application/json"]
    assert root.findtext("endpoints/endpoint/type") == "production"
    assert xml_root(client.get("/open311/v2/")).tag == "discovery"  # the endpoint's root


def test_service_list_from_the_countys_categories(client, o311):
    r = client.get("/open311/v2/services.json")
    assert r.status_code == 200
    services = r.json()
    validate(services, "services.json")
    by_code = {s["service_code"]: s for s in services}
    assert by_code["infrastructure"]["service_name"] == "基础设施"
    assert by_code["infrastructure"]["metadata"] is True
    assert by_code["neighbour"]["metadata"] is False
    assert {s["type"] for s in services} == {"realtime"}
    rows = xml_rows(client.get("/open311/v2/services.xml?jurisdiction_id=110105"), "service")
    assert [r["service_code"] for r in rows] == [s["service_code"] for s in services]
    assert rows[0]["metadata"] in ("true", "false")


def test_service_definition_merges_preset_and_edited_questions(client, o311):
    r = client.get("/open311/v2/services/infrastructure.json")
    definition = r.json()
    validate(definition, "service-definition.json")
    codes = [a["code"] for a in definition["attributes"]]
    assert codes == ["facility", "severity"]  # the preset's, then ours (order 2)
    severity = definition["attributes"][1]
    assert severity["required"] is True and severity["datatype"] == "singlevaluelist"
    assert severity["values"] == [{"key": "low", "name": "轻微"}, {"key": "high", "name": "严重"}]
    root = xml_root(client.get("/open311/v2/services/infrastructure.xml"))
    assert root.tag == "service_definition"
    assert root.findtext("service_code") == "infrastructure"
    keys = [v.findtext("key") for v in root.findall("attributes/attribute")[1].find("values")]
    assert keys == ["low", "high"]


def test_the_schema_check_can_fail():
    from jsonschema import ValidationError

    good = {"service_code": "a", "service_name": "b", "metadata": False, "type": "realtime"}
    validate([good], "services.json")
    for bad in ({**good, "service_code": 1}, {**good, "type": "sometimes"},
                {k: v for k, v in good.items() if k != "metadata"}):
        with pytest.raises(ValidationError):
            validate([bad], "services.json")
    with pytest.raises(ValidationError):
        validate([{"service_request_id": 5}], "swagger.json#/definitions/RequestResponse")
    with pytest.raises(AssertionError):  # a time without its zone
        validate([{"service_request_id": "1", "status": "open", "service_code": "a",
                   "requested_datetime": "2026-01-01T00:00:00"}], "requests.json")


def test_jurisdiction_errors(client, o311):
    r = client.get("/open311/v2/services.json?jurisdiction_id=nowhere.gov")
    assert r.status_code == 404
    assert r.json()[0]["code"] == 404 and "nowhere.gov" in r.json()[0]["description"]
    # With a second county, the jurisdiction must be named.
    do_create_place(None, "county", "另一县", acting_user=None, code="620826")
    r = client.get("/open311/v2/services.xml")
    assert r.status_code == 400
    root = xml_root(r)
    assert root.tag == "errors" and root.findtext("error/code") == "400"
    assert client.get("/open311/v2/services.json?jurisdiction_id=110105").status_code == 200
    other = client.get("/open311/v2/services.json?jurisdiction_id=620826").json()
    assert "infrastructure" in {s["service_code"] for s in other}  # its own preset


def test_unknown_service_format_and_path(client, o311):
    r = client.get("/open311/v2/services/nope.json")
    assert r.status_code == 404 and r.json()[0]["code"] == 404
    r = client.get("/open311/v2/services.csv")
    assert r.status_code == 400 and xml_root(r).tag == "errors"
    r = client.get("/open311/v2/nothing.json")
    assert r.status_code == 404 and json.loads(r.content)[0]["code"] == 404
    r = client.delete("/open311/v2/services.json")
    assert r.status_code == 405 and r["Allow"] == "GET"
