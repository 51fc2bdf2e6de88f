"""The settings page: secrets shown once and working, rotation, who may see what; the log."""

from __future__ import annotations

import re

from gongzhi.hotline.models import Connection
from gongzhi.matters.actions import matter_settings
from gongzhi.testing import login_client

from .conftest import Hotline


def _secrets(html: str) -> dict[str, str]:
    return {k: re.search(rf'id="secret-{k}">(hs_[0-9a-f]+)<', html)[1]
            for k in ("inbound", "outbound")}


def test_an_administrator_connects_the_county(tree):
    matter_settings(tree.county)  # the county's categories
    client = login_client(tree.user("administrator"))
    assert client.get("/hotline/").status_code == 200
    r = client.post("/hotline/", {"county": tree.county.pk, "name": "县12345",
                                  "outbound_url": "https://hotline.example.cn/push",
                                  "default_place": tree.town.pk,
                                  "category_map": "环境卫生=environment", "is_active": "on"})
    assert r.status_code == 200
    html = r.content.decode()
    found = _secrets(html)
    connection = Connection.objects.get()
    assert connection.default_place_id == tree.town.pk
    assert connection.category_map == {"环境卫生": "environment"}
    # Not stored, not shown again.
    assert found["inbound"] not in str(Connection.objects.values().get())
    edit = client.get(f"/hotline/{connection.pk}/").content.decode()
    assert found["inbound"] not in edit and found["outbound"] not in edit
    # The secret shown works for signing orders.
    connection.secrets = found
    assert Hotline(connection).order().status_code == 201
    # Rotating gives new secrets; the old one is refused.
    new = _secrets(client.post(f"/hotline/{connection.pk}/rotate/").content.decode())
    assert new["inbound"] != found["inbound"]
    assert Hotline(connection).order("GD2").status_code == 401
    connection.secrets = new
    assert Hotline(connection).order("GD2").status_code == 201


def test_bad_settings_are_refused_with_a_reason(tree):
    client = login_client(tree.user("administrator"))
    r = client.post("/hotline/", {"county": tree.county.pk, "name": "县12345",
                                  "outbound_url": "ftp://x", "default_place": tree.county.pk})
    assert "http://" in r.content.decode()
    r = client.post("/hotline/", {"county": tree.county.pk, "name": "县12345",
                                  "default_place": tree.county.pk,
                                  "category_map": "环境=nope"})
    assert "nope" in r.content.decode()
    assert not Connection.objects.exists()


def test_who_may_see_the_pages(tree, connection, hotline):
    hotline.order()
    assert login_client(tree.user("village_cadre")).get("/hotline/").status_code == 404
    supervisor = login_client(tree.user("supervisor"))
    assert supervisor.get("/hotline/").status_code == 200
    assert supervisor.get(f"/hotline/{connection.pk}/").status_code == 404  # no manage
    log = supervisor.get(f"/hotline/{connection.pk}/log/")
    assert log.status_code == 200
    assert "GD20250312001" in log.content.decode()
    assert login_client(tree.user("town_secretary")).get(
        f"/hotline/{connection.pk}/log/").status_code == 404
    r = login_client(tree.user("administrator")).post(
        f"/hotline/{connection.pk}/", {"name": "改名", "default_place": tree.county.pk,
                                       "outbound_url": "", "category_map": ""})
    assert r.status_code == 302
    connection.refresh_from_db()
    assert connection.name == "改名" and connection.is_active is False


def test_the_supervisor_reaches_the_page_before_any_connection_exists(tree):
    """The navigation offers 12345热线 to whoever may read the logs: with no connection yet the
    page says so instead of answering 404."""
    page = login_client(tree.user("supervisor")).get("/hotline/")
    assert page.status_code == 200
    assert "还没有对接12345热线。" in page.content.decode()
    assert login_client(tree.user("village_cadre")).get("/hotline/").status_code == 404
