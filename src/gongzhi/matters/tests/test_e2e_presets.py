"""The whole loop, over HTTP, for each of the five presets.

A county adopts a preset; a resident raises a matter on the public page (or a grid worker on
their behalf through the API); staff drive it through every stage the preset defines, with the
transitions the preset names: one summons answered late, one escalation village → town (after
which the town, not the village, takes the next step), 不满意 on the reporter's link (the
matter is reopened with a new deadline), the loop again, 满意, closed. The timeline holds every
step, every transition is in the audit chain, the chain verifies, and a preset that publishes
puts the matter on the public board without the reporter's name or phone.

Also for each preset: a transition from the wrong stage, by a role that may not take it, or
without what it requires, is refused with a sentence in ``detail`` and changes nothing.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from gongzhi.accounts.actions import do_create_user, do_grant_role
from gongzhi.audit.log import verify
from gongzhi.audit.models import AuditEvent
from gongzhi.evaluation import tokens
from gongzhi.evaluation.models import EvaluationRequest, RequestStatus
from gongzhi.matters import workflow
from gongzhi.matters.actions import PRESETS, do_adopt_preset, load_preset
from gongzhi.matters.models import Category, Matter, MatterEvent
from gongzhi.testing import api_client

NAME, PHONE = "钱七妹", "13600001234"
TITLE = "村口路灯不亮"
# Residents often sign their text: the board must star that out too.
TEXT = f"村口那盏路灯坏了一个多月，晚上出行不便，老人摔过一跤，希望尽快修好。{NAME}，电话{PHONE}。"


# ---------------------------------------------------------------------------------------------
# Each preset's path through every one of its stages, in the preset's own transition keys.
#
#   ("t", role, key, extra)  a transition over the API; extra: comment, fields, expect (stage)
#   ("summon",)              the village secretary summons the department, which checks in late
#   ("escalate",)            the village secretary escalates to the town; the village is refused
#                            the next step, which the town then takes
#   ("rate", outcome, via)   the reporter answers on the link (via "page" or "api")
#   ("mediate",)             说事评理 recorded (简易直接评)


def _result(expect: str) -> dict[str, Any]:
    return {"fields": {"outcome": "solved", "outcome_text": "已更换路灯，经测试正常亮灯。"},
            "expect": expect}


def _comment(expect: str, text: str = "已核实，同意。") -> dict[str, Any]:
    return {"comment": text, "expect": expect}


PLANS: dict[str, dict[str, Any]] = {
    "default": {
        "raise": "public",
        "steps": [
            ("t", "village_secretary", "accept", {"expect": "handling"}),
            ("summon",),
            ("escalate",),
            ("t", "town_staff", "report_result", _result("feedback")),
            ("t", "town_staff", "give_feedback", _comment("evaluation", "已电话告知办理结果。")),
            ("rate", "dissatisfied", "page"),
            ("t", "town_secretary", "report_result", _result("feedback")),
            ("t", "town_staff", "give_feedback", _comment("evaluation", "已再次告知。")),
            ("rate", "satisfied", "api"),
        ],
        "reopened_to": "handling",
        "ends": "closed",
        "publishes": True,
    },
    "jingning": {
        "raise": "api",
        "steps": [
            ("t", "village_cadre", "deliberate", {"expect": "deliberation"}),
            ("t", "village_secretary", "resolve", _comment("handling", "“三委”联席会议决定修复。")),
            ("summon",),
            ("escalate",),
            ("t", "town_staff", "report_result", _result("supervision")),
            ("t", "supervisor", "verify", _comment("feedback", "现场查看，路灯已亮。")),
            ("t", "town_staff", "give_feedback", _comment("evaluation")),
            ("rate", "dissatisfied", "page"),
            ("t", "town_secretary", "report_result", _result("supervision")),
            ("t", "town_secretary", "verify", _comment("feedback")),
            ("t", "town_staff", "give_feedback", _comment("evaluation")),
            ("rate", "satisfied", "api"),
        ],
        "reopened_to": "handling",
        "ends": "closed",
        "publishes": True,
    },
    "anze": {
        "raise": "public",
        "steps": [
            ("t", "village_cadre", "add_to_agenda", {"expect": "deliberation"}),
            ("t", "village_secretary", "resolve", {
                "comment": "说事议事小组议定：村委自办，五日内修复。",
                "fields": {"handling_mode": "self", "responsible_user": "village_cadre",
                           "due_at": "+5d"},
                "expect": "handling"}),
            ("summon",),
            ("escalate",),
            ("t", "town_staff", "report_result", _result("feedback")),
            ("t", "town_staff", "give_feedback", _comment("evaluation")),
            ("rate", "dissatisfied", "page"),
            ("t", "town_staff", "report_result", _result("feedback")),
            ("t", "town_staff", "give_feedback", _comment("evaluation")),
            ("rate", "satisfied", "api"),
            ("t", "town_staff", "archive", {"expect": "closed"}),
        ],
        "reopened_to": "rectify",
        "ends": "closed",
        "publishes": True,
    },
    "pinggu": {
        "raise": "public",
        "steps": [
            ("t", "village_cadre", "accept", {"expect": "reasoning"}),
            ("mediate",),
            ("summon",),
            ("escalate",),
            ("t", "town_staff", "report_result", _result("feedback")),
            ("t", "town_staff", "give_feedback", _comment("evaluation")),
            ("rate", "dissatisfied", "page"),
            ("t", "town_staff", "report_result", _result("feedback")),
            ("t", "town_staff", "give_feedback", _comment("evaluation")),
            ("rate", "satisfied", "api"),
        ],
        "reopened_to": "reasoning",
        "ends": "closed",
        "publishes": False,
    },
    "shiquan": {
        "raise": "api",
        "steps": [
            ("t", "village_cadre", "submit", {"expect": "secretary_review"}),
            ("t", "village_secretary", "approve", _comment("acceptance_notice", "请速办。")),
            ("t", "village_cadre", "notify_acceptance",
             _comment("dispatch", "已电话告知反映人：已受理。")),
            ("summon",),
            ("escalate",),
            ("t", "town_staff", "report_result", _result("inspect")),
            ("t", "county_office", "verify", _comment("feedback", "县联系办督查属实。")),
            ("t", "town_staff", "give_feedback", _comment("secretary_check")),
            ("t", "town_secretary", "sign_off", {"expect": "consultation"}),
            ("rate", "dissatisfied", "page"),
            ("t", "town_staff", "report_result", _result("inspect")),
            ("t", "supervisor", "verify", _comment("feedback")),
            ("t", "town_staff", "give_feedback", _comment("secretary_check")),
            ("t", "town_secretary", "sign_off", {"expect": "consultation"}),
            ("rate", "satisfied", "api"),
        ],
        "reopened_to": "dispatch",
        "ends": "closed",
        "publishes": False,
    },
}


def test_every_preset_has_a_plan():
    assert set(PLANS) == set(PRESETS)


# ---------------------------------------------------------------------------------------------
# Over HTTP


@dataclass
class Api:
    """A JSON API caller holding a bearer token for one user."""

    client: Client
    headers: dict[str, str]

    def get(self, url: str):
        return self.client.get(f"/api/v1{url}", headers=self.headers)

    def post(self, url: str, data: dict | None = None):
        return self.client.post(f"/api/v1{url}", data=json.dumps(data or {}),
                                content_type="application/json", headers=self.headers)


@dataclass
class Run:
    tree: Any
    preset: str
    matter_id: int = 0
    apis: dict[str, Api] = field(default_factory=dict)
    taken: list[str] = field(default_factory=list)  # transition keys, system ones included
    visited: list[str] = field(default_factory=list)  # stages, in order

    def api(self, role: str) -> Api:
        if role not in self.apis:
            self.apis[role] = Api(*api_client(self.tree.user(role)))
        return self.apis[role]

    def matter(self, role: str = "town_secretary") -> dict[str, Any]:
        r = self.api(role).get(f"/matters/{self.matter_id}")
        assert r.status_code == 200, r.content
        return r.json()

    def db(self) -> Matter:
        return Matter.objects.get(pk=self.matter_id)


def _adopt(tree, key: str):
    do_adopt_preset(tree.county, key, acting_user=None)
    return load_preset(key)["workflow"]


def _category(tree) -> Category:
    return Category.objects.filter(county=tree.county, is_active=True,
                                   parent__isnull=True).order_by("sort_order", "pk").first()


def _raise_public(run: Run) -> int:
    """A resident, no account, on the phone page; the code from the page that follows."""
    tree = run.tree
    c = Client()
    r = c.post(reverse("matters_public:raise", args=[tree.county.pk]), {
        "village": tree.village.pk, "grid": tree.grid.pk, "category": _category(tree).pk,
        "ledger": "claim", "urgency": "normal", "title": TITLE, "text": TEXT,
        "name": NAME, "phone": PHONE,
    })
    assert r.status_code == 302, r.content.decode()[:2000]
    done = c.get(r["Location"]).content.decode()
    code = re.search(r"[2-9A-HJ-NP-Z]{10}", done.split("查询码", 1)[1]).group(0)
    # Staff find it by its code.
    r = run.api("village_secretary").get(f"/matters?q={code}")
    assert r.status_code == 200 and r.json()["count"] == 1, r.content
    item = r.json()["items"][0]
    assert item["channel"] == "web" and item["tracking_code"] == code
    return item["id"]


def _raise_api(run: Run) -> int:
    """A grid worker on the resident's behalf (入户走访)."""
    tree = run.tree
    r = run.api("grid_worker").post("/matters", {
        "place_id": tree.grid.pk, "title": TITLE, "text": TEXT, "channel": "visit",
        "ledger": "claim", "category_id": _category(tree).pk, "reporter_name": NAME,
        "reporter_phone": PHONE,
    })
    assert r.status_code == 201, r.content
    return r.json()["id"]


