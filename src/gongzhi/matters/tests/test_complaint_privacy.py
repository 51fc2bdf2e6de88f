"""A complaint (投诉举报) protects who made it, on every surface, over HTTP.

Two complaints in the village, both handled to the end (summons, mediation, return visit, the
reporter's rating) so that every surface has something to show: one about a department (the
county's power company), one about a named cadre (a deputy secretary of the village, who as a
secretary would otherwise be allowed to see reporters). The reporters' names and phones are
searched for in whole response bodies:

- never on the public board (pages and Atom feed), the public tracking page or the public API;
- never in the API or pages for roles without ``matters.view_reporter`` (grid worker, village
  cadre, town staff, the liaison of a department summoned to help);
- the liaison of the department complained about does not even learn the complaint exists
  (API, matter, handling and supervision pages), nor does the cadre complained about;
- the village secretary sees the reporter, and each showing is in the audit chain.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from gongzhi.accounts.actions import do_create_user, do_grant_role
from gongzhi.accounts.roles import Role
from gongzhi.audit.log import verify
from gongzhi.audit.models import AuditEvent
from gongzhi.core.privacy import mask_phone
from gongzhi.evaluation import tokens
from gongzhi.evaluation.models import EvaluationRequest
from gongzhi.matters.actions import matter_settings
from gongzhi.matters.models import Category, Matter
from gongzhi.places.actions import do_create_organisation
from gongzhi.testing import PASSWORD, api_client, login_client

ORG_REPORTER = ("钱七妹", "13600001234")
CADRE_REPORTER = ("孙小红", "13500005678")
ORG_TITLE = "供电公司抄表员多收电费不开票"
CADRE_TITLE = "村副书记优亲厚友分配低保名额"


def _secrets(reporter: tuple[str, str]) -> list[str]:
    name, phone = reporter
    return [name, phone, mask_phone(phone)]


def assert_hidden(body: str, secrets: list[str], where: str) -> None:
    for s in secrets:
        assert s not in body, f"{s} leaked: {where}"


@dataclass
class Api:
    client: Client
    headers: dict[str, str]

    def get(self, url: str):
        return self.client.get(f"/api/v1{url}", headers=self.headers)

    def post(self, url: str, data: dict | None = None):
        return self.client.post(f"/api/v1{url}", data=json.dumps(data or {}),
                                content_type="application/json", headers=self.headers)


@dataclass
class World:
    tree: Any
    accused: Any  # the cadre complained about (a deputy village secretary)
    summoned_org: Any  # a department summoned to help (not complained about)
    summoned_liaison: Any
    org_complaint: Matter
    cadre_complaint: Matter
    apis: dict[str, Api] = field(default_factory=dict)

    def user(self, who: str):
        return {"accused": self.accused, "summoned_liaison": self.summoned_liaison}.get(who) or (
            self.tree.user(who))

    def api(self, who: str) -> Api:
        if who not in self.apis:
            self.apis[who] = Api(*api_client(self.user(who)))
        return self.apis[who]

    def page(self, who: str) -> Client:
        return login_client(self.user(who))


def _handle_to_the_end(w: World, matter: Matter, reporter: tuple[str, str],
                       summon: Any | None) -> None:
    """Accept, (summon,) mediate, report, feed back, return visit, the reporter rates."""
    sec, mid = w.api("village_secretary"), matter.pk
    name, phone = reporter
    url = f"/matters/{mid}/transitions"
    assert sec.post(url, {"transition": "accept"}).status_code == 200
    if summon is not None:
        r = sec.post(f"/matters/{mid}/summons", {"organisation_ids": [summon.pk],
                                                 "reason": "请协助核查收费台账。"})
        assert r.status_code == 201, r.content
        r = w.api("summoned_liaison").post(f"/summons/{r.json()[0]['id']}/check-in",
                                         {"note": "已到村核查。"})
        assert r.status_code == 200, r.content
    r = w.api("village_cadre").post(f"/matters/{mid}/mediations", {
        "way": "simple", "parties": [{"name": name, "contact": phone}, {"name": "被反映方"}],
        "work_record": "听取了反映人的陈述。"})
    assert r.status_code == 201, r.content
    r = sec.post(url, {"transition": "report_result",
                       "fields": {"outcome": "solved", "outcome_text": "已查实并责令整改。"}})
    assert r.status_code == 200, r.content
    r = sec.post(url, {"transition": "give_feedback", "comment": "已将查处结果告知反映人。"})
    assert r.status_code == 200 and r.json()["stage"] == "evaluation", r.content
    # Staff call the reporter back and write down what was said, naming them.
    r = sec.post(f"/matters/{mid}/return-visits", {
        "reached": True, "resolved": "yes", "satisfaction": "satisfied",
        "notes": f"电话回访{name}（{phone}），表示满意。"})
    assert r.status_code == 201, r.content
    req = EvaluationRequest.objects.get(matter_id=mid)
    r = Client().post(f"/api/v1/evaluate/{tokens.make_token(req)}",
                      data=json.dumps({"outcome": "satisfied",
                                       "comment": f"我是{name}，电话{phone}，处理得好。"}),
                      content_type="application/json")
    assert r.status_code == 200, r.content
    matter.refresh_from_db()
    assert matter.is_closed and matter.is_public  # the default preset publishes on closing


@pytest.fixture
def world(tree) -> World:
    matter_settings(tree.county)  # the default preset
    county = tree.county
    accused = do_create_user("u_deputy_secretary", acting_user=None, password=PASSWORD,
                             display_name="村副书记", county=county)
    do_grant_role(accused, Role.VILLAGE_SECRETARY, tree.village, acting_user=None)
    summoned_org = do_create_organisation(county, acting_user=None, kind="department",
                                        name="县市场监管局", category="市场监管")
    summoned_liaison = do_create_user("u_market_liaison", acting_user=None, password=PASSWORD,
                                    display_name="市场监管联络员", county=county,
                                    organisation=summoned_org)
    do_grant_role(summoned_liaison, Role.DEPARTMENT_LIAISON, county, acting_user=None)
    w = World(tree, accused, summoned_org, summoned_liaison, None, None)  # type: ignore[arg-type]

    # About the department: registered through the API by the secretary who took the call.
    category = Category.objects.get(county=county, code="neighbour")
    r = w.api("village_secretary").post("/matters", {
        "place_id": tree.grid.pk, "title": ORG_TITLE, "channel": "secretary_phone",
        "text": "供电公司抄表员上门收电费，每户多收二十元，不给开票。", "ledger": "complaint",
        "category_id": category.pk, "reporter_name": ORG_REPORTER[0],
        "reporter_phone": ORG_REPORTER[1], "accused_organisation_id": tree.department.pk})
    assert r.status_code == 201, r.content
    w.org_complaint = Matter.objects.get(pk=r.json()["id"])
    assert w.org_complaint.accused_organisation_id == tree.department.pk

    # About a named cadre: on the staff page (民情110).
    r = w.page("village_secretary").post(reverse("matters:raise"), {
        "channel_choice": "minqing110", "village": tree.village.pk, "grid": tree.grid.pk,
        "category": category.pk, "ledger": "complaint", "urgency": "normal",
        "title": CADRE_TITLE, "text": "低保名额分给了亲戚，真正困难的人家没有评上。",
        "name": CADRE_REPORTER[0], "phone": CADRE_REPORTER[1], "accused_user": accused.pk})
    assert r.status_code == 302, r.content.decode()[:3000]
    w.cadre_complaint = Matter.objects.get(title=CADRE_TITLE)
    assert w.cadre_complaint.accused_user_id == accused.pk

    _handle_to_the_end(w, w.org_complaint, ORG_REPORTER, summon=summoned_org)
    _handle_to_the_end(w, w.cadre_complaint, CADRE_REPORTER, summon=None)
    return w


# ---------------------------------------------------------------------------------------------


def test_public_surfaces_never_show_a_reporter(world):
    tree = world.tree
    secrets = _secrets(ORG_REPORTER) + _secrets(CADRE_REPORTER)
    anonymous = Client()
    pages = {}
    for place in (tree.village, tree.town, tree.county):
        pages[f"board {place.name}"] = anonymous.get(reverse("board:place", args=[place.pk]))
        pages[f"feed {place.name}"] = anonymous.get(reverse("board:feed", args=[place.pk]))
    for m in (world.org_complaint, world.cadre_complaint):
        pages[f"board matter {m.pk}"] = anonymous.get(
            reverse("board:matter", args=[tree.village.pk, m.pk]))
        pages[f"track {m.pk}"] = anonymous.get(
            reverse("matters_public:track_code", args=[m.tracking_code]))
        pages[f"public api {m.pk}"] = anonymous.get(f"/api/v1/public/matters/{m.tracking_code}")
    for where, r in pages.items():
        assert r.status_code == 200, where
        assert_hidden(r.content.decode(), secrets, where)
    # They are there (published, as complaints: no text, no timeline), just anonymised.
    board = pages[f"board {tree.village.name}"].content.decode()
    assert board.count("投诉举报已办结") >= 2
    feed = pages[f"feed {tree.village.name}"].content.decode()
    assert "投诉举报已办结" in feed
    track = pages[f"track {world.org_complaint.pk}"].content.decode()
    assert ORG_TITLE in track and "已办结" in track


ROLES_WITHOUT_VIEW_REPORTER = ["grid_worker", "village_cadre", "town_staff", "summoned_liaison"]


def _api_surfaces(api: Api, m: Matter) -> dict[str, Any]:
    mid = m.pk
    return {
        "detail": api.get(f"/matters/{mid}"),
        "list": api.get("/matters?ledger=complaint"),
        "search": api.get(f"/matters?q={m.tracking_code}"),
        "timeline": api.get(f"/matters/{mid}/timeline"),
        "evaluations": api.get(f"/matters/{mid}/evaluations"),
        "return visits": api.get(f"/matters/{mid}/return-visits"),
        "mediations": api.get(f"/matters/{mid}/mediations"),
        "summonses": api.get(f"/matters/{mid}/summons"),
        "own summonses": api.get("/summons"),
        "evaluation link": api.get(f"/matters/{mid}/evaluation-request"),
    }


def _page_surfaces(client: Client, m: Matter) -> dict[str, Any]:
    return {
        "matter page": client.get(reverse("matters:detail", args=[m.pk])),
        "reveal": client.post(reverse("matters:reporter", args=[m.pk]), {"reason": "核实"}),
        "workbench": client.get(reverse("matters:workbench")),
        "list": client.get(reverse("matters:list")),
        "ledgers": client.get(reverse("matters:ledgers")),
        "handling page": client.get(reverse("handling:matter", args=[m.pk])),
        "summonses page": client.get(reverse("handling:summonses")),
        "summons stats": client.get(reverse("handling:stats")),
        "supervision": client.get(reverse("supervision:items")),
        "overdue": client.get(reverse("supervision:overdue")),
        "evaluate form": client.get(reverse("evaluation:record", args=[m.pk])),
        "return visit form": client.get(reverse("evaluation:return_visit", args=[m.pk])),
    }


@pytest.mark.parametrize("who", ROLES_WITHOUT_VIEW_REPORTER)
def test_roles_without_view_reporter_never_get_it(world, who):
    # Those who may see the complaint, but not who made it.
    cases = [(world.org_complaint, ORG_REPORTER)]
    if who != "summoned_liaison":  # the summoned department sees only what it was summoned to
        cases.append((world.cadre_complaint, CADRE_REPORTER))
    api, client = world.api(who), world.page(who)
    audits = AuditEvent.objects.filter(action="matters.reporter.view").count()
    for m, reporter in cases:
        detail = api.get(f"/matters/{m.pk}")
        assert detail.status_code == 200, (who, detail.content)
        assert detail.json()["reporter_visible"] is False and detail.json()["reporter"] is None
        secrets = _secrets(reporter)
        for where, r in _api_surfaces(api, m).items():
            assert r.status_code in (200, 403, 404), (who, where, r.status_code)
            assert_hidden(r.content.decode(), secrets, f"{who} API {where}")
        page = client.get(reverse("matters:detail", args=[m.pk]))
        assert page.status_code == 200 and m.title in page.content.decode()
        for where, r in _page_surfaces(client, m).items():
            assert r.status_code in (200, 403, 404), (who, where, r.status_code)
            assert_hidden(r.content.decode(), secrets, f"{who} page {where}")
        # Asking to be shown is refused, and nothing was shown.
        r = client.post(reverse("matters:reporter", args=[m.pk]), {"reason": "好奇"})
        assert r.status_code == 403
    assert AuditEvent.objects.filter(action="matters.reporter.view").count() == audits


def _assert_unaware(world: World, who: str, m: Matter, reporter: tuple[str, str]) -> None:
    """``who`` cannot reach the complaint at all, and no page or answer mentions it."""
    api, client = world.api(who), world.page(who)
    hidden = [*_secrets(reporter), m.title, m.tracking_code]
    assert api.get(f"/matters/{m.pk}").status_code == 404
    for where, r in _api_surfaces(api, m).items():
        assert r.status_code in (200, 403, 404), (who, where, r.status_code)
        if r.status_code == 200 and where in ("list", "search", "own summonses"):
            assert m.pk not in [i.get("matter_id", i["id"]) for i in r.json()["items"]]
        assert_hidden(r.content.decode(), hidden, f"{who} API {where}")
    for where, r in _page_surfaces(client, m).items():
        assert r.status_code in (200, 403, 404), (who, where, r.status_code)
        assert_hidden(r.content.decode(), hidden, f"{who} page {where}")
    assert client.get(reverse("matters:detail", args=[m.pk])).status_code == 404
    assert client.get(reverse("handling:matter", args=[m.pk])).status_code == 404
    # Nor can they act on it.
    r = api.post(f"/matters/{m.pk}/notes", {"text": "我们有话说。"})
    assert r.status_code == 404


def test_the_accused_department_does_not_learn_of_the_complaint(world):
    _assert_unaware(world, "department_liaison", world.org_complaint, ORG_REPORTER)
    # Its summonses page works, it is just not there (the summoned department's is).
    summoned = world.page("summoned_liaison").get(reverse("handling:summonses")).content.decode()
    assert ORG_TITLE in summoned


def test_the_accused_cadre_does_not_learn_of_the_complaint(world):
    _assert_unaware(world, "accused", world.cadre_complaint, CADRE_REPORTER)
    # As a village secretary the cadre still works on the other complaint, reporter included.
    r = world.api("accused").get(f"/matters/{world.org_complaint.pk}")
    assert r.status_code == 200 and r.json()["reporter"]["name"] == ORG_REPORTER[0]


def test_the_complaint_is_never_given_to_those_it_is_about(world):
    tree, sec = world.tree, world.api("village_secretary")
    # A fresh complaint about the department, being handled.
    r = sec.post("/matters", {
        "place_id": tree.grid.pk, "title": "供电所拖延抢修", "text": "停电三天没人来修。",
        "channel": "walk_in", "ledger": "complaint", "reporter_name": ORG_REPORTER[0],
        "reporter_phone": ORG_REPORTER[1], "accused_organisation_id": tree.department.pk})
    mid = r.json()["id"]
    assert sec.post(f"/matters/{mid}/transitions", {"transition": "accept"}).status_code == 200
    r = sec.post(f"/matters/{mid}/summons", {"organisation_ids": [tree.department.pk],
                                             "reason": "请来说明。"})
    assert r.status_code == 400 and r.json()["detail"] == "投诉举报事项不能交给被投诉的单位办理。"
    r = sec.post(f"/matters/{mid}/assign", {"mode": "self", "responsible_org_id":
                                            tree.department.pk})
    assert r.status_code == 400 and r.json()["detail"] == "投诉举报事项不能交给被投诉的单位办理。"
    r = sec.post(f"/matters/{world.cadre_complaint.pk}/assign", {
        "mode": "self", "responsible_user_id": world.accused.pk})
    assert r.status_code == 400


def test_the_village_secretary_sees_the_reporter_and_each_view_is_audited(world):
    m = world.org_complaint
    api, client = world.api("village_secretary"), world.page("village_secretary")

    def views() -> int:
        return AuditEvent.objects.filter(action="matters.reporter.view", object_id=str(m.pk),
                                         actor=world.tree.user("village_secretary")).count()

    start = views()
    for n in (1, 2):
        r = api.get(f"/matters/{m.pk}")
        assert r.status_code == 200
        reporter = r.json()["reporter"]
        assert (reporter["name"], reporter["phone"]) == ORG_REPORTER
        assert views() == start + n
    # On the matter page the reporter is shown when asked; asking is audited, with the reason.
    page = client.get(reverse("matters:detail", args=[m.pk]))
    assert page.status_code == 200 and reverse("matters:reporter", args=[m.pk]) in (
        page.content.decode())
    assert views() == start + 2
    r = client.post(reverse("matters:reporter", args=[m.pk]), {"reason": "核实举报内容"})
    body = r.content.decode()
    assert r.status_code == 200 and ORG_REPORTER[0] in body and ORG_REPORTER[1] in body
    assert views() == start + 3
    last = AuditEvent.objects.filter(action="matters.reporter.view",
                                     object_id=str(m.pk)).order_by("-at", "-seq").first()
    assert last.after["reason"] == "核实举报内容"
    # The staff's return-visit notes and the reporter's comment, for those who may know.
    timeline = api.get(f"/matters/{m.pk}/timeline").content.decode()
    assert ORG_REPORTER[0] in timeline
    evaluations = api.get(f"/matters/{m.pk}/evaluations").content.decode()
    assert ORG_REPORTER[0] in evaluations
    assert verify() == []
