"""The pages: the organiser publishes from the workbench and shows the code and QR code; the
resident signs up and checks in from their page; a resident cannot reach organisers' pages."""

from __future__ import annotations

import datetime as dt
import re

from gongzhi.testing import login_client
from gongzhi.volunteers import actions
from gongzhi.volunteers.models import Activity, Signup

from .conftest import at, on


def test_publish_sign_up_check_in_through_the_pages(village):
    cadre = login_client(village.user("village_cadre"))
    resident = login_client(village.user("resident"))
    team = actions.do_create_team(village.village, name="环境整治队", kind="environment",
                                  acting_user=village.user("village_cadre"))
    with on(at(10, 0, dt.date(2025, 3, 10))):
        r = cadre.get("/volunteers/workbench/")
        assert r.status_code == 200 and "环境整治队" in r.content.decode()
        r = cadre.post(f"/volunteers/activities/new/?place={village.village.pk}", {
            "place": village.village.pk, "title": "清理河道", "address": "村委会门前",
            "starts_at": "2025-03-15T09:00", "ends_at": "2025-03-15T11:00", "slots": "3",
            "team": team.pk, "publish": "1"})
        activity = Activity.objects.get()
        assert r.status_code == 302 and r["Location"] == f"/volunteers/activities/{activity.pk}/"
        assert activity.status == "published" and activity.team == team
        page = cadre.get(r["Location"]).content.decode()
        assert activity.code in page and "qr.svg" in page
        svg = cadre.get(f"/volunteers/activities/{activity.pk}/qr.svg")
        assert svg["Content-Type"] == "image/svg+xml" and b"<svg" in svg.content
        # A bad form keeps what was typed and says what is wrong.
        r = cadre.post("/volunteers/activities/new/", {
            "place": village.village.pk, "title": "没有时间", "address": "村委会",
            "starts_at": "", "ends_at": "", "slots": "3"})
        assert r.status_code == 200 and "结束应晚于开始" in r.content.decode()

        # The resident's page lists it; they sign up.
        body = resident.get("/volunteers/").content.decode()
        assert "清理河道" in body and activity.code not in body
        assert resident.get(f"/volunteers/activities/{activity.pk}/qr.svg").status_code == 403
        r = resident.post(f"/volunteers/activities/{activity.pk}/signup/")
        assert r.status_code == 302 and Signup.objects.get().user == village.user("resident")
    with on(at(8, 50)):
        r = resident.post(f"/volunteers/activities/{activity.pk}/check/",
                          {"code": "x", "step": "in"}, follow=True)
        assert "签到码不对" in r.content.decode()
        r = resident.post(f"/volunteers/activities/{activity.pk}/check/",
                          {"code": activity.code, "step": "in"}, follow=True)
        assert "签到成功" in r.content.decode()
    with on(at(11, 5)):
        r = resident.post(f"/volunteers/activities/{activity.pk}/check/",
                          {"code": activity.code, "step": "out"}, follow=True)
        assert re.search(r"本次服务 2\.0 小时", r.content.decode())
        r = cadre.post(f"/volunteers/activities/{activity.pk}/finish/", follow=True)
        assert "请核对时长" in r.content.decode()
        r = cadre.post(f"/volunteers/activities/{activity.pk}/confirm/", follow=True)
        assert "积分已按积分细则记入" in r.content.decode()
        assert Signup.objects.get().points == 2
        body = resident.get("/volunteers/").content.decode()
        assert 'id="my-hours-value">2.0<' in body

    # The figures: by village, one finished activity, one participant, 120 minutes.
    from gongzhi.figures.compute import compute

    march = (dt.date(2025, 3, 1), dt.date(2025, 4, 1))
    result = compute(["volunteer_activities", "service_orders"], village.town, *march,
                     group_by="village", now=at(12), source="raw")
    row = next(r for r in result["rows"] if r["key"] == village.village.pk)
    assert (row["volunteer_activities"], row["volunteer_participants"],
            row["volunteer_minutes"], row["service_orders"]) == (1, 1, 120, 0)
    assert result["total"]["volunteer_minutes"] == 120


def test_who_reaches_which_page(village):
    resident = login_client(village.user("resident"))
    assert resident.get("/volunteers/workbench/").status_code == 403
    assert resident.get("/volunteers/activities/new/").status_code == 403
    supervisor = login_client(village.user("supervisor"))  # sees, takes no part
    assert supervisor.get("/volunteers/").status_code == 302
    assert supervisor.get("/volunteers/workbench/").status_code == 200
    assert login_client(village.user("town_staff")).get("/volunteers/").status_code == 200
