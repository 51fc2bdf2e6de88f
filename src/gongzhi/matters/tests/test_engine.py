import copy

import pytest
from django.utils import timezone

from gongzhi.core.errors import ActionError, ActionForbidden
from gongzhi.matters import workflow
from gongzhi.matters.actions import do_raise_matter, load_preset, matter_settings
from gongzhi.matters.models import Matter, MatterEvent


def raise_one(tree, **kw):
    args = dict(place=tree.grid, title="路灯不亮", text="村口路灯坏了一个月", channel="walk_in",
                ledger="claim", acting_user=tree.user("grid_worker"))
    args.update(kw)
    return do_raise_matter(**args)


@pytest.mark.parametrize("key", ["default"])
def test_presets_validate(key):
    assert workflow.validate(load_preset(key)["workflow"]) == []


def test_validation_reports_problems():
    defn = copy.deepcopy(load_preset("default")["workflow"])
    defn["stages"].append({"key": "limbo", "name": "悬空", "kind": "handling"})
    defn["transitions"][0]["roles"] = ["village_king"]
    errors = workflow.validate(defn)
    assert any("village_king" in e for e in errors)
    defn["transitions"][0]["roles"] = ["village_cadre"]
    errors = workflow.validate(defn)
    assert any("limbo" in e and "无法到达" in e for e in errors)
    assert any("limbo" in e and "死路" in e for e in errors)
    no_close = copy.deepcopy(load_preset("default")["workflow"])
    no_close["stages"] = [s for s in no_close["stages"] if s["kind"] != "closed"]
    assert any("closed" in e for e in workflow.validate(no_close))


def test_raise_and_walk_default(tree):
    m = raise_one(tree)
    assert m.stage == "intake" and m.stage_deadline is not None
    assert m.queue_place_id == tree.village.pk and m.village_id == tree.village.pk
    sec = tree.user("village_secretary")
    m = workflow.do_transition(m, "accept", acting_user=sec)
    assert m.stage == "handling" and m.accepted_at
    with pytest.raises(ActionError):
        workflow.do_transition(m, "report_result", acting_user=sec, fields={"outcome": "unsolvable",
                                                                              "outcome_text": "x"})
    m.refresh_from_db()
    assert m.stage == "handling"
    m = workflow.do_transition(m, "report_result", acting_user=sec,
                               fields={"outcome": "solved", "outcome_text": "已更换灯泡"})
    m = workflow.do_transition(m, "give_feedback", acting_user=sec, comment="已修好")
    assert m.stage == "evaluation"
    m = workflow.do_transition(m, "", acting_user=None, trigger="dissatisfied")
    assert m.stage == "handling"
    assert MatterEvent.objects.filter(matter=m).count() == 5


def test_illegal_transition_changes_nothing(tree):
    m = raise_one(tree)
    before = Matter.objects.get(pk=m.pk).updated_at
    with pytest.raises(ActionError):
        workflow.do_transition(m, "give_feedback", acting_user=tree.user("village_secretary"),
                               comment="x")
    with pytest.raises(ActionForbidden):
        workflow.do_transition(m, "decline", acting_user=tree.user("grid_worker"), comment="x")
    with pytest.raises(ActionForbidden):
        workflow.do_transition(m, "accept", acting_user=tree.user("resident"))
    m.refresh_from_db()
    assert m.stage == "intake" and m.updated_at == before


def test_other_village_cadre_cannot_act(tree):
    from gongzhi.accounts.actions import do_create_user, do_grant_role

    other = do_create_user("other_sec", acting_user=None)
    do_grant_role(other, "village_secretary", tree.other_village, acting_user=None)
    m = raise_one(tree)
    with pytest.raises(ActionForbidden):
        workflow.do_transition(m, "accept", acting_user=other)


def test_settings_default_preset(tree):
    s = matter_settings(tree.county)
    assert s.preset == "default" and s.workflow.county_id == tree.county.pk
    assert timezone.now()
