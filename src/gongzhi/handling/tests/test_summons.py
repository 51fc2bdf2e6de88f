"""吹哨报到: summons, on-time and late check-ins, missing ones counted, pages and API."""

import datetime as dt
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from gongzhi.accounts.actions import do_create_user, do_grant_role
from gongzhi.audit.models import AuditEvent
from gongzhi.handling.models import Summons, SummonsStatus
from gongzhi.matters.models import EventKind, MatterEvent
from gongzhi.notifications.models import Notification
from gongzhi.places.actions import do_create_organisation
from gongzhi.testing import PASSWORD


@pytest.fixture
def units(tree):
    """Two more units, each with a liaison: 县水务局 and 县综合执法局."""
    out = {}
    for name, username in (("县水务局", "water_liaison"), ("县综合执法局", "law_liaison")):
        org = do_create_organisation(tree.county, acting_user=None, kind="department",
                                     name=name)
        user = do_create_user(username, acting_user=None, password=PASSWORD, county=tree.county,
                              organisation=org)
        do_grant_role(user, "department_liaison", tree.county, acting_user=None)
        out[username] = (org, user)
    return out


def test_summons_check_in_on_time_late_and_missing(tree, matter, api, units):
    water, water_liaison = units["water_liaison"]
    law, _law_liaison = units["law_liaison"]
    before = timezone.now()
    r = api("village_secretary").post(f"/matters/{matter.pk}/summons", {
        "organisation_ids": [tree.department.pk, water.pk, law.pk],
        "reason": "路灯线路老化，需供电、水务、执法共同到场"})
    assert r.status_code == 201, r.json()
    items = r.json()
    assert len(items) == 3 and all(i["status"] == "waiting" for i in items)
    due = dt.datetime.fromisoformat(items[0]["check_in_due"])
    assert dt.timedelta(hours=23, minutes=59) < due - before < dt.timedelta(hours=24, minutes=1)
    by_org = {i["organisation_id"]: i["id"] for i in items}
    # Each unit's liaison is told.
    assert Notification.objects.filter(user=tree.user("department_liaison"),
                                       event="handling.summoned").exists()
    assert Notification.objects.filter(user=water_liaison, event="handling.summoned").exists()

    # 供电 checks in at once: on time.
    r = api("department_liaison").post(f"/summons/{by_org[tree.department.pk]}/check-in",
                                       {"note": "已派电工"})
    assert r.status_code == 200, r.json()
    assert r.json()["is_late"] is False and r.json()["status"] == "checked_in"

    # 水务 checks in 25 hours later: late.
    later = timezone.now() + dt.timedelta(hours=25)
    with mock.patch("django.utils.timezone.now", return_value=later):
        r = api(water_liaison).post(f"/summons/{by_org[water.pk]}/check-in")
        assert r.status_code == 200, r.json()
        assert r.json()["is_late"] is True
        # 执法 never checked in: missing once the deadline has passed.
        r = api("village_secretary").get(f"/matters/{matter.pk}/summons")
    assert r.status_code == 200
    assert r.json()["stats"] == {"total": 3, "checked_in": 2, "on_time": 1, "late": 1,
                                 "missing": 1, "waiting": 0}
    missing = next(i for i in r.json()["items"] if i["organisation_id"] == law.pk)
    assert missing["is_missing"] is True

    # The timeline and the audit chain have every step.
    summaries = list(MatterEvent.objects.filter(matter=matter, kind=EventKind.CHECK_IN)
                     .values_list("summary", flat=True))
    assert any("迟到" in s for s in summaries) and any("按时" in s for s in summaries)
    assert MatterEvent.objects.get(matter=matter, kind=EventKind.SUMMONS).is_public
    assert AuditEvent.objects.filter(action="handling.summons.create").count() == 3
    assert AuditEvent.objects.filter(action="handling.summons.check_in").count() == 2


def test_urgent_summons_uses_minutes(tree, matter, api):
    before = timezone.now()
    r = api("village_secretary").post(f"/matters/{matter.pk}/summons", {
        "organisation_ids": [tree.department.pk], "reason": "电线落地，有触电危险",
        "urgent": True})
    assert r.status_code == 201
    due = dt.datetime.fromisoformat(r.json()[0]["check_in_due"])
    assert due - before < dt.timedelta(minutes=31)
    assert r.json()[0]["is_urgent"] is True


def test_only_whistle_holders_summon_and_only_the_unit_checks_in(tree, matter, api, units):
    r = api("village_cadre").post(f"/matters/{matter.pk}/summons", {
        "organisation_ids": [tree.department.pk], "reason": "x"})
    assert r.status_code == 403
    r = api("village_secretary").post(f"/matters/{matter.pk}/summons", {
        "organisation_ids": [tree.department.pk], "reason": ""})
    assert r.status_code == 400
    r = api("village_secretary").post(f"/matters/{matter.pk}/summons", {
        "organisation_ids": [tree.department.pk], "reason": "到场查看"})
    summons_id = r.json()[0]["id"]
    # Summoning the same unit again while it has not finished is refused.
    r = api("village_secretary").post(f"/matters/{matter.pk}/summons", {
        "organisation_ids": [tree.department.pk], "reason": "再次吹哨"})
    assert r.status_code == 400
    # A liaison of another unit cannot check in for 供电; nor can the secretary.
    _water, water_liaison = units["water_liaison"]
    r = api(water_liaison).post(f"/summons/{summons_id}/check-in")
    assert r.status_code in (403, 404)
    r = api("village_secretary").post(f"/summons/{summons_id}/check-in")
    assert r.status_code == 403
    # The page refuses the same.
    from gongzhi.testing import login_client

    r = login_client(water_liaison).post(reverse("handling:check_in", args=[summons_id]))
    assert r.status_code in (403, 404)
    assert Summons.objects.get(pk=summons_id).status == SummonsStatus.WAITING
    # Acting before checking in is refused; after, it is recorded.
    liaison = api("department_liaison")
    r = liaison.post(f"/summons/{summons_id}/action", {"action_taken": "已更换线路"})
    assert r.status_code == 400 and "报到" in r.json()["detail"]
    assert liaison.post(f"/summons/{summons_id}/check-in").status_code == 200
    r = liaison.post(f"/summons/{summons_id}/check-in")
    assert r.status_code == 400  # twice is refused
    r = liaison.post(f"/summons/{summons_id}/action", {"action_taken": "已更换线路"})
    assert r.status_code == 200 and r.json()["status"] == "done"
    assert AuditEvent.objects.filter(action="handling.summons.action").count() == 1
    assert Notification.objects.filter(user=tree.user("village_secretary"),
                                       event="handling.summons_done").exists()


