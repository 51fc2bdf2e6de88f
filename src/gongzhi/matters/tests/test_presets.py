"""The five presets: each validates, each can be walked by the roles it names (including a
reopening after 不满意), and ``gongzhi workflows check|list|adopt`` behave."""

import copy
import datetime as dt
import io
from collections import deque

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from gongzhi.__main__ import main
from gongzhi.accounts.roles import Role
from gongzhi.audit.models import AuditEvent
from gongzhi.matters import workflow
from gongzhi.matters.actions import PRESETS, do_adopt_preset, do_raise_matter, load_preset
from gongzhi.matters.models import Category, MatterSettings, StageKind, WorkflowDefinition
from gongzhi.matters.presets import POLICY_KEYS, policy_problems, preset_problems

SEEDED = ["jingning", "anze", "pinggu", "shiquan"]


@pytest.mark.parametrize("key", PRESETS)
def test_preset_is_valid(key):
    preset = load_preset(key)
    assert workflow.validate(preset["workflow"]) == []
    assert preset_problems(key, preset) == []


@pytest.mark.parametrize("key", PRESETS)
def test_preset_has_the_system_transitions_other_apps_fire(key):
    wf = workflow.Workflow(load_preset(key)["workflow"])
    evaluation = [s for s in wf.stages() if s["kind"] == StageKind.EVALUATION]
    assert evaluation
    for stage in evaluation:
        reopen = wf.triggered(stage["key"], "dissatisfied")
        assert wf.stage(reopen["to"])["kind"] == StageKind.HANDLING  # 不满意 → 重新办理
        for trigger in ("evaluated", "no_answer"):
            assert wf.triggered(stage["key"], trigger) is not None
    roles = set(Role.values) | {"responsible", "system"}
    for t in wf.definition["transitions"]:
        assert set(t["roles"]) <= roles
        assert (t.get("trigger") is not None) == (t["roles"] == ["system"])
    for s in wf.stages():
        if s["kind"] not in (StageKind.CLOSED, StageKind.EVALUATION):
            assert s.get("limit"), s["key"]
        if s["kind"] not in (StageKind.CLOSED, StageKind.EVALUATION, StageKind.DISCLOSURE):
            assert s.get("on_timeout"), s["key"]  # the scan skips the other (passive) kinds


def test_presets_follow_their_seeds():
    names = {k: [s["name"] for s in load_preset(k)["workflow"]["stages"]] for k in SEEDED}
    assert names["shiquan"] == ["分类建账", "书记阅批", "受理告知", "快速交办", "严格督查",
                                "结果反馈", "书记把关", "回复征询", "销号归档"]
    kinds = {k: [s["kind"] for s in load_preset(k)["workflow"]["stages"]] for k in SEEDED}
    assert {"deliberation", "supervision", "evaluation"} <= set(kinds["jingning"])  # 议、督、评
    assert kinds["anze"][-2:] == ["disclosure", "closed"]  # 晒 before closing
    policies = {k: load_preset(k)["policy"] for k in SEEDED}
    assert policies["jingning"]["speaking_days"] == [15]
    assert set(policies["jingning"]["evaluator_kinds"]) == {
        "reporter", "party_member", "unit", "department", "superior"}
    assert policies["anze"]["speaking_days"] == [15, 30]
    assert policies["anze"]["agenda_lead_days"] == 10
    assert policies["anze"]["evaluation_aspects"] == ["attitude", "efficiency", "result", "effect"]
    assert policies["pinggu"]["outcomes"] == ["archive", "escalate", "transfer"]
    assert policies["shiquan"]["supervision_chain_labels"] == ["县联系办", "县委常委", "县委书记"]
    assert policies["shiquan"]["petition_rules"]["handling_days"] == 60
    shiquan = workflow.Workflow(load_preset("shiquan")["workflow"])
    assert shiquan.stage("dispatch")["limit"] == {"hours": 60 * 24}
    for key in SEEDED:
        cats = {c["name"] for c in load_preset(key)["categories"]}
        assert len(cats) >= 10
        assert any(c.get("questions") for c in load_preset(key)["categories"])
    assert {"邻里纠纷", "耕地", "人居环境", "产业发展", "文化娱乐", "红白理事", "公共卫生"} <= {
        c["name"] for c in load_preset("jingning")["categories"]}


def test_every_policy_key_is_documented():
    from pathlib import Path

    docs = Path(__file__).resolve().parents[4] / "docs" / "workflows.md"
    if not docs.exists():  # an installed package without the docs
        pytest.skip("docs/workflows.md is not beside the package")
    text = docs.read_text("utf-8")
    for key in POLICY_KEYS:
        assert f"`{key}`" in text, key
    for key in PRESETS:
        for name in load_preset(key)["policy"]:
            assert name in POLICY_KEYS


