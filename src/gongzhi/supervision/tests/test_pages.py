"""Supervisors' pages and API: items by level, records (约谈 needs the person talked to), closing,
manual supervision, and who sees what."""

from __future__ import annotations

from gongzhi.matters.models import EventKind, Matter, MatterEvent
from gongzhi.places.actions import do_create_organisation
from gongzhi.supervision.models import SupervisionItem, SupervisionRecord
from gongzhi.supervision.scan import run_scan
from gongzhi.testing import api_client, login_client

from .helpers import handling, overdue_by


def supervised(tree, **fields) -> SupervisionItem:
    matter = overdue_by(handling(tree), hours=1, **fields)
    run_scan()
    return SupervisionItem.objects.get(matter=matter)


def test_supervisor_pages(tree):
    item = supervised(tree)
    client = login_client(tree.user("supervisor"))
    listing = client.get("/supervision/")
    assert listing.status_code == 200
    html = listing.content.decode()
    assert item.matter.title in html and "第1级" in html and "高城寨村" in html
    assert client.get("/supervision/?level=1").content.decode().count(item.matter.title) == 0
    overdue = client.get("/supervision/overdue/")
    assert overdue.status_code == 200 and item.matter.tracking_code in overdue.content.decode()
    page = client.get(f"/supervision/items/{item.pk}/")
    assert page.status_code == 200 and "约谈" in page.content.decode()


def test_admonition_talk_needs_the_person_talked_to(tree):
    item = supervised(tree)
    client = login_client(tree.user("supervisor"))
    url = f"/supervision/items/{item.pk}/records/"
    refused = client.post(url, {"kind": "talk", "notes": "约谈村书记，要求三日内修复"},
                          follow=True)
    assert "约谈须填写约谈对象" in refused.content.decode()
    assert not SupervisionRecord.objects.exists()
    ok = client.post(url, {"kind": "talk", "notes": "约谈村书记，要求三日内修复",
                           "talked_to_name": "王书记", "talked_to_position": "高城寨村党支部书记"})
    assert ok.status_code == 302
    talk = SupervisionRecord.objects.get()
    assert talk.talked_to == "王书记 高城寨村党支部书记" and talk.by == tree.user("supervisor")
    site = client.post(url, {"kind": "site_check", "notes": "现场查看，路灯仍未修复",
                             "talked_to_user": str(tree.user("village_secretary").pk)})
    assert site.status_code == 302
    assert SupervisionRecord.objects.get(kind="site_check").talked_to_user is None
    chosen = client.post(url, {"kind": "talk", "notes": "再次约谈",
                               "talked_to_user": str(tree.user("village_secretary").pk)})
    assert chosen.status_code == 302
    assert SupervisionRecord.objects.filter(talked_to_user=tree.user("village_secretary")).exists()
    events = MatterEvent.objects.filter(matter=item.matter, kind=EventKind.SUPERVISION)
    assert events.filter(summary__startswith="约谈").count() == 2
    assert not events.filter(summary__startswith="约谈").first().is_public

    # Through the API the same rule holds.
    api, headers = api_client(tree.user("county_office"))
    rec_url = f"/api/v1/supervision/items/{item.pk}/records"
    bad = api.post(rec_url, {"kind": "talk", "notes": "约谈"}, content_type="application/json",
                   headers=headers)
    assert bad.status_code == 400 and "约谈对象" in bad.json()["detail"]
    good = api.post(rec_url, {"kind": "talk", "notes": "约谈", "talked_to_user":
                              tree.user("village_secretary").pk},
                    content_type="application/json", headers=headers)
    assert good.status_code == 201, good.content
    assert api.get(rec_url, headers=headers).json()[-1]["talked_to_user_id"] == tree.user(
        "village_secretary").pk


def test_close_and_open_by_hand(tree):
    item = supervised(tree)
    client = login_client(tree.user("town_secretary"))
    assert client.post(f"/supervision/items/{item.pk}/close/", {"note": ""},
                       follow=True).status_code == 200
    item.refresh_from_db()
    assert item.status == "open"  # a note is required
    client.post(f"/supervision/items/{item.pk}/close/", {"note": "已督促整改到位"})
    item.refresh_from_db()
    assert item.status == "closed" and item.closed_by == tree.user("town_secretary")
    add = client.post(f"/supervision/items/{item.pk}/records/",
                      {"kind": "survey", "notes": "回访"}, follow=True)
    assert "已经结束" in add.content.decode()

    matter = handling(tree, title="垃圾清运不及时")
    assert client.get(f"/supervision/matters/{matter.pk}/open/").status_code == 200
    opened = client.post(f"/supervision/matters/{matter.pk}/open/",
                         {"reason": "near_deadline", "level": "0", "note": "请加快办理"})
    assert opened.status_code == 302
    manual = SupervisionItem.objects.get(matter=matter)
    assert (manual.reason, manual.automatic, manual.opened_by) == (
        "near_deadline", False, tree.user("town_secretary"))
    again = client.post(f"/supervision/matters/{matter.pk}/open/", {"reason": "manual",
                                                                    "level": "0"}, follow=True)
    assert "已有进行中的专项督办" in again.content.decode()
    api, headers = api_client(tree.user("county_office"))
    dup = api.post(f"/api/v1/matters/{matter.pk}/supervision", {"level": 1},
                   content_type="application/json", headers=headers)
    assert dup.status_code == 400


