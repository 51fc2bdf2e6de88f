"""The staff page: questions per category (an audited action) and the apps' keys; the
``gongzhi open311 key`` command."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from gongzhi.audit.models import AuditEvent
from gongzhi.open311.models import AppKey, ServiceQuestion, hash_key
from gongzhi.testing import login_client

pytestmark = pytest.mark.django_db


def test_only_configurers_reach_the_page(o311):
    assert login_client(o311.user("village_secretary")).get("/open311/").status_code == 403
    page = login_client(o311.user("county_office")).get("/open311/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "110105" in text and "severity" in text and "随手拍" in text


def test_edit_a_question_changes_the_definition(client, o311):
    staff = login_client(o311.user("county_office"))
    url = f"/open311/questions/{o311.infra.pk}/"
    assert "road=道路" in staff.get(url + "?code=facility").content.decode()
    r = staff.post(url, {"category": o311.infra.pk, "code": "facility", "datatype":
                         "multivaluelist", "description": "哪些设施", "required": "on",
                         "variable": "on", "order": 1, "values": "road=道路\nbridge=桥梁",
                         "is_active": "on"})
    assert r.status_code == 302
    attrs = client.get("/open311/v2/services/infrastructure.json").json()["attributes"]
    facility = next(a for a in attrs if a["code"] == "facility")
    assert facility["datatype"] == "multivaluelist" and facility["required"] is True
    assert [v["key"] for v in facility["values"]] == ["road", "bridge"]
    event = AuditEvent.objects.filter(action="open311.question.save").last()
    assert event.after["description"] == "哪些设施"
    # Bad input: a clear error, nothing saved.
    r = staff.post(url, {"category": o311.infra.pk, "code": "bad code!", "datatype": "string",
                         "description": "x", "order": 1})
    assert r.status_code == 200 and "问题编码" in r.content.decode()
    r = staff.post(url, {"category": o311.infra.pk, "code": "kind", "datatype":
                         "singlevaluelist", "description": "类型", "order": 1, "values": ""})
    assert "至少要有一个选项" in r.content.decode()
    assert not ServiceQuestion.objects.filter(code__in=["kind", "bad code!"]).exists()
    # Deactivating hides the preset's question of the same code.
    staff.post(url, {"category": o311.infra.pk, "code": "facility", "datatype": "string",
                     "description": "设施", "order": 1})
    attrs = client.get("/open311/v2/services/infrastructure.json").json()["attributes"]
    assert [a["code"] for a in attrs] == ["severity"]
    # A village secretary may not.
    r = login_client(o311.user("village_secretary")).post(url, {"code": "x"})
    assert r.status_code == 403


def test_keys_issue_and_revoke_from_the_page(client, o311):
    staff = login_client(o311.user("county_office"))
    r = staff.post("/open311/keys/", {"name": "乡村通", "county": o311.county.pk}, follow=True)
    text = r.content.decode()
    raw = text.split('id="new-key"')[1].split("<code>")[1].split("</code>")[0]
    key = AppKey.objects.get(key_hash=hash_key(raw))
    assert key.name == "乡村通" and key.county == o311.county
    assert raw not in staff.get("/open311/").content.decode()  # shown once
    staff.post(f"/open311/keys/{key.pk}/revoke/")
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert {"open311.key.create", "open311.key.revoke"} <= set(
        AuditEvent.objects.values_list("action", flat=True))
    assert login_client(o311.user("village_secretary")).post(
        f"/open311/keys/{o311.key.pk}/revoke/").status_code in (403, 404)


def test_key_command(o311, capsys):
    call_command("open311", "key", "create", "110105", "随手拍二号")
    raw = capsys.readouterr().out.strip()
    assert raw.startswith("o311_")
    key = AppKey.objects.get(key_hash=hash_key(raw))
    call_command("open311", "key", "list")
    assert key.prefix in capsys.readouterr().out
    call_command("open311", "key", "revoke", key.prefix)
    key.refresh_from_db()
    assert key.revoked_at is not None
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("open311", "key", "create", "999999", "x")