def _fields(run: Run, fields: dict[str, Any]) -> dict[str, Any]:
    out = dict(fields)
    if "responsible_user" in out:
        out["responsible_user"] = run.tree.user(out["responsible_user"]).pk
    if out.get("due_at") == "+5d":
        out["due_at"] = (timezone.now() + dt.timedelta(days=5)).replace(microsecond=0).isoformat()
    return out


def _transition(run: Run, wf: workflow.Workflow, role: str, key: str, extra: dict[str, Any]):
    before = run.db()
    # The step is one the preset defines from where the matter is.
    t = wf.transition(before.stage, key)
    assert t is not None, f"{run.preset}: no {key} from {before.stage}"
    payload = {"transition": key, "comment": extra.get("comment", "")}
    if extra.get("fields"):
        payload["fields"] = _fields(run, extra["fields"])
    r = run.api(role).post(f"/matters/{run.matter_id}/transitions", payload)
    assert r.status_code == 200, (run.preset, role, key, r.content.decode())
    body = r.json()
    assert body["stage"] == extra["expect"] == t["to"]
    run.taken.append(key)
    run.visited.append(body["stage"])
    if payload.get("fields", {}).get("due_at"):
        # A deadline decided in 议事 governs the handling stage it leads into.
        assert dt.datetime.fromisoformat(body["stage_deadline"]) == dt.datetime.fromisoformat(
            payload["fields"]["due_at"])
    return body


