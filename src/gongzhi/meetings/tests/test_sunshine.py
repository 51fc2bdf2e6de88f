"""三务三资阳光报告会 over HTTP: items reported, questions recorded, answered on the spot or turned
into matters, and the figures against a hand-counted scenario."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from gongzhi.accounts.actions import do_create_user, do_grant_role
from gongzhi.matters.models import Matter
from gongzhi.meetings import actions
from gongzhi.meetings.models import Disclosure, SunshineQuestion
from gongzhi.meetings.sunshine import sunshine_figures
from gongzhi.testing import api_client, login_client

from .pa_helpers import close_matter, held_meeting, secretary

pytestmark = pytest.mark.django_db


def _item(client, meeting, title, domain="finance"):
    today = timezone.localdate()
    resp = client.post(reverse("meetings:disclosure_publish", args=[meeting.village_id]), {
        "domain": domain, "title": title, "content": f"{title}的明细。",
        "period_start": today.replace(day=1).isoformat(), "period_end": today.isoformat(),
        "meeting": meeting.pk, "next": "sunshine"})
    assert resp.status_code == 302, resp.content.decode()[:500]
    return Disclosure.objects.get(title=title)


def _ask(client, meeting, text, answer="", asked_by="村民甲"):
    resp = client.post(reverse("meetings:sunshine_question", args=[meeting.pk]),
                       {"text": text, "answer": answer, "asked_by": asked_by})
    assert resp.status_code == 302, resp.content.decode()[:500]
    return SunshineQuestion.objects.filter(meeting=meeting).latest("pk")


def _to_matter(client, question):
    resp = client.post(reverse("meetings:sunshine_to_matter", args=[question.pk]),
                       {"ledger": "suggestion"})
    assert resp.status_code == 302, resp.content.decode()[:500]
    question.refresh_from_db()
    return question.matter


def _scenario(tree):
    """Two meetings at the village: 7 items, 9 questions — 5 answered on the spot, 4 turned into
    matters (2 closed solved, 1 closed unsolvable, 1 open). A third meeting in the other town:
    1 item, 1 question answered on the spot."""
    client = login_client(secretary(tree))
    a = held_meeting(tree, "sunshine", days=11, present=0, title="一季度阳光报告会")
    b = held_meeting(tree, "sunshine", days=12, present=0, title="二季度阳光报告会")
    for i in range(4):
        _item(client, a, f"一季度事项{i}")
    _item(client, b, "二季度财务", domain="finance")
    _item(client, b, "二季度村务", domain="village")
    # The 7th item was published before and is reported at meeting B.
    today = timezone.localdate()
    resp = client.post(reverse("meetings:disclosure_publish", args=[tree.village.pk]), {
        "domain": "party", "title": "党费收缴情况", "content": "党费收缴明细。",
        "period_start": today.replace(day=1).isoformat(), "period_end": today.isoformat()})
    assert resp.status_code == 302
    earlier = Disclosure.objects.get(title="党费收缴情况")
    resp = client.post(reverse("meetings:sunshine_link_item", args=[b.pk]),
                       {"disclosure": earlier.pk})
    assert resp.status_code == 302

    for i in range(3):
        _ask(client, a, f"问题A{i}", answer="已当场说明")
    matters = [_to_matter(client, _ask(client, a, "村道何时硬化")),
               _to_matter(client, _ask(client, a, "路灯坏了"))]
    later = _ask(client, b, "低保名单如何确定")
    resp = client.post(reverse("meetings:sunshine_answer", args=[later.pk]),
                       {"answer": "按程序评议并公示"})
    assert resp.status_code == 302
    _ask(client, b, "集体收入用在哪里", answer="见财务公开")
    matters += [_to_matter(client, _ask(client, b, "水渠漏水")),
                _to_matter(client, _ask(client, b, "垃圾清运不及时"))]
    close_matter(tree, matters[0], "solved")
    close_matter(tree, matters[1], "unsolvable")
    close_matter(tree, matters[2], "solved")  # matters[3] stays open

    other_sec = do_create_user("other_sec", acting_user=None)
    do_grant_role(other_sec, "village_secretary", tree.other_village, acting_user=None)
    c = actions.do_create_meeting(tree.other_village,
                                  a.kind, acting_user=other_sec, title="东关阳光报告会",
                                  starts_at=timezone.now() + dt.timedelta(days=13))
    actions.do_open_meeting(c, acting_user=other_sec)
    other_client = login_client(other_sec)
    _item(other_client, c, "东关财务")
    _ask(other_client, c, "东关的问题", answer="已答复")
    return a, b, c, matters


def test_figures_match_the_hand_count(tree):
    a, b, _c, matters = _scenario(tree)
    assert all(m.channel == "meeting" and m.village_id == tree.village.pk for m in matters)
    assert matters[0].reporter_name == "村民甲"
    today = timezone.localdate()
    start, end = today, today + dt.timedelta(days=30)
    village = sunshine_figures(tree.village, start, end)
    assert (village.meetings, village.items_disclosed, village.questions_raised,
            village.answered_on_spot, village.turned_into_matters, village.matters_closed,
            village.matters_resolved, village.resolved) == (2, 7, 9, 5, 4, 3, 2, 7)
    assert sunshine_figures(tree.town, start, end) == village  # the town rolls up the village
    county = sunshine_figures(tree.county, start, end)
    assert (county.meetings, county.items_disclosed, county.questions_raised,
            county.resolved) == (3, 8, 10, 8)
    # Out of the date range: nothing.
    assert sunshine_figures(tree.county, today - dt.timedelta(days=30), today).meetings == 0
    # The questions' own rule agrees with the figures.
    qs = SunshineQuestion.objects.filter(meeting__in=[a, b]).select_related("matter")
    assert sum(q.is_resolved for q in qs) == 7

    # The page (the town secretary's; the town is beyond a village secretary's reach).
    assert login_client(secretary(tree)).get(reverse("meetings:sunshine"),
                                             {"place": tree.town.pk}).status_code == 404
    client = login_client(tree.user("town_secretary"))
    resp = client.get(reverse("meetings:sunshine"), {"place": tree.town.pk,
                                                      "start": start.isoformat(),
                                                      "end": end.isoformat()})
    assert resp.status_code == 200
    body = resp.content.decode()
    for figure, value in (("meetings", 2), ("items_disclosed", 7), ("questions_raised", 9),
                          ("answered_on_spot", 5), ("turned_into_matters", 4), ("resolved", 7)):
        assert f'data-figure="{figure}">{value}<' in body, figure
    assert "东关阳光报告会" not in body
    assert client.get(reverse("meetings:sunshine_meeting", args=[b.pk])).status_code == 200

    # The API.
    api, headers = api_client(tree.user("county_office"))
    resp = api.get("/api/v1/sunshine/figures", {"place": tree.town.pk, "start": start,
                                                "end": end}, headers=headers)
    assert resp.status_code == 200
    data = resp.json()
    assert {k: data[k] for k in ("meetings", "items_disclosed", "questions_raised",
                                 "answered_on_spot", "turned_into_matters", "resolved",
                                 "unresolved")} == {
        "meetings": 2, "items_disclosed": 7, "questions_raised": 9, "answered_on_spot": 5,
        "turned_into_matters": 4, "resolved": 7, "unresolved": 2}
    resp = api.get("/api/v1/sunshine/figures", {"place": tree.county.pk, "start": start,
                                                "end": end}, headers=headers)
    assert resp.json()["resolved"] == 8
    # A village secretary cannot read the other town's figures.
    api, headers = api_client(secretary(tree))
    resp = api.get("/api/v1/sunshine/figures", {"place": tree.other_village.pk},
                   headers=headers)
    assert resp.status_code == 404
    resp = api.get(f"/api/v1/sunshine/meetings/{a.pk}/questions", headers=headers)
    assert resp.status_code == 200 and len(resp.json()) == 5

    # The public page shows the year's figures (counted from the same function).
    public = Client().get(reverse("meetings:public_disclosures", args=[tree.village.pk]))
    assert public.status_code == 200


def test_refusals(tree):
    client = login_client(secretary(tree))
    meeting = held_meeting(tree, "sunshine", days=11, present=0)
    answered = _ask(client, meeting, "问题一", answer="已答复")
    resp = client.post(reverse("meetings:sunshine_to_matter", args=[answered.pk]), {})
    assert resp.status_code == 400 and "已当场答复，无需转为事项" in resp.content.decode()
    q = _ask(client, meeting, "问题二")
    _to_matter(client, q)
    resp = client.post(reverse("meetings:sunshine_answer", args=[q.pk]), {"answer": "补答"})
    assert resp.status_code == 400 and "已转为事项办理" in resp.content.decode()
    resp = client.post(reverse("meetings:sunshine_to_matter", args=[q.pk]), {})
    assert resp.status_code == 400
    assert Matter.objects.count() == 1
    # Before the meeting opens nothing is recorded.
    kinds_meeting = actions.do_create_meeting(
        tree.village, meeting.kind, acting_user=secretary(tree), title="未开始的报告会",
        starts_at=timezone.now() + dt.timedelta(days=20))
    resp = client.post(reverse("meetings:sunshine_question", args=[kinds_meeting.pk]),
                       {"text": "提前提问"})
    assert resp.status_code == 400 and "报告会开始后" in resp.content.decode()
    # A meeting of another kind is no sunshine meeting here.
    other_kind = held_meeting(tree, "two_committees", days=11, present=0)
    assert client.get(reverse("meetings:sunshine_meeting",
                              args=[other_kind.pk])).status_code == 404


def test_access(tree):
    meeting = held_meeting(tree, "sunshine", days=11, present=0)
    question = _ask(login_client(secretary(tree)), meeting, "问题")
    page = reverse("meetings:sunshine_meeting", args=[meeting.pk])
    ask = reverse("meetings:sunshine_question", args=[meeting.pk])
    resident = login_client(tree.user("resident"))
    assert resident.get(reverse("meetings:sunshine")).status_code == 403
    assert resident.get(page).status_code == 403
    assert resident.post(ask, {"text": "居民自己记录"}).status_code == 403
    grid = login_client(tree.user("grid_worker"))
    assert grid.get(page).status_code == 200
    assert grid.post(ask, {"text": "网格员记录"}).status_code == 403
    assert grid.post(reverse("meetings:sunshine_answer", args=[question.pk]),
                     {"answer": "答复"}).status_code == 403
    other = do_create_user("other_sec", acting_user=None)
    do_grant_role(other, "village_secretary", tree.other_village, acting_user=None)
    other_client = login_client(other)
    assert other_client.get(page).status_code == 404
    assert other_client.post(ask, {"text": "越权"}).status_code == 404
    assert other_client.post(reverse("meetings:sunshine_answer", args=[question.pk]),
                             {"answer": "越权"}).status_code == 404
    api, headers = api_client(other)
    resp = api.post(f"/api/v1/sunshine/meetings/{meeting.pk}/questions", {"text": "越权"},
                    content_type="application/json", headers=headers)
    assert resp.status_code == 404
    api, headers = api_client(tree.user("grid_worker"))
    resp = api.post(f"/api/v1/sunshine/meetings/{meeting.pk}/questions", {"text": "网格员"},
                    content_type="application/json", headers=headers)
    assert resp.status_code == 403
    assert SunshineQuestion.objects.count() == 1
