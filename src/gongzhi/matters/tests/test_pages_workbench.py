"""The workbench (我的待办), the full list and the three ledgers (三本账) over HTTP."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from gongzhi.accounts.actions import do_create_user, do_grant_role
from gongzhi.handling.actions import do_escalate
from gongzhi.matters import workflow
from gongzhi.matters.actions import do_raise_matter, matter_settings
from gongzhi.matters.models import Category, Matter
from gongzhi.testing import login_client


@pytest.fixture
def page(tree):
    matter_settings(tree.county)

    def for_role(role_or_user):
        user = tree.user(role_or_user) if isinstance(role_or_user, str) else role_or_user
        return login_client(user)

    return for_role


def cat(tree, code):
    return Category.objects.get(county=tree.county, code=code)


def raise_one(tree, title, *, place=None, ledger="claim", code="infrastructure", **kw):
    args = dict(place=place or tree.grid, title=title, text=f"{title}，请尽快处理。",
                channel="walk_in", ledger=ledger, acting_user=tree.user("village_cadre"),
                category=cat(tree, code))
    if (place or tree.grid).village_id == tree.other_village.pk:
        args["acting_user"] = None
    args.update(kw)
    return do_raise_matter(**args)


def accept(m, tree):
    return workflow.do_transition(m, "accept", acting_user=tree.user("village_secretary"))


def set_deadline(m, delta):
    Matter.objects.filter(pk=m.pk).update(stage_deadline=timezone.now() + delta)


def titles(response) -> list[str]:
    return [r["matter"].title for r in response.context["rows"]]


def test_workbench_lists_what_the_user_can_act_on(tree, page):
    a = raise_one(tree, "甲 路灯")  # intake: cadres may accept
    b = accept(raise_one(tree, "乙 道路"), tree)  # handling: grid workers may not act
    c = raise_one(tree, "丙 邻村", place=tree.other_grid)  # another town
    # The grid worker's grant sits below the village queue: the engine lets it act on nothing.
    r = page("grid_worker").get(reverse("matters:workbench"))
    assert r.status_code == 200 and titles(r) == []
    # A village cadre may accept and report results.
    assert set(titles(page("village_cadre").get(reverse("matters:workbench")))) == {
        "甲 路灯", "乙 道路"}
    # The village secretary: both of the village's.
    assert set(titles(page("village_secretary").get(reverse("matters:workbench")))) == {
        "甲 路灯", "乙 道路"}
    # The department: only what its unit is responsible for.
    assert titles(page("department_liaison").get(reverse("matters:workbench"))) == []
    Matter.objects.filter(pk=b.pk).update(responsible_org=tree.department)
    assert titles(page("department_liaison").get(reverse("matters:workbench"))) == ["乙 道路"]
    # The county office acts anywhere in the county.
    assert set(titles(page("county_office").get(reverse("matters:workbench")))) == {
        "甲 路灯", "乙 道路", "丙 邻村"}
    assert a and c


def test_workbench_agrees_with_the_engine(tree, page):
    """For every user, the workbench is exactly the open matters with an available transition
    (or theirs to handle), computed per matter by the engine."""
    ms = [raise_one(tree, "一 路灯"), accept(raise_one(tree, "二 道路"), tree),
          raise_one(tree, "三 邻村", place=tree.other_grid)]
    up = accept(raise_one(tree, "四 提级"), tree)
    do_escalate(up, acting_user=tree.user("village_secretary"), reason="村里解决不了")
    ms.append(up)
    for role in ("grid_worker", "village_cadre", "village_secretary", "town_staff",
                 "town_secretary", "county_office", "supervisor", "department_liaison"):
        user = tree.user(role)
        expected = set()
        for m in Matter.objects.filter(pk__in=[x.pk for x in ms]):
            if Matter.objects.restrict(user, "view").filter(pk=m.pk).exists() and (
                workflow.available_transitions(m, user) or m.responsible_user_id == user.pk
                or (user.organisation_id and m.responsible_org_id == user.organisation_id)
            ):
                expected.add(m.title)
        got = set(titles(page(role).get(reverse("matters:workbench"))))
        assert got == expected, role
    # Escalated to the town: the village reads it but no longer acts on it.
    assert "四 提级" not in titles(page("village_secretary").get(reverse("matters:workbench")))
    assert "四 提级" in titles(page("town_secretary").get(reverse("matters:workbench")))


def test_overdue_first_then_by_deadline(tree, page):
    late = raise_one(tree, "超期的")
    soon = raise_one(tree, "快到期的")
    later = raise_one(tree, "不急的")
    set_deadline(late, -timedelta(hours=3))
    set_deadline(soon, timedelta(hours=5))
    set_deadline(later, timedelta(days=5))
    Matter.objects.filter(pk=raise_one(tree, "没时限的").pk).update(stage_deadline=None)
    r = page("village_secretary").get(reverse("matters:workbench"))
    assert titles(r) == ["超期的", "快到期的", "不急的", "没时限的"]
    html = r.content.decode()
    assert "已超期" in html and "24小时内到期" in html
    # 时限待核: the calendar did not know the year.
    Matter.objects.filter(pk=later.pk).update(deadline_uncertain=True)
    html = page("village_secretary").get(reverse("matters:workbench")).content.decode()
    assert "时限待核" in html
    # Only overdue.
    r = page("village_secretary").get(reverse("matters:workbench"), {"overdue": "1"})
    assert titles(r) == ["超期的"]


def test_workbench_filters_and_stage_tabs(tree, page):
    raise_one(tree, "路灯不亮", code="infrastructure")
    raise_one(tree, "垃圾成堆", code="environment", ledger="complaint", urgency="urgent")
    raise_one(tree, "修个篮球场", code="culture", ledger="suggestion", channel="wechat",
              place=tree.grid2)
    accept(raise_one(tree, "水管漏水"), tree)
    client = page("village_secretary")
    wb = reverse("matters:workbench")
    assert titles(client.get(wb, {"ledger": "complaint"})) == ["垃圾成堆"]
    assert titles(client.get(wb, {"category": cat(tree, "culture").pk})) == ["修个篮球场"]
    assert titles(client.get(wb, {"channel": "wechat"})) == ["修个篮球场"]
    assert titles(client.get(wb, {"urgency": "urgent"})) == ["垃圾成堆"]
    assert titles(client.get(wb, {"place": tree.grid2.pk})) == ["修个篮球场"]
    assert titles(client.get(wb, {"q": "篮球"})) == ["修个篮球场"]
    assert titles(client.get(wb, {"stage": "handling"})) == ["水管漏水"]
    r = client.get(wb)
    tabs = {t["name"]: t["count"] for t in r.context["tabs"]}
    assert tabs == {"登记受理": 3, "办理": 1} and r.context["total"] == 4
    # A place outside the user's scope is ignored, not obeyed.
    assert len(titles(client.get(wb, {"place": tree.other_village.pk}))) == 4
    # htmx gets the table only.
    r = client.get(wb, {"ledger": "complaint"}, headers={"HX-Request": "true"})
    html = r.content.decode()
    assert "<html" not in html and 'id="matter-table"' in html and "垃圾成堆" in html


def test_workbench_query_count_does_not_grow_with_matters(tree, page):
    client = page("village_secretary")
    for i in range(3):
        raise_one(tree, f"事项{i}")
    client.get(reverse("matters:workbench"))  # warm caches (sessions, content types)
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("matters:workbench")).status_code == 200
    for i in range(3, 25):
        m = raise_one(tree, f"事项{i}", code="environment" if i % 2 else "infrastructure")
        if i % 3 == 0:
            accept(m, tree)
            Matter.objects.filter(pk=m.pk).update(responsible_org=tree.department)
    with CaptureQueriesContext(connection) as many:
        r = client.get(reverse("matters:workbench"))
    assert len(r.context["rows"]) == 25
    assert len(many) == len(few), [q["sql"][:120] for q in many.captured_queries]
    # session, user, grants; stage pairs and their workflows; filter choices (places,
    # categories); stage counts and their workflows; page count and rows; the bulk bar's lists.
    assert len(many) <= 14, [q["sql"][:120] for q in many.captured_queries]


def test_bulk_assign_from_the_workbench(tree, page):
    a = accept(raise_one(tree, "甲"), tree)
    b = accept(raise_one(tree, "乙"), tree)
    c = raise_one(tree, "丙 邻村", place=tree.other_grid)
    client = page("village_secretary")
    html = client.get(reverse("matters:workbench")).content.decode()
    assert "批量交办所选事项" in html
    # The grid worker may not assign: no bulk bar.
    assert "批量交办所选事项" not in page("grid_worker").get(
        reverse("matters:workbench")).content.decode()
    r = client.post(reverse("matters:bulk_assign"), {
        "matters": [a.pk, b.pk], "mode": "proxy", "responsible_org": tree.department.pk,
        "instructions": "请三天内处理", "next": reverse("matters:workbench") + "?ledger=claim"})
    assert r.status_code == 302 and r["Location"].endswith("?ledger=claim")
    for m in (a, b):
        m.refresh_from_db()
        assert m.responsible_org_id == tree.department.pk and m.handling_mode == "proxy"
    assert "已交办 2 件事项。" in client.get(reverse("matters:workbench")).content.decode()
    # A matter outside the user's scope in the list is simply not found: nothing assigned.
    r = client.post(reverse("matters:bulk_assign"), {"matters": [c.pk], "mode": "self",
                                                     "responsible_org": tree.department.pk})
    c.refresh_from_db()
    assert c.responsible_org_id is None
    assert "请至少选择一件事项。" in client.get(reverse("matters:workbench")).content.decode()
    # Refused as a whole: nobody named.
    client.post(reverse("matters:bulk_assign"), {"matters": [a.pk], "mode": "self"})
    html = client.get(reverse("matters:workbench")).content.decode()
    assert "没有交办任何事项" in html and "请指定责任人或责任单位。" in html


def test_full_list_includes_closed_and_hides_merged(tree, page):
    from gongzhi.matters.actions import do_merge_matters

    open_one = raise_one(tree, "办理中的")
    closed = raise_one(tree, "不予受理的")
    workflow.do_transition(closed, "decline", acting_user=tree.user("village_secretary"),
                           comment="不属于村里")
    dup = raise_one(tree, "重复的")
    do_merge_matters(dup, open_one, acting_user=tree.user("village_secretary"))
    client = page("village_secretary")
    lst = reverse("matters:list")
    assert set(titles(client.get(lst))) == {"办理中的", "不予受理的"}
    assert titles(client.get(lst, {"status": "closed"})) == ["不予受理的"]
    assert titles(client.get(lst, {"status": "open"})) == ["办理中的"]
    assert titles(page("grid_worker").get(lst)) in (["办理中的", "不予受理的"],
                                                    ["不予受理的", "办理中的"])
    assert titles(page("department_liaison").get(lst)) == []


def test_three_ledgers_counts(tree, page):
    now = timezone.now()
    sec = tree.user("village_secretary")
    s1 = raise_one(tree, "建议修路", ledger="suggestion")
    workflow.do_transition(s1, "decline", acting_user=sec, comment="已纳入规划")
    raise_one(tree, "建议办夜校", ledger="suggestion")
    c1 = raise_one(tree, "低保没发", ledger="claim")
    c2 = accept(raise_one(tree, "房子漏雨", ledger="claim", place=tree.grid2), tree)
    Matter.objects.filter(pk=c2.pk).update(stage_deadline=now - timedelta(hours=1))
    raise_one(tree, "干部吃拿卡要", ledger="complaint")
    raise_one(tree, "邻村诉求", ledger="claim", place=tree.other_grid)
    r = page("village_secretary").get(reverse("matters:ledgers"))
    assert r.status_code == 200 and r.context["place"] == tree.village
    cols = {c.ledger: c for c in r.context["columns"]}
    sugg = cols["suggestion"]
    assert (sugg.total, sugg.open, sugg.closed) == (2, 1, 1)
    assert (cols["claim"].total, cols["claim"].open, cols["claim"].overdue) == (2, 2, 1)
    assert (cols["complaint"].total, cols["complaint"].open) == (1, 1)
    claim_stages = {s["name"]: s["count"] for s in cols["claim"].stages}
    assert claim_stages == {"登记受理": 1, "办理": 1, "结果反馈": 0, "群众评价": 0, "办结归档": 0}
    by_stage = {s["name"]: s["count"] for s in cols["suggestion"].stages}
    assert by_stage["办结归档"] == 1 and by_stage["登记受理"] == 1
    html = r.content.decode()
    assert "书记民情三本账" in html
    assert f"?ledger=claim&amp;place={tree.village.pk}&amp;status=overdue" in html
    # The county office sees the county, with each town below it.
    r = page("county_office").get(reverse("matters:ledgers"))
    cols = {c.ledger: c for c in r.context["columns"]}
    assert cols["claim"].total == 3
    rows = {row["place"].name: row for row in r.context["breakdown"]}
    assert rows["城关镇"]["total"] == 5 and rows["八里镇"]["total"] == 1
    # ... and may look at one village, but not a place outside its grants.
    r = page("county_office").get(reverse("matters:ledgers"), {"place": tree.other_village.pk})
    assert {c.ledger: c.total for c in r.context["columns"]}["claim"] == 1
    r = page("village_secretary").get(reverse("matters:ledgers"), {"place": tree.other_village.pk})
    assert r.status_code == 404
    # The list the ledger links to agrees with the count.
    r = page("village_secretary").get(reverse("matters:list"), {
        "ledger": "claim", "place": tree.village.pk, "status": "overdue"})
    assert titles(r) == ["房子漏雨"]
    assert c1


def test_ledgers_count_with_one_group_by(tree, page):
    for i in range(6):
        raise_one(tree, f"事项{i}", ledger=["suggestion", "claim", "complaint"][i % 3])
    client = page("village_secretary")
    client.get(reverse("matters:ledgers"))
    with CaptureQueriesContext(connection) as ctx:
        client.get(reverse("matters:ledgers"))
    grouped = [q for q in ctx.captured_queries if "GROUP BY" in q["sql"]
               and "matters_matter" in q["sql"]]
    assert len(grouped) == 1


def test_pages_need_a_login_and_a_role(tree, page):
    from django.test import Client

    for name in ("matters:workbench", "matters:list", "matters:ledgers", "matters:raise"):
        r = Client().get(reverse(name))
        assert r.status_code == 302 and "/accounts/login/" in r["Location"], name
    nobody = do_create_user("nobody", acting_user=None, county=tree.county)
    client = page(nobody)
    assert client.get(reverse("matters:list")).status_code == 403
    assert client.get(reverse("matters:ledgers")).status_code == 403
    assert client.get(reverse("matters:raise")).status_code == 403
    assert client.get(reverse("matters:workbench")).status_code == 403
    # A resident holds no matter permissions.
    assert page("resident").get(reverse("matters:list")).status_code == 403
    assert do_grant_role


def test_workbench_home_panel(tree, page):
    late = raise_one(tree, "超期的")
    raise_one(tree, "不急的")
    set_deadline(late, -timedelta(hours=2))
    html = page("village_secretary").get(reverse("home")).content.decode()
    assert 'id="home-tasks-title"' in html and "待办事项" in html
    assert '<span class="stat-value">2</span>' in html  # waiting
    assert '<span class="stat-value">1</span>' in html  # of which late
    # Not for those who handle nothing.
    assert 'id="home-tasks-title"' not in page("resident").get(reverse("home")).content.decode()