def _summon_late(run: Run) -> None:
    tree = run.tree
    r = run.api("village_secretary").post(f"/matters/{run.matter_id}/summons", {
        "organisation_ids": [tree.department.pk], "reason": "路灯线路属供电公司，请派员到场。"})
    assert r.status_code == 201, r.content
    summons_id = r.json()[0]["id"]
    due = dt.datetime.fromisoformat(r.json()[0]["check_in_due"])
    liaison = run.api("department_liaison")
    waiting = liaison.get("/summons?status=waiting").json()["items"]
    assert [s["id"] for s in waiting] == [summons_id]
    # The liaison checks in a day and an hour later: after the deadline.
    later = timezone.now() + dt.timedelta(hours=25)
    assert later > due
    with mock.patch("django.utils.timezone.now", return_value=later):
        r = liaison.post(f"/summons/{summons_id}/check-in", {"note": "已派电工到场。"})
    assert r.status_code == 200, r.content
    assert r.json()["is_late"] is True and r.json()["status"] == "checked_in"
    r = liaison.post(f"/summons/{summons_id}/action", {"action_taken": "更换了损坏的线路。"})
    assert r.status_code == 200 and r.json()["status"] == "done"
    stats = run.api("village_secretary").get(f"/matters/{run.matter_id}/summons").json()["stats"]
    assert stats == {"total": 1, "checked_in": 1, "on_time": 0, "late": 1, "missing": 0,
                     "waiting": 0}


