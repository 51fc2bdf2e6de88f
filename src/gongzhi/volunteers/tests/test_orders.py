"""菜单式服务 over HTTP: the organiser builds a team and the menu; a resident orders; the team
accepts (or declines with a reason), delivers and the resident rates; staff see orders by
status and the late ones."""

from __future__ import annotations

import datetime as dt

from gongzhi.audit.models import AuditEvent
from gongzhi.volunteers import actions

from .conftest import at, on


def _menu(village):
    cadre = village.user("village_cadre")
    team = actions.do_create_team(village.village, name="民意志愿服务队", kind="opinion",
                                  acting_user=cadre)
    item = actions.do_save_service_item(village.village, name="代办代购", team=team,
                                        typical_minutes=60, acting_user=cadre)
    return team, item


def test_order_accept_deliver_rate(village, api):
    _team, item = _menu(village)
    resident, cadre = api("resident"), api("village_cadre")
    with on(at(9, 0, dt.date(2025, 3, 10))):
        menu = resident.get("/volunteers/menu").json()
        assert [m["name"] for m in menu] == ["代办代购"]
        r = resident.post("/volunteers/orders", {"item": item.pk, "wanted_on": "2025-03-09"})
        assert r.status_code == 400  # yesterday
        r = resident.post("/volunteers/orders", {"item": item.pk, "wanted_on": "2025-03-12",
                                                 "note": "帮忙买降压药"})
        assert r.status_code == 201, r.content
        order = r.json()
        assert order["status"] == "requested" and order["household_id"] == village.household.pk
        # The resident may not accept their own order; rating before delivery is refused.
        assert resident.post(f"/volunteers/orders/{order['id']}/accept").status_code == 403
        assert resident.post(f"/volunteers/orders/{order['id']}/rate",
                             {"rating": 5}).status_code == 400
        assert cadre.post(f"/volunteers/orders/{order['id']}/accept").status_code == 200
        assert cadre.post(f"/volunteers/orders/{order['id']}/accept").status_code == 400
    with on(at(9, 0, dt.date(2025, 3, 13))):
        # Not delivered on the day wanted: late.
        late = cadre.get("/volunteers/orders", late="true").json()
        assert [o["id"] for o in late["items"]] == [order["id"]] and late["items"][0]["late"]
        r = cadre.post(f"/volunteers/orders/{order['id']}/deliver",
                       {"note": "已代购降压药两盒送到家", "minutes": 45})
        assert r.status_code == 200 and r.json()["status"] == "delivered"
        assert cadre.get("/volunteers/orders", late="true").json()["count"] == 0
        r = resident.post(f"/volunteers/orders/{order['id']}/rate", {"rating": 6})
        assert r.status_code == 422
        r = resident.post(f"/volunteers/orders/{order['id']}/rate",
                          {"rating": 5, "comment": "很及时"})
        assert r.status_code == 200 and r.json()["rating"] == 5
        assert resident.post(f"/volunteers/orders/{order['id']}/rate",
                             {"rating": 1}).status_code == 400
        by_status = cadre.get("/volunteers/orders", status="rated").json()
        assert by_status["count"] == 1
    assert list(AuditEvent.objects.filter(action__startswith="volunteers.order.")
                .values_list("action", flat=True).order_by("seq")) == [
        "volunteers.order.create", "volunteers.order.accept", "volunteers.order.deliver",
        "volunteers.order.rate"]


def test_decline_needs_a_reason_and_outsiders_see_nothing(village, api):
    _team, item = _menu(village)
    resident, cadre = api("resident"), api("village_cadre")
    with on(at(9, 0, dt.date(2025, 3, 10))):
        order = resident.post("/volunteers/orders", {"item": item.pk,
                                                     "wanted_on": "2025-03-11"}).json()
        other_cadre = api("town_staff")  # 城关镇: sees it (the village is beneath)
        assert other_cadre.get("/volunteers/orders").json()["count"] == 1
        assert api(village.resident2).post(f"/volunteers/orders/{order['id']}/accept"
                                           ).status_code == 404
        assert cadre.post(f"/volunteers/orders/{order['id']}/decline",
                          {"reason": " "}).status_code == 400
        r = cadre.post(f"/volunteers/orders/{order['id']}/decline",
                       {"reason": "本周队员都在外地培训"})
        assert r.status_code == 200 and r.json()["status"] == "declined"
        mine = resident.get("/volunteers/orders").json()["items"][0]
        assert mine["decline_reason"] == "本周队员都在外地培训"


def test_team_members_join_and_leave(village, api):
    team, _item = _menu(village)
    resident = api("resident")
    r = resident.post(f"/volunteers/teams/{team.pk}/join")
    assert r.status_code == 201 and r.json()["members"] == 1
    assert resident.post(f"/volunteers/teams/{team.pk}/join").status_code == 400
    member = team.members.get()
    actions.do_leave_team(member, acting_user=village.user("resident"))
    assert resident.post(f"/volunteers/teams/{team.pk}/join").status_code == 201
    assert team.members.count() == 2 and team.members.filter(left_at__isnull=True).count() == 1
