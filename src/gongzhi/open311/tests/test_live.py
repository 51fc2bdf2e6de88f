"""An ordinary Open311 client library (``georeport``), unchanged, against a live server: list
services, read a definition, post a request (the library has no POST: plain form-encoded HTTP,
as the spec shows), read it back, in JSON and in XML."""

from __future__ import annotations

import pytest
import requests
from georeport import GeoReport

from gongzhi.matters.actions import matter_settings
from gongzhi.matters.models import Channel, Matter
from gongzhi.open311.actions import do_create_key
from gongzhi.testing import build_tree


@pytest.fixture
def live(live_server, transactional_db):
    tree = build_tree()
    matter_settings(tree.county)
    _key, raw = do_create_key(tree.county, "随手拍", acting_user=None)
    return f"{live_server.url}/open311/v2", raw, tree


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_georeport_client(live, fmt):
    root, raw, tree = live
    client = GeoReport(root, jurisdiction="110105", output_format=fmt)
    services = client.get_service_list()
    codes = [s["service_code"] for s in services]
    assert "infrastructure" in codes and "neighbour" in codes
    definition = client.get_service_definition("infrastructure")
    attrs = definition["attributes"]
    attr = attrs[0] if fmt == "json" else attrs["attribute"]
    assert attr["code"] == "facility"

    r = requests.post(f"{root}/requests.{fmt}", data={
        "api_key": raw, "jurisdiction_id": "110105", "service_code": "infrastructure",
        "lat": "34.2", "long": "108.9", "address_string": "高城寨村二组",
        "description": "水渠堵了", "attribute[facility]": "water",
    }, timeout=30)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("application/json" if fmt == "json"
                                                else "text/xml")
    rid = (r.json()[0]["service_request_id"] if fmt == "json"
           else r.text.split("<service_request_id>")[1].split("<")[0])

    one = client.get_service_request(rid)
    assert one["service_request_id"] == rid and one["status"] == "open"
    assert one["service_code"] == "infrastructure"
    listed = client.get_service_requests(service_request_id=rid)
    listed = listed if isinstance(listed, list) else [listed]
    assert [x["service_request_id"] for x in listed] == [rid]
    if fmt == "json":  # (the library cannot read an empty XML list: that is the library's)
        assert client.get_service_requests(status="closed") == []

    matter = Matter.objects.get(pk=int(rid))
    assert matter.channel == Channel.OPEN311 and matter.village_id == tree.village.pk

    bad = requests.post(f"{root}/requests.{fmt}", data={"api_key": "nope",
                                                        "service_code": "infrastructure"},
                        timeout=30)
    assert bad.status_code == 403