def _escalate(run: Run, wf: workflow.Workflow, steps: list, index: int) -> None:
    tree = run.tree
    r = run.api("village_secretary").post(f"/matters/{run.matter_id}/escalate",
                                         {"reason": "涉及镇里统筹的线路改造，村里无法解决。"})
    assert r.status_code == 201, r.content
    assert r.json()["to_place_id"] == tree.town.pk and r.json()["escalation_count"] == 1
    after = run.db()
    assert after.queue_place_id == tree.town.pk and after.escalation_count == 1
    # The village still reads it but no longer acts on it: the next step is the town's.
    _kind, _role, key, _extra = steps[index + 1]
    village = run.matter("village_secretary")
    assert village["transitions"] == [] and village["queue_place_id"] == tree.town.pk
    assert key in [t["key"] for t in run.matter("town_staff")["transitions"]]
    events, audits = MatterEvent.objects.count(), AuditEvent.objects.count()
    r = run.api("village_secretary").post(f"/matters/{run.matter_id}/transitions", {
        "transition": key, "fields": {"outcome": "solved", "outcome_text": "村里办好了。"}})
    assert r.status_code == 403, r.content
    name = wf.transition(after.stage, key)["name"]
    assert r.json()["detail"] == f"您的角色不能在此环节执行“{name}”。"
    again = run.db()
    assert (again.stage, again.updated_at, again.outcome) == (after.stage, after.updated_at, "")
    assert (MatterEvent.objects.count(), AuditEvent.objects.count()) == (events, audits)


def _rate(run: Run, wf: workflow.Workflow, outcome: str, via: str, reopened_to: str) -> None:
    matter = run.db()
    assert matter.stage_kind == "evaluation"
    # The request made on entering the stage, and the link staff may read out to the reporter.
    req = EvaluationRequest.objects.get(matter=matter, stage_entered_at=matter.stage_entered_at)
    assert req.status == RequestStatus.PENDING and req.round == matter.reopen_count + 1
    r = run.api("town_staff").get(f"/matters/{run.matter_id}/evaluation-request")
    assert r.status_code == 200, r.content
    link = r.json()["link"]
    assert link.endswith(tokens.link(req))
    token = tokens.make_token(req)
    reporter = Client()  # no login
    if via == "page":
        path = reverse("evaluation:public", args=[token])
        assert reporter.get(path).status_code == 200
        r = reporter.post(path, {"outcome": outcome, "attitude": "satisfied",
                                 "efficiency": outcome, "result": outcome,
                                 "comment": "灯还是时亮时不亮。"})
        assert r.status_code == 302, r.content.decode()[:2000]
        assert "感谢您的评价" in reporter.get(path).content.decode()
    else:
        r = reporter.post(f"/api/v1/evaluate/{token}", data=json.dumps({"outcome": outcome}),
                          content_type="application/json")
        assert r.status_code == 200, r.content
        assert r.json()["status"] == "answered"
    # The link works once.
    r = reporter.post(f"/api/v1/evaluate/{token}", data=json.dumps({"outcome": "satisfied"}),
                      content_type="application/json")
    assert r.status_code in (400, 410)
    after = run.db()
    stage = after.stage
    if outcome == "dissatisfied":
        run.taken.append(wf.triggered(matter.stage, "dissatisfied")["key"])
        assert after.reopen_count == matter.reopen_count + 1 == 1
        assert stage == reopened_to and after.stage_kind == "handling" and not after.is_closed
        # A new deadline, counted from the reopening.
        assert after.stage_deadline is not None and after.stage_deadline > timezone.now()
        assert after.stage_entered_at > matter.stage_entered_at
        body = run.matter("town_staff")
        assert body["reopen_count"] == 1 and body["stage"] == reopened_to
    else:
        run.taken.append(wf.triggered(matter.stage, "evaluated")["key"])
        assert after.reopen_count == 1
    run.visited.append(stage)


