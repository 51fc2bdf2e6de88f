"""Bulletins (通报): overdue matters by unit over a period, the figures checked by hand."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from gongzhi.matters import workflow
from gongzhi.places.actions import do_create_organisation
from gongzhi.supervision.bulletins import period_bounds
from gongzhi.supervision.models import Bulletin, DeadlineWatch, SupervisionItem, SupervisionRecord
from gongzhi.supervision.scan import run_scan
from gongzhi.testing import api_client, login_client

from .helpers import handling, overdue_by, set_policy

D = dt.timedelta(days=1)


def aware(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def at(matter, deadline: dt.datetime, **fields):
    hours = (timezone.now() - deadline).total_seconds() / 3600
    return overdue_by(matter, hours=hours, **fields)


@pytest.fixture
def month(tree):
    """Last month, fully in the past, with matters overdue in it (see each line)."""
    set_policy(tree, escalate_after_levels=1000)  # keep units where they are
    water = do_create_organisation(tree.county, acting_user=None, kind="department",
                                   name="县水务局", category="供水")
    first_of_this = timezone.localdate().replace(day=1)
    start = (first_of_this - D).replace(day=1)
    p, end = aware(start), aware(first_of_this)
    power = tree.department  # 县供电公司
    sec = tree.user("village_secretary")
    m = {}
    # m1: 供电, due on the 3rd, still overdue.
    m["m1"] = at(handling(tree, title="m1 路灯"), p + 2 * D, responsible_org=power)
    # m2: 供电, due before the month began, still overdue: counted, not new.
    m["m2"] = at(handling(tree, title="m2 变压器"), p - 5 * D, responsible_org=power)
    # m3: the village's own, due on the 11th, handled on the 13th: overdue two days.
    m["m3"] = at(handling(tree, title="m3 垃圾"), p + 10 * D)
    # m4: the village's, due on the 21st, handled on the 16th: never overdue.
    m["m4"] = at(handling(tree, title="m4 绿化"), p + 20 * D)
    # m5: 水务, due at the very end of the month: overdue only after it.
    m["m5"] = at(handling(tree, title="m5 水管"), end, responsible_org=water)
    # m6: 供电, in the other town, due on the 4th.
    m["m6"] = at(handling(tree, place=tree.other_grid, title="m6 东关停电",
                          acting_user=tree.user("county_office")), p + 3 * D,
                 responsible_org=power)
    run_scan()
    for key, left in (("m3", p + 12 * D), ("m4", p + 15 * D)):
        workflow.do_transition(m[key], "report_result", acting_user=sec,
                               fields={"outcome": "solved", "outcome_text": "已办"})
        DeadlineWatch.objects.filter(matter=m[key], stage="handling").update(left_at=left)
    # m7: 水务, due on the 5th, never seen by a scan: counted from the matter itself.
    m["m7"] = at(handling(tree, title="m7 水压低"), p + 4 * D, responsible_org=water)
    # m1 was put under supervision on the 4th, and its unit's head talked to on the 6th.
    item = SupervisionItem.objects.get(matter=m["m1"])
    SupervisionItem.objects.filter(pk=item.pk).update(opened_at=p + 3 * D)
    SupervisionRecord.objects.create(county=tree.county, item=item, matter=m["m1"], kind="talk",
                                     notes="约谈", at=p + 5 * D, talked_to_name="刘经理")
    return {"start": start, "end": end, "p": p, "m": m, "days": (end - p).days}


def test_period_bounds():
    assert period_bounds("week", dt.date(2026, 10, 1)) == (dt.date(2026, 9, 28),
                                                           dt.date(2026, 10, 5))
    assert period_bounds("month", dt.date(2026, 12, 31)) == (dt.date(2026, 12, 1),
                                                             dt.date(2027, 1, 1))
    assert period_bounds("quarter", dt.date(2026, 11, 21)) == (dt.date(2026, 10, 1),
                                                               dt.date(2027, 1, 1))
    assert period_bounds("quarter", dt.date(2026, 2, 1)) == (dt.date(2026, 1, 1),
                                                             dt.date(2026, 4, 1))


def test_county_bulletin_by_unit(tree, month):
    client = login_client(tree.user("supervisor"))
    response = client.post("/supervision/bulletins/", {
        "place": tree.county.pk, "period_kind": "month", "day": month["start"].isoformat()})
    assert response.status_code == 302
    bulletin = Bulletin.objects.get()
    assert response["Location"] == f"/supervision/bulletins/{bulletin.pk}/"
    data = bulletin.data
    units = [(u["name"], u["overdue"], u["new_overdue"], u["still_overdue"], u["supervised"],
              u["talks"]) for u in data["units"]]
    assert units == [
        ("县供电公司", 3, 2, 3, 1, 1),  # m1, m2, m6; new: m1, m6
        ("县水务局", 1, 1, 1, 0, 0),    # m7 (m5 falls due after the month)
        ("高城寨村", 1, 1, 0, 0, 0),    # m3 (m4 was done in time)
    ]
    assert data["totals"] == {"units": 3, "overdue": 5, "new_overdue": 4, "still_overdue": 4,
                              "supervised": 1, "talks": 1}
    by_title = {m["title"]: m for u in data["units"] for m in u["matters"]}
    assert set(by_title) == {"m1 路灯", "m2 变压器", "m6 东关停电", "m7 水压低", "m3 垃圾"}
    assert by_title["m3 垃圾"]["days_overdue"] == 2.0
    assert by_title["m1 路灯"]["days_overdue"] == month["days"] - 2
    assert by_title["m1 路灯"]["level"] is not None
    assert by_title["m7 水压低"]["level"] is None
    assert bulletin.title.endswith("督办通报") and bulletin.period_start == month["start"]

    page = client.get(f"/supervision/bulletins/{bulletin.pk}/")
    html = page.content.decode()
    assert page.status_code == 200 and "data-print" in html
    assert html.index("县供电公司") < html.index("县水务局") < html.index("m3 垃圾")
    assert "m4 绿化" not in html and "m5 水管" not in html

    # Regenerating an unpublished bulletin refreshes it; a published one is frozen.
    client.post("/supervision/bulletins/", {"place": tree.county.pk, "period_kind": "month",
                                            "day": month["start"].isoformat()})
    assert Bulletin.objects.count() == 1
    client.post(f"/supervision/bulletins/{bulletin.pk}/publish/")
    bulletin.refresh_from_db()
    assert bulletin.published and bulletin.published_by == tree.user("supervisor")
    again = client.post("/supervision/bulletins/", {
        "place": tree.county.pk, "period_kind": "month", "day": month["start"].isoformat()},
        follow=True)
    assert "已经发布" in again.content.decode()


def test_town_bulletin_and_access(tree, month):
    api, headers = api_client(tree.user("town_secretary"))
    made = api.post("/api/v1/supervision/bulletins",
                    {"place": tree.town.pk, "period_kind": "month",
                     "day": month["start"].isoformat()},
                    content_type="application/json", headers=headers)
    assert made.status_code == 201, made.content
    units = {u["name"]: u["overdue"] for u in made.json()["data"]["units"]}
    assert units == {"县供电公司": 2, "县水务局": 1, "高城寨村": 1}  # m6 is the other town's
    county = api.post("/api/v1/supervision/bulletins",
                      {"place": tree.county.pk, "period_kind": "month"},
                      content_type="application/json", headers=headers)
    assert county.status_code in (403, 404)
    # Drafts are for supervisors; a published one is read across the county.
    grid, gh = api_client(tree.user("grid_worker"))
    assert grid.get("/api/v1/supervision/bulletins", headers=gh).json()["count"] == 0
    bulletin_id = made.json()["id"]
    published = api.post(f"/api/v1/supervision/bulletins/{bulletin_id}/publish",
                         headers=headers)
    assert published.status_code == 200 and published.json()["published"]
    listed = grid.get("/api/v1/supervision/bulletins", headers=gh).json()
    assert [b["id"] for b in listed["items"]] == [bulletin_id]
    assert grid.post(f"/api/v1/supervision/bulletins/{bulletin_id}/publish",
                     headers=gh).status_code in (400, 403)


def test_future_period_is_refused(tree):
    client = login_client(tree.user("supervisor"))
    future = timezone.localdate() + dt.timedelta(days=100)
    page = client.post("/supervision/bulletins/", {
        "place": tree.county.pk, "period_kind": "month", "day": future.isoformat()}, follow=True)
    assert "尚未开始" in page.content.decode()
    assert not Bulletin.objects.exists()