def test_grid_worker_cannot_open_supervision_pages(tree):
    item = supervised(tree)
    client = login_client(tree.user("grid_worker"))
    for url in ("/supervision/", "/supervision/overdue/", "/supervision/bulletins/",
                f"/supervision/items/{item.pk}/", f"/supervision/matters/{item.matter_id}/open/"):
        assert client.get(url).status_code == 403, url
    assert client.post(f"/supervision/items/{item.pk}/records/",
                       {"kind": "survey", "notes": "x"}).status_code == 403
    assert not SupervisionRecord.objects.exists()
    nav = login_client(tree.user("supervisor")).get("/").content.decode()
    assert "/supervision/" in nav
    assert "/supervision/" not in client.get("/").content.decode()


def test_a_town_supervisor_sees_only_its_town(tree):
    ours = supervised(tree)
    theirs_matter = overdue_by(handling(tree, place=tree.other_grid, title="东关下水道堵塞",
                                        acting_user=tree.user("county_office")), hours=1)
    run_scan()
    theirs = SupervisionItem.objects.get(matter=theirs_matter)
    client = login_client(tree.user("town_secretary"))
    assert client.get(f"/supervision/items/{ours.pk}/").status_code == 200
    assert client.get(f"/supervision/items/{theirs.pk}/").status_code == 404
    assert theirs_matter.title not in client.get("/supervision/").content.decode()


def test_a_department_sees_only_its_own_supervision(tree):
    other_org = do_create_organisation(tree.county, acting_user=None, kind="department",
                                       name="县水务局", category="供水")
    mine = supervised(tree, responsible_org=tree.department)
    theirs_matter = overdue_by(handling(tree, title="自来水停水三天"), hours=1,
                               responsible_org=other_org)
    run_scan()
    theirs = SupervisionItem.objects.get(matter=theirs_matter)
    liaison = tree.user("department_liaison")
    api, headers = api_client(liaison)
    listed = api.get("/api/v1/supervision/items", headers=headers).json()
    assert [i["id"] for i in listed["items"]] == [mine.pk]
    assert listed["items"][0]["unit"] == "县供电公司"
    assert api.get(f"/api/v1/supervision/items/{theirs.pk}",
                   headers=headers).status_code == 404
    assert api.get(f"/api/v1/supervision/items/{mine.pk}", headers=headers).status_code == 200
    # It reads its own supervision but does not supervise.
    rec = api.post(f"/api/v1/supervision/items/{mine.pk}/records",
                   {"kind": "survey", "notes": "已整改"}, content_type="application/json",
                   headers=headers)
    assert rec.status_code == 403
    assert login_client(liaison).get("/supervision/").status_code == 403
    # A supervisor sees both.
    sup, sh = api_client(tree.user("supervisor"))
    assert sup.get("/api/v1/supervision/items", headers=sh).json()["count"] == 2


def test_complaint_supervision_hidden_from_the_accused(tree):
    matter = overdue_by(handling(tree, ledger="complaint", title="投诉供电所",
                                 accused_organisation=tree.department), hours=1,
                        responsible_org=tree.department)
    run_scan()
    assert SupervisionItem.objects.filter(matter=matter).exists()
    api, headers = api_client(tree.user("department_liaison"))
    assert api.get("/api/v1/supervision/items", headers=headers).json()["count"] == 0
    from gongzhi.notifications.models import Notification

    assert not Notification.objects.filter(user=tree.user("department_liaison")).exists()


def test_panel_on_the_matter_page(tree, rf):
    from gongzhi.matters.panels import panels_for

    item = supervised(tree)
    request = rf.get("/")
    request.user = tree.user("supervisor")
    panels = {p.key: (p, ctx) for p, ctx in panels_for(request, Matter.objects.get(
        pk=item.matter_id))}
    panel, ctx = panels["supervision"]
    assert [r["item"].pk for r in ctx["supervision_rows"]] == [item.pk]
    from django.template.loader import render_to_string

    html = render_to_string(panel.template, {**ctx, "matter": item.matter}, request=request)
    assert "第1级" in html and f"/supervision/items/{item.pk}/" in html


def test_matter_page_shows_the_panels(tree):
    from gongzhi.supervision.recipients import matter_url

    item = supervised(tree)
    url = matter_url(item.matter)
    if not url:
        import pytest

        pytest.skip("the matters app serves no matter page")
    html = login_client(tree.user("supervisor")).get(url).content.decode()
    assert 'id="panel-supervision"' in html and f"/supervision/items/{item.pk}/" in html
    assert 'id="panel-evaluation"' in html
    grid = login_client(tree.user("grid_worker")).get(url).content.decode()
    assert 'id="panel-supervision"' in grid  # read-only for those who handle it
    assert f"/supervision/items/{item.pk}/" not in grid


def test_list_pages_do_not_query_per_row(tree):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for i in range(2):
        overdue_by(handling(tree, title=f"路灯{i}"), hours=1, responsible_org=tree.department)
    run_scan()
    client = login_client(tree.user("supervisor"))
    counts = {}
    for n in (2, 6):
        for i in range(n - SupervisionItem.objects.count()):
            overdue_by(handling(tree, title=f"水管{n}{i}"), hours=1)
        run_scan()
        for url in ("/supervision/", "/supervision/overdue/"):
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(url).status_code == 200
            counts[(url, n)] = len(ctx.captured_queries)
    assert counts[("/supervision/", 2)] == counts[("/supervision/", 6)]
    assert counts[("/supervision/overdue/", 2)] == counts[("/supervision/overdue/", 6)]