def _mediate(run: Run) -> None:
    r = run.api("village_cadre").post(f"/matters/{run.matter_id}/mediations", {
        "way": "simple", "work_record": "当场说明了维修安排。"})
    assert r.status_code == 201, r.content


# ---------------------------------------------------------------------------------------------
# The loop


@pytest.mark.parametrize("preset", PRESETS)
def test_whole_loop_over_http(tree, preset):
    definition = _adopt(tree, preset)
    wf = workflow.Workflow(definition)
    plan = PLANS[preset]
    run = Run(tree, preset)
    run.matter_id = _raise_public(run) if plan["raise"] == "public" else _raise_api(run)
    matter = run.db()
    assert matter.stage == wf.initial and matter.workflow.county_id == tree.county.pk
    assert (matter.reporter_name, matter.reporter_phone) == (NAME, PHONE)
    run.visited.append(matter.stage)

    steps = plan["steps"]
    for i, step in enumerate(steps):
        kind = step[0]
        if kind == "t":
            _transition(run, wf, step[1], step[2], step[3])
        elif kind == "summon":
            _summon_late(run)
        elif kind == "escalate":
            _escalate(run, wf, steps, i)
        elif kind == "rate":
            _rate(run, wf, step[1], step[2], plan["reopened_to"])
        elif kind == "mediate":
            _mediate(run)

    matter = run.db()
    assert matter.stage == plan["ends"] and matter.is_closed and matter.closed_at
    assert (matter.reopen_count, matter.escalation_count) == (1, 1)
    # Every stage the preset defines was passed through.
    assert set(run.visited) == {s["key"] for s in wf.stages()}, run.visited

    # The timeline holds every step, in order.
    r = run.api("town_secretary").get(f"/matters/{run.matter_id}/timeline")
    assert r.status_code == 200
    timeline = r.json()
    assert timeline[0]["kind"] == "raised"
    assert [e["transition"] for e in timeline if e["kind"] == "transition"] == run.taken
    kinds = [e["kind"] for e in timeline]
    for expected in ("summons", "check_in", "escalated", "reopened"):
        assert expected in kinds, (preset, expected)
    assert kinds.count("evaluation") == 2
    assert any(e["kind"] == "check_in" and "迟到报到" in e["summary"] for e in timeline)
    if preset == "pinggu":
        assert "mediation" in kinds
    assert ("published" in kinds) is plan["publishes"]
    stages = [(e["from_stage"], e["to_stage"]) for e in timeline if e["kind"] == "transition"]
    assert stages[0][0] == wf.initial and stages[-1][1] == plan["ends"]
    assert all(a[1] == b[0] for a, b in itertools.pairwise(stages))

    # Every transition is in the audit chain, and the chain is sound.
    audited = AuditEvent.objects.filter(action="matters.matter.transition",
                                        object_id=str(run.matter_id))
    assert audited.count() == len(run.taken)
    assert [a.after["transition"] for a in audited.order_by("chain", "seq")] == run.taken
    assert verify() == []

    _board(run, plan["publishes"])


def _board(run: Run, publishes: bool) -> None:
    tree = run.tree
    anonymous = Client()
    pages = {
        "board": anonymous.get(reverse("board:place", args=[tree.village.pk])),
        "town board": anonymous.get(reverse("board:place", args=[tree.town.pk])),
        "feed": anonymous.get(reverse("board:feed", args=[tree.village.pk])),
        "matter": anonymous.get(reverse("board:matter", args=[tree.village.pk, run.matter_id])),
    }
    for name, r in pages.items():
        body = r.content.decode()
        assert NAME not in body and PHONE not in body and "136****1234" not in body, name
    if publishes:
        for name, r in pages.items():
            assert r.status_code == 200, name
            assert TITLE in r.content.decode(), name
        matter = run.db()
        assert matter.is_public and matter.published_at
    else:
        assert pages["matter"].status_code == 404
        for name in ("board", "town board", "feed"):
            assert pages[name].status_code == 200 and TITLE not in pages[name].content.decode()
        assert not run.db().is_public