@pytest.mark.parametrize("broken", [
    [], "x", {"stages": "x"}, {"stages": [1]}, {"stages": [{"key": ["a"]}]},
    {"key": "k", "name": "n", "initial": ["a"], "stages": [{"key": "a", "kind": "closed"}]},
    {"key": "k", "name": "n", "initial": "a", "stages": [{"key": "a", "kind": ["closed"]}]},
    {"key": "k", "name": "n", "initial": "a", "stages": [{"key": "a", "kind": "closed"}],
     "transitions": [{"key": "t", "from": [{"a": 1}], "to": "a", "roles": ["x"]}]},
    {"key": "k", "name": "n", "initial": "a", "stages": [{"key": "a", "kind": "closed"}],
     "transitions": [{"key": "t", "from": ["a"], "to": "a", "roles": [["x"]]}]},
    {"key": "k", "name": "n", "initial": "a", "stages": [{"key": "a", "kind": "closed"}],
     "transitions": [{"key": "t", "from": ["a"], "to": "a", "roles": ["system"],
                      "requires": {"fields": [{}]}}]},
    {"key": "k", "name": "n", "initial": "a",
     "stages": [{"key": "a", "kind": "closed", "urgent_limit": {"days": 3}}]},
    {"key": "k" * 41, "name": "n", "initial": "a", "stages": [{"key": "a", "kind": "closed"}]},
    {"key": "k", "name": "n", "initial": "a",
     "stages": [{"key": "a", "kind": "closed", "limit": {"working_days": 1.5}}]},
])
def test_validate_refuses_any_shape_with_sentences(broken):
    errors = workflow.validate(broken)
    assert errors and all(isinstance(e, str) and e.endswith("。") for e in errors)


def test_evaluation_stage_without_triggers_is_refused():
    defn = copy.deepcopy(load_preset("jingning")["workflow"])
    defn["transitions"] = [t for t in defn["transitions"] if t.get("trigger") != "dissatisfied"]
    errors = workflow.validate(defn)
    assert any("dissatisfied" in e for e in errors)


def test_policy_problems_are_sentences():
    assert policy_problems(load_preset("default")["policy"]) == []
    problems = policy_problems({"evaluation_days": 0, "supervision_chain": ["village_king"],
                                "evaluator_kinds": ["aliens"], "made_up": 1})
    assert len(problems) >= 5 and all(p.endswith("。") for p in problems)


# -- walking each preset with the roles it names --------------------------------------------------

PREFERRED = ["village_secretary", "village_cadre", "town_staff", "town_secretary", "county_office",
             "supervisor"]


def _user_for(tree, t):
    for role in PREFERRED:
        if role in t["roles"]:
            return tree.user(role)
    raise AssertionError(f"no tree user may take {t['key']}")


def _path(wf, start, goal_kind):
    """The shortest run of staff transitions from ``start`` to a stage of ``goal_kind``."""
    todo, seen = deque([(start, [])]), {start}
    while todo:
        stage, path = todo.popleft()
        if wf.stage(stage)["kind"] == goal_kind:
            return path
        for t in wf.transitions_from(stage):
            if t.get("trigger") or t["to"] in seen:
                continue
            seen.add(t["to"])
            todo.append((t["to"], [*path, t]))
    raise AssertionError(f"{goal_kind} not reachable from {start}")


def _take(tree, m, t, category):
    requires = t.get("requires") or {}
    values = {"outcome": "solved", "outcome_text": "已办理", "handling_mode": "self",
              "responsible_user": tree.user("village_cadre"), "category": category,
              "due_at": timezone.now() + dt.timedelta(days=7), "explanation": "已解释",
              "responsible_org": tree.department}
    fields = {f: values[f] for f in requires.get("fields", [])}
    return workflow.do_transition(m, t["key"], acting_user=_user_for(tree, t),
                                  comment="同意" if requires.get("comment") else "",
                                  fields=fields)


@pytest.mark.parametrize("key", PRESETS)
def test_walk_each_preset_with_a_reopening(tree, key):
    do_adopt_preset(tree.county, key, acting_user=None)
    category = Category.objects.filter(county=tree.county).first()
    m = do_raise_matter(place=tree.grid, title="路灯不亮", text="村口路灯坏了", channel="walk_in",
                        ledger="claim", category=category, acting_user=tree.user("grid_worker"))
    wf = workflow.workflow_of(m.workflow)
    assert m.workflow.key == load_preset(key)["workflow"]["key"]
    for t in _path(wf, m.stage, StageKind.EVALUATION):
        m = _take(tree, m, t, category)
    assert m.stage_kind == StageKind.EVALUATION and m.feedback_at
    m = workflow.do_transition(m, "", acting_user=None, trigger="dissatisfied")
    assert m.stage_kind == StageKind.HANDLING and not m.is_closed
    for t in _path(wf, m.stage, StageKind.EVALUATION):
        m = _take(tree, m, t, category)
    m = workflow.do_transition(m, "", acting_user=None, trigger="evaluated")
    for t in _path(wf, m.stage, StageKind.CLOSED):
        m = _take(tree, m, t, category)
    assert m.is_closed and m.stage_kind == StageKind.CLOSED
    assert AuditEvent.objects.filter(action="matters.matter.transition",
                                     object_id=str(m.pk)).count() == m.events.filter(
        kind="transition").count()


