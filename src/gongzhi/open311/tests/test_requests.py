"""POST requests (api_key, attributes, location), GET requests with the spec's filters, one
request, tokens, and servicerequestupdates; JSON against the official schemas, XML parsed."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from gongzhi.audit.models import AuditEvent
from gongzhi.matters.models import Channel, Ledger, Matter
from gongzhi.open311.actions import do_revoke_key
from gongzhi.open311.models import ServiceRequest

from .conftest import validate, xml_root, xml_rows

pytestmark = pytest.mark.django_db


def test_post_raises_a_matter_in_the_normal_loop(post_request, o311):
    r = post_request(first_name="建国", last_name="张", phone="13812341234",
                     email="zhang@example.cn", device_id="dev-1", account_id="acc-9",
                     media_url="https://img.example.cn/p/1.jpg", lat="30.1", long="120.2")
    assert r.status_code == 200, r.content
    validate(r.json(), "swagger.json#/definitions/RequestResponse")
    (row,) = r.json()
    assert set(row) == {"service_request_id", "service_notice", "account_id"}
    assert isinstance(row["service_request_id"], str) and row["account_id"] == "acc-9"
    assert "高城寨村" in row["service_notice"]
    matter = Matter.objects.get(pk=int(row["service_request_id"]))
    assert matter.channel == Channel.OPEN311 and matter.ledger == Ledger.CLAIM
    assert matter.place == o311.village and matter.queue_place == o311.village
    assert matter.category == o311.infra and matter.attributes == {"severity": "high"}
    assert matter.reporter_name == "张建国" and matter.reporter_phone == "13812341234"
    assert matter.title == "村口路灯坏了三天了" and matter.stage == "intake"
    sent = ServiceRequest.objects.get(matter=matter)
    assert (sent.email, sent.device_id, sent.app_key) == ("zhang@example.cn", "dev-1", o311.key)
    assert AuditEvent.objects.filter(action="open311.request.create").count() == 1
    assert AuditEvent.objects.filter(action="matters.matter.raise").count() == 1


def test_post_xml_answer(post_request):
    r = post_request("xml")
    assert r.status_code == 200
    root = xml_root(r)
    assert root.tag == "service_requests"
    assert root.find("request/service_request_id").text.isdigit()
    assert root.find("request/service_notice").text
    assert root.find("request/account_id") is None  # none was sent


def test_api_key_missing_wrong_or_revoked_is_403(post_request, o311):
    for key in (None, "", "o311_wrong"):
        r = post_request(api_key=key)
        assert r.status_code == 403 and r.json()[0]["code"] == 403
    do_revoke_key(o311.key, acting_user=None)
    r = post_request("xml")
    assert r.status_code == 403 and xml_root(r).findtext("error/code") == "403"
    assert not Matter.objects.exists()


def test_validation_errors_are_400_and_nothing_is_saved(post_request):
    cases = [
        {"service_code": None},
        {"attribute[severity]": None},  # required
        {"attribute[severity]": "purple"},  # not an option
        {"attribute[facility][]": "sea"},  # not an option
        {"attribute[bogus]": "x"},  # not a question of this service
        {"address_string": None},  # no location at all
        {"address_string": None, "lat": "30.1"},  # lat without long
        {"lat": "91", "long": "120"},
        {"email": "not-an-email"},
        {"media_url": "javascript:alert(1)"},
        {"phone": "12345"},
        {"description": "长" * 4001},
    ]
    for fields in cases:
        r = post_request(**fields)
        assert r.status_code == 400, (fields, r.content)
        assert r.json()[0]["code"] == 400 and r.json()[0]["description"]
    assert post_request(service_code="nope").status_code == 404
    assert not Matter.objects.exists()


def test_multivaluelist_and_location_fallbacks(post_request, o311):
    from gongzhi.open311.actions import do_save_question

    do_save_question(o311.infra, code="facility", datatype="multivaluelist", description="设施",
                     acting_user=None, values=[{"key": "road", "name": "道路"},
                                               {"key": "light", "name": "路灯"}])
    r = post_request(**{"attribute[facility][]": ["road", "light"], "address_string": "某处"})
    m = Matter.objects.get(pk=int(r.json()[0]["service_request_id"]))
    assert m.attributes["facility"] == ["road", "light"]
    assert m.place == o311.county and m.queue_place == o311.county  # the county's queue
    r = post_request(address_string=None, address_id=str(o311.grid2.pk))
    assert Matter.objects.get(pk=int(r.json()[0]["service_request_id"])).place == o311.grid2
    r = post_request(address_string="八里镇某路")
    assert Matter.objects.get(pk=int(r.json()[0]["service_request_id"])).place == o311.other_town
    o311.other_village.latitude, o311.other_village.longitude = 34.30, 108.90
    o311.other_village.save()
    r = post_request(address_string=None, lat="34.301", long="108.902")
    assert Matter.objects.get(pk=int(r.json()[0]["service_request_id"])).place == (
        o311.other_village)


def _post_ids(post_request, n: int) -> list[str]:
    return [post_request(description=f"第{i}个问题").json()[0]["service_request_id"]
            for i in range(n)]


def test_get_requests_shows_anonymised_requests(client, post_request, o311):
    (rid,) = _post_ids(post_request, 1)
    r = client.get("/open311/v2/requests.json")
    rows = r.json()
    validate(rows, "requests.json")
    (row,) = rows
    assert row["service_request_id"] == rid and row["status"] == "open"
    assert row["service_code"] == "infrastructure" and row["service_name"] == "基础设施"
    assert row["address"] == "城关镇 · 高城寨村"
    assert row["description"] is None  # not on the board yet
    assert "13812341234" not in r.content.decode()
    one = client.get(f"/open311/v2/requests/{rid}.json").json()
    validate(one, "requests.json")
    assert one == rows
    (xml_row,) = xml_rows(client.get(f"/open311/v2/requests/{rid}.xml"), "request")
    assert xml_row["service_request_id"] == rid and xml_row["status"] == "open"
    assert xml_row["requested_datetime"] == row["requested_datetime"]
    assert client.get("/open311/v2/requests/999999.json").status_code == 404
    assert client.get("/open311/v2/requests/abc.xml").status_code == 404


def test_published_request_shows_scrubbed_description(client, post_request, o311):
    from gongzhi.board.actions import do_publish_matter

    (rid,) = [post_request(description="路灯坏了，联系人张建国13812341234", first_name="建国",
                           last_name="张", phone="13812341234",
                           media_url="https://img.example.cn/1.jpg").json()[0]
              ["service_request_id"]]
    do_publish_matter(Matter.objects.get(pk=int(rid)),
                      acting_user=o311.user("village_secretary"))
    (row,) = client.get(f"/open311/v2/requests/{rid}.json").json()
    assert "路灯坏了" in row["description"]
    assert "张建国" not in row["description"] and "13812341234" not in row["description"]
    assert row["media_url"] == "https://img.example.cn/1.jpg"
    assert row["agency_responsible"] == "高城寨村"


def test_complaints_never_show_their_reporters_or_texts(client, o311):
    from gongzhi.board.actions import do_publish_matter
    from gongzhi.matters.actions import do_raise_matter

    m = do_raise_matter(place=o311.village, title="举报张建国违建", text="张建国13812341234违建",
                        channel=Channel.WEB, ledger=Ledger.COMPLAINT, acting_user=None,
                        reporter_name="李四", reporter_phone="13912345678")
    do_publish_matter(m, acting_user=o311.user("village_secretary"))
    r = client.get("/open311/v2/requests.json")
    (row,) = r.json()
    validate([row], "requests.json")
    assert row["description"] is None and row["agency_responsible"] is None
    body = r.content.decode()
    for secret in ("李四", "13912345678", "张建国", m.tracking_code):
        assert secret not in body


def test_filters_and_limits(client, post_request, o311):
    ids = _post_ids(post_request, 3)
    m = Matter.objects.get(pk=int(ids[0]))
    m.created_at = timezone.now() - dt.timedelta(days=100)
    m.save(update_fields=["created_at"])
    closed = Matter.objects.get(pk=int(ids[1]))
    closed.is_closed, closed.closed_at = True, timezone.now()
    closed.save(update_fields=["is_closed", "closed_at"])

    def got(query: str) -> list[str]:
        r = client.get(f"/open311/v2/requests.json?{query}")
        assert r.status_code == 200, r.content
        validate(r.json(), "requests.json")
        return sorted(row["service_request_id"] for row in r.json())

    assert got("") == sorted(ids[1:])  # last 90 days by default
    assert got(f"service_request_id={ids[0]},{ids[2]}&status=open") == sorted([ids[0], ids[2]])
    assert got("status=closed") == [ids[1]]
    assert got("status=open") == [ids[2]]
    assert got("status=open,closed") == sorted(ids[1:])
    assert got("service_code=neighbour") == []
    assert got("service_code=neighbour,infrastructure") == sorted(ids[1:])
    start = (timezone.now() - dt.timedelta(days=110)).strftime("%Y-%m-%dT%H:%M:%S+08:00")
    end = (timezone.now() - dt.timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert got(f"start_date={start}&end_date={end}") == [ids[0]]
    r = client.get("/open311/v2/requests.xml?start_date=2020-01-01T00:00:00Z"
                   "&end_date=2020-06-01T00:00:00Z")
    assert r.status_code == 400 and xml_root(r).findtext("error/code") == "400"
    assert client.get("/open311/v2/requests.json?status=pending").status_code == 400
    assert client.get("/open311/v2/requests.json?start_date=yesterday").status_code == 400
    assert client.get("/open311/v2/requests.json?service_request_id=1;2").status_code == 400


def test_at_most_1000_requests(client, post_request, o311, monkeypatch):
    from gongzhi.open311 import service

    assert service.MAX_REQUESTS == 1000
    monkeypatch.setattr(service, "MAX_REQUESTS", 2)
    ids = _post_ids(post_request, 3)
    rows = client.get("/open311/v2/requests.json").json()
    assert [r["service_request_id"] for r in rows] == ids[:0:-1]  # the newest two
    monkeypatch.setattr(service, "MAX_REQUESTS", 1000)
    pages = [[r["service_request_id"] for r in client.get(
        f"/open311/v2/requests.json?page_size=2&page={n}").json()] for n in (1, 2, 3)]
    assert pages == [ids[:0:-1], ids[:1], []]
    for bad in ("page_size=0", "page_size=1001", "page=x"):
        assert client.get(f"/open311/v2/requests.json?{bad}").status_code == 400


def test_token(client, post_request):
    (rid,) = _post_ids(post_request, 1)
    token = ServiceRequest.objects.get(matter_id=int(rid)).token
    validate(client.get(f"/open311/v2/tokens/{token}.json").json(),
             "swagger.json#/definitions/TokenResponse")
    assert client.get(f"/open311/v2/tokens/{token}.json").json() == [
        {"service_request_id": rid, "token": token}]
    (row,) = xml_rows(client.get(f"/open311/v2/tokens/{token}.xml"), "request")
    assert row == {"service_request_id": rid, "token": token}
    assert client.get("/open311/v2/tokens/nope.json").status_code == 404


def test_servicerequestupdates_follow_the_stages(client, post_request, o311):
    from gongzhi.matters.workflow import do_transition

    (rid,) = _post_ids(post_request, 1)
    m = Matter.objects.get(pk=int(rid))
    secretary = o311.user("village_secretary")
    do_transition(m, "accept", acting_user=secretary)
    r = client.get("/open311/v2/servicerequestupdates.json")
    assert r.status_code == 200
    rows = r.json()
    assert [u["service_request_id"] for u in rows] == [rid] * len(rows)
    assert rows[0]["status"] == "OPEN" and rows[0]["external_status_code"] == "intake"
    assert rows[0]["description"] is None  # not on the board yet
    from gongzhi.board.actions import do_publish_matter

    do_publish_matter(m, acting_user=secretary)
    rows = client.get("/open311/v2/servicerequestupdates.json").json()
    assert "登记事项" in rows[0]["description"]
    assert "IN_PROGRESS" in {u["status"] for u in rows}
    assert all(isinstance(u["update_id"], str) for u in rows)
    root = xml_root(client.get(f"/open311/v2/servicerequestupdates.xml?service_request_id={rid}"))
    assert root.tag == "service_requests_updates"
    assert [u.findtext("update_id") for u in root.findall("request_update")] == [
        u["update_id"] for u in rows]
    future = (timezone.now() + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert client.get(f"/open311/v2/servicerequestupdates.json?start_date={future}").json() == []
    assert client.get("/open311/v2/servicerequestupdates.json?end_date=x").status_code == 400


def test_a_key_works_only_for_its_county(client, o311):
    from gongzhi.matters.actions import matter_settings
    from gongzhi.places.actions import do_create_place

    other = do_create_place(None, "county", "另一县", acting_user=None, code="620826")
    matter_settings(other)
    r = client.post("/open311/v2/requests.json", {
        "api_key": o311.raw_key, "jurisdiction_id": "620826", "service_code": "infrastructure",
        "address_string": "某处", "attribute[severity]": "high"})
    assert r.status_code == 403
    assert not Matter.objects.exists()


def test_xml_carries_any_text(client, post_request, o311):
    from gongzhi.board.actions import do_publish_matter

    rid = post_request(description="路灯<坏了> & \x01 \"真的\"").json()[0]["service_request_id"]
    do_publish_matter(Matter.objects.get(pk=int(rid)), acting_user=o311.user("village_secretary"))
    (row,) = xml_rows(client.get(f"/open311/v2/requests/{rid}.xml"), "request")
    assert row["description"].startswith('路灯<坏了> &  "真的"')