# ---------------------------------------------------------------------------------------------
# Refusals change nothing


def _state(matter_id: int) -> tuple:
    m = Matter.objects.get(pk=matter_id)
    return (m.stage, m.updated_at, m.stage_deadline, m.outcome, m.is_closed,
            MatterEvent.objects.filter(matter_id=matter_id).count(), AuditEvent.objects.count())


@pytest.mark.parametrize("preset", PRESETS)
def test_refused_transitions_change_nothing(tree, preset):
    definition = _adopt(tree, preset)
    wf = workflow.Workflow(definition)
    run = Run(tree, preset)
    run.matter_id = _raise_api(run)
    initial = wf.stage(wf.initial)
    secretary = run.api("village_secretary")
    grid_worker = run.api("grid_worker")
    for api in (secretary, grid_worker):  # tokens first: creating one is audited
        assert api.get(f"/matters/{run.matter_id}").status_code == 200
    url = f"/matters/{run.matter_id}/transitions"
    before = _state(run.matter_id)

    # A step of a later stage (giving feedback before anything was done): wrong stage.
    assert wf.transition(wf.initial, "give_feedback") is None
    r = secretary.post(url, {"transition": "give_feedback", "comment": "已反馈。"})
    assert r.status_code == 400
    assert r.json()["detail"] == f"事项当前处于“{initial['name']}”环节，不能执行此操作。"

    # A key the workflow does not know at all.
    r = secretary.post(url, {"transition": "teleport"})
    assert r.status_code == 400 and initial["name"] in r.json()["detail"]

    # A step the grid worker, who sees the matter, may not take (不予受理, 受理评理 ...).
    forbidden = next(t for t in wf.transitions_from(wf.initial)
                     if not t.get("trigger") and "grid_worker" not in t["roles"])
    r = grid_worker.post(url, {"transition": forbidden["key"], "comment": "不属于村里管。",
                               "fields": {"outcome": "solved", "outcome_text": "已答复。"}})
    assert r.status_code == 403
    assert r.json()["detail"] == f"您的角色不能在此环节执行“{forbidden['name']}”。"

    # One the secretary may take, but not without what it requires.
    demanding = next(t for t in wf.transitions_from(wf.initial)
                     if t.get("requires") and "village_secretary" in t["roles"])
    r = secretary.post(url, {"transition": demanding["key"], "comment": "  "})
    assert r.status_code == 400
    if demanding["requires"].get("comment"):
        assert r.json()["detail"] == f"执行“{demanding['name']}”需要填写意见。"
    else:
        assert r.json()["detail"] == f"执行“{demanding['name']}”需要填写：办理结果。"

    # A system step (the evaluation's) cannot be taken by hand, nor from here.
    r = secretary.post(url, {"transition": "evaluated"})
    assert r.status_code == 400

    assert _state(run.matter_id) == before

    # Someone from another town cannot even see it.
    r = run.api("town_staff").get(f"/matters/{run.matter_id}")  # same town: visible
    assert r.status_code == 200
    stranger = do_create_user("e2e_other_secretary", acting_user=None, county=tree.county)
    do_grant_role(stranger, "village_secretary", tree.other_village, acting_user=None)
    outsider = Api(*api_client(stranger))
    before = _state(run.matter_id)
    r = outsider.post(url, {"transition": forbidden["key"], "comment": "越权。"})
    assert r.status_code == 404 and r.json()["detail"]

    assert _state(run.matter_id) == before
    # And the refusals left the matter able to go on.
    first = next(t for t in wf.transitions_from(wf.initial)
                 if "village_secretary" in t["roles"] and not t.get("requires"))
    r = secretary.post(url, {"transition": first["key"]})
    assert r.status_code == 200 and r.json()["stage"] == first["to"]
    assert verify() == []