@pytest.mark.parametrize("key", SEEDED)
def test_every_staff_transition_of_each_preset_can_be_taken(tree, key):
    """Each transition a person takes, reached by the shortest way to its source stage."""
    do_adopt_preset(tree.county, key, acting_user=None)
    category = Category.objects.filter(county=tree.county).first()
    wf = workflow.Workflow(load_preset(key)["workflow"])
    for t in wf.definition["transitions"]:
        if t.get("trigger"):
            continue
        m = do_raise_matter(place=tree.grid, title="路灯不亮", text=f"村口路灯坏了 {t['key']}",
                            channel="walk_in", ledger="claim", category=category,
                            acting_user=tree.user("grid_worker"))
        source = t["from"][0]
        for step in _path_to_stage(wf, m.stage, source):
            if step.get("trigger"):  # e.g. past the evaluation to 安泽's 晒事
                m = workflow.do_transition(m, "", acting_user=None, trigger=step["trigger"])
            else:
                m = _take(tree, m, step, category)
        m = _take(tree, m, t, category)
        assert m.stage == t["to"], t["key"]
        if "responsible_user" in (t.get("requires") or {}).get("fields", []):
            assert m.responsible_user == tree.user("village_cadre") and m.due_at


def _path_to_stage(wf, start, goal):
    todo, seen = deque([(start, [])]), {start}
    while todo:
        stage, path = todo.popleft()
        if stage == goal:
            return path
        for t in wf.transitions_from(stage):
            if t["to"] not in seen:
                seen.add(t["to"])
                todo.append((t["to"], [*path, t]))
    raise AssertionError(f"{goal} not reachable from {start}")


# -- the command ---------------------------------------------------------------------------------


def _run(*args):
    out = io.StringIO()
    call_command("workflows", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_check_passes_on_presets_and_stored_definitions(tree):
    do_adopt_preset(tree.county, "shiquan", acting_user=None)
    out = _run("check")
    for key in PRESETS:
        assert f"ok     preset {key}" in out
    assert f"workflow shiquan v1 (county {tree.county.pk}" in out
    main(["workflows", "check"])  # the console script: returns normally, exit status 0


@pytest.mark.django_db
def test_check_fails_on_a_broken_stored_definition(tree, capsys):
    settings = do_adopt_preset(tree.county, "jingning", acting_user=None)
    broken = copy.deepcopy(settings.workflow.definition)
    broken["stages"].append({"key": "limbo", "name": "悬空", "kind": "handling"})
    broken["transitions"][0]["roles"] = ["village_king"]
    # Stored rows are never edited by the application; simulate damage from outside.
    WorkflowDefinition.objects.filter(pk=settings.workflow.pk).update(definition=broken)
    with pytest.raises(CommandError):
        _run("check")
    with pytest.raises(SystemExit) as exit_info:
        main(["workflows", "check"])
    assert exit_info.value.code == 1
    out = capsys.readouterr().out
    assert "FAILED workflow jingning v1" in out and "village_king" in out
    assert "ok     preset jingning" in out


@pytest.mark.django_db
def test_check_fails_on_a_broken_policy(tree):
    do_adopt_preset(tree.county, "pinggu", acting_user=None)
    MatterSettings.objects.filter(county=tree.county).update(policy={"evaluation_days": -1})
    with pytest.raises(CommandError):
        _run("check")


@pytest.mark.django_db
def test_list_and_adopt(tree):
    out = _run("list")
    assert "shiquan" in out and "分类建账 → 书记阅批" in out and "no preset adopted yet" in out
    out = _run("adopt", str(tree.county.pk), "anze")
    assert "anze" in out
    settings = MatterSettings.objects.get(county=tree.county)
    assert settings.preset == "anze" and settings.workflow.key == "anze"
    assert settings.policy["speaking_days"] == [15, 30]
    assert Category.objects.filter(county=tree.county, code="property").exists()
    assert AuditEvent.objects.filter(action="matters.preset.adopt").exists()
    assert "preset anze, workflow anze v1" in _run("list")
    with pytest.raises(CommandError):
        _run("adopt", str(tree.town.pk), "anze")