def test_department_page_lists_waiting_first_and_checks_in(tree, api, page):
    from .conftest import raise_matter

    first = raise_matter(tree, title="供电线路老化")
    second = raise_matter(tree, title="变压器噪音")
    caller = api("village_secretary")
    done_id = caller.post(f"/matters/{first.pk}/summons", {
        "organisation_ids": [tree.department.pk], "reason": "查看线路"}).json()[0]["id"]
    overdue_id = caller.post(f"/matters/{second.pk}/summons", {
        "organisation_ids": [tree.department.pk], "reason": "查看变压器"}).json()[0]["id"]
    api("department_liaison").post(f"/summons/{done_id}/check-in")
    Summons.objects.filter(pk=overdue_id).update(
        check_in_due=timezone.now() - dt.timedelta(hours=1))

    client = page("department_liaison")
    r = client.get(reverse("handling:summonses"))
    assert r.status_code == 200
    html = r.content.decode()
    assert html.index(f'id="summons-{overdue_id}"') < html.index(f'id="summons-{done_id}"')
    assert "逾期未报到" in html and "变压器噪音" in html
    # The API's waiting list holds only the waiting one.
    r = api("department_liaison").get("/summons?status=waiting")
    assert [i["id"] for i in r.json()["items"]] == [overdue_id]
    assert api("department_liaison").get("/summons?status=missing").json()["count"] == 1

    # One click 报到 (htmx answers with the card; it is late).
    r = client.post(reverse("handling:check_in", args=[overdue_id]), {"note": ""},
                    headers={"HX-Request": "true"})
    assert r.status_code == 200
    assert "迟到" in r.content.decode() and 'name="action_taken"' in r.content.decode()
    assert Summons.objects.get(pk=overdue_id).is_late
    # Without htmx: back to the list with a message.
    r = client.post(reverse("handling:summons_action", args=[overdue_id]),
                    {"action_taken": "已降噪处理", "done": "1"})
    assert r.status_code == 302 and r["Location"] == reverse("handling:summonses")
    assert Summons.objects.get(pk=overdue_id).status == SummonsStatus.DONE
    # Only liaisons have this page.
    assert page("village_cadre").get(reverse("handling:summonses")).status_code == 403


def test_panel_and_stats_show_late_and_missing(tree, matter, api, page, units):
    water, _water_liaison = units["water_liaison"]
    caller = api("village_secretary")
    ids = {i["organisation_id"]: i["id"] for i in caller.post(
        f"/matters/{matter.pk}/summons",
        {"organisation_ids": [tree.department.pk, water.pk], "reason": "联合处置"}).json()}
    Summons.objects.filter(pk__in=ids.values()).update(
        check_in_due=timezone.now() - dt.timedelta(minutes=5))
    api("department_liaison").post(f"/summons/{ids[tree.department.pk]}/check-in")

    panel = page("village_secretary").get(reverse("handling:matter", args=[matter.pk]))
    html = panel.content.decode()
    assert panel.status_code == 200
    assert '<span class="stat-value" data-stat="late">1</span>' in html
    assert '<span class="stat-value" data-stat="missing">1</span>' in html
    assert "逾期未报到" in html and "迟到" in html

    r = page("village_secretary").get(reverse("handling:stats"))
    assert r.status_code == 200
    html = r.content.decode()
    assert "县水务局" in html and '<span class="stat-value" data-stat="missing">1</span>' in html
    assert page("grid_worker").get(reverse("handling:stats")).status_code == 403


def test_summon_from_the_page(tree, matter, page):
    r = page("village_secretary").post(reverse("handling:summon", args=[matter.pk]), {
        "organisations": [tree.department.pk], "reason": "请供电公司到场", "urgent": "1"})
    assert r.status_code == 302
    s = Summons.objects.get(matter=matter)
    assert s.is_urgent and s.check_in_due - s.summoned_at == dt.timedelta(minutes=30)


def test_liaison_checks_in_from_the_matter_panel(tree, matter, api, page):
    summons_id = api("village_secretary").post(f"/matters/{matter.pk}/summons", {
        "organisation_ids": [tree.department.pk], "reason": "请到场"}).json()[0]["id"]
    client = page("department_liaison")
    panel = client.get(reverse("handling:matter", args=[matter.pk])).content.decode()
    check_in_url = reverse("handling:check_in", args=[summons_id])
    assert f'action="{check_in_url}"' in panel
    # The liaison is offered none of the handler's forms.
    assert reverse("handling:assign", args=[matter.pk]) not in panel
    assert reverse("handling:summon", args=[matter.pk]) not in panel
    r = client.post(check_in_url, {"from": "panel", "note": "已到场"},
                    headers={"HX-Request": "true"})
    assert r.status_code == 200
    html = r.content.decode()
    assert 'id="handling-panel"' in html and "已按时报到" in html
    assert 'name="action_taken"' in html
