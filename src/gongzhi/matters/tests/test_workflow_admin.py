"""The settings pages over HTTP: access, adopting a preset, editing the definition (refused
with sentences, or saved as a new version while existing matters keep theirs), categories and
the working-day calendar."""

import datetime as dt
import json

import pytest
from django.urls import reverse

from gongzhi.audit.models import AuditEvent
from gongzhi.core.models import CalendarOverride
from gongzhi.matters import workflow
from gongzhi.matters.actions import do_raise_matter, matter_settings
from gongzhi.matters.models import Category, Matter, MatterSettings, WorkflowDefinition
from gongzhi.places.actions import do_create_place
from gongzhi.testing import login_client


def url(name, *args):
    return reverse(f"matters_admin:{name}", args=args)


def raise_one(tree):
    return do_raise_matter(place=tree.grid, title="路灯不亮", text="村口路灯坏了一个月",
                           channel="walk_in", ledger="claim", acting_user=tree.user("grid_worker"))


@pytest.fixture
def office(tree):
    return login_client(tree.user("county_office"))


def test_access(tree, client):
    page = url("workflow", tree.county.pk)
    assert client.get(page).status_code == 302  # to the login page
    assert login_client(tree.user("county_office")).get(page).status_code == 200
    assert login_client(tree.user("administrator")).get(page).status_code == 200
    # Sees the county but may not configure it.
    assert login_client(tree.user("supervisor")).get(page).status_code == 403
    assert login_client(tree.user("department_liaison")).get(page).status_code == 403
    # The county is outside their scope altogether.
    for role in ("resident", "village_secretary", "town_secretary"):
        c = login_client(tree.user(role))
        assert c.get(page).status_code == 404, role
        assert c.post(url("adopt", tree.county.pk), {"preset": "anze"}).status_code == 404
        assert c.get(url("categories", tree.county.pk)).status_code == 404
    assert login_client(tree.user("supervisor")).post(
        url("edit", tree.county.pk), {"definition": "{}"}).status_code == 403
    assert not MatterSettings.objects.filter(preset="anze").exists()
    # Another county is a 404 even for a county office.
    other = do_create_place(None, "county", "另一县", acting_user=None)
    assert login_client(tree.user("county_office")).get(
        url("workflow", other.pk)).status_code == 404
    # The calendar is for administrators.
    assert login_client(tree.user("county_office")).get(url("calendar")).status_code == 403
    assert login_client(tree.user("administrator")).get(url("calendar")).status_code == 200


def test_index_and_navigation(tree, office):
    assert office.get(url("index")).url == url("workflow", tree.county.pk)
    home = office.get("/")
    assert url("index") in home.content.decode()
    assert url("index") not in login_client(tree.user("supervisor")).get("/").content.decode()
    admin = login_client(tree.user("administrator")).get(url("index"))
    assert admin.status_code == 200 and url("calendar") in admin.content.decode()


def test_overview_shows_stages_transitions_and_policy(tree, office):
    page = office.get(url("workflow", tree.county.pk)).content.decode()
    for text in ("登记受理", "群众评价", "1个工作日", "2小时", "督办", "受理", "村（社区）两委干部",
                 "办理结果", "评价不满意时", "评价期限（工作日）", "通用流程"):
        assert text in page, text


def test_adopt_preset_over_http(tree, office):
    old = raise_one(tree)  # under the default workflow
    response = office.post(url("adopt", tree.county.pk), {"preset": "shiquan"})
    assert response.status_code == 302
    settings = MatterSettings.objects.get(county=tree.county)
    assert settings.preset == "shiquan" and settings.workflow.key == "shiquan"
    assert settings.policy["supervision_chain_labels"] == ["县联系办", "县委常委", "县委书记"]
    assert Category.objects.filter(county=tree.county, name="干部作风").exists()
    event = AuditEvent.objects.get(action="matters.preset.adopt", after__preset="shiquan")
    assert event.actor_id == tree.user("county_office").pk
    page = office.get(url("workflow", tree.county.pk)).content.decode()
    assert "书记阅批" in page and "县委常委" in page and "60天（1440小时，含节假日）" in page
    # New matters follow the new workflow; the old one keeps its own.
    new = raise_one(tree)
    assert new.workflow_id == settings.workflow_id and new.stage == "register"
    old.refresh_from_db()
    assert old.workflow.key == "default" and old.stage == "intake"
    old = workflow.do_transition(old, "accept", acting_user=tree.user("village_secretary"))
    assert old.stage == "handling"
    # An unknown preset is refused with a sentence and changes nothing.
    response = office.post(url("adopt", tree.county.pk), {"preset": "atlantis"}, follow=True)
    assert "未知的流程模板" in response.content.decode()
    assert MatterSettings.objects.get(county=tree.county).preset == "shiquan"


def test_invalid_edit_is_refused_with_sentences_and_changes_nothing(tree, office):
    settings = matter_settings(tree.county)
    before = (WorkflowDefinition.objects.count(), settings.workflow_id)
    audits = AuditEvent.objects.count()
    response = office.post(url("edit", tree.county.pk), {"definition": '{"key": "default",'})
    assert response.status_code == 400
    assert "不是有效的 JSON" in response.content.decode()
    broken = json.loads(json.dumps(settings.workflow.definition))
    broken["stages"].append({"key": "limbo", "name": "悬空", "kind": "handling"})
    broken["transitions"][0]["roles"] = ["village_king"]
    broken["transitions"] = [t for t in broken["transitions"] if t.get("trigger") != "no_answer"]
    response = office.post(url("edit", tree.county.pk),
                           {"definition": json.dumps(broken, ensure_ascii=False)})
    assert response.status_code == 400
    page = response.content.decode()
    assert "流程有 2 处问题，没有保存。" in page
    assert "流转“accept”中的角色“village_king”未知。" in page
    assert "评价环节“evaluation”缺少由评价结果触发（trigger）的流转“no_answer”。" in page
    assert "limbo" in page  # the text typed is kept for correcting
    # Fix those two: the unreachable dead end is reported next, still in sentences.
    broken["transitions"] = settings.workflow.definition["transitions"]
    response = office.post(url("edit", tree.county.pk),
                           {"definition": json.dumps(broken, ensure_ascii=False)})
    assert response.status_code == 400
    assert "环节“limbo”无法到达。" in response.content.decode()
    settings.refresh_from_db()
    assert (WorkflowDefinition.objects.count(), settings.workflow_id) == before
    assert AuditEvent.objects.count() == audits


def test_valid_edit_creates_the_next_version_and_matters_keep_theirs(tree, office):
    settings = matter_settings(tree.county)
    v1 = settings.workflow
    m = raise_one(tree)
    edited = json.loads(json.dumps(v1.definition))
    for s in edited["stages"]:
        if s["key"] == "intake":
            s["name"] = "说事登记"
            s["limit"] = {"working_days": 3}
    # Unchanged text saves nothing.
    response = office.post(url("edit", tree.county.pk),
                           {"definition": json.dumps(v1.definition)}, follow=True)
    assert "流程没有改动" in response.content.decode()
    assert WorkflowDefinition.objects.filter(county=tree.county).count() == 1
    response = office.post(url("edit", tree.county.pk),
                           {"definition": json.dumps(edited, ensure_ascii=False)})
    assert response.status_code == 302
    settings.refresh_from_db()
    v2 = settings.workflow
    assert v2.version == v1.version + 1 and v2.pk != v1.pk and v2.based_on_id == v1.pk
    assert v2.created_by == tree.user("county_office")
    assert AuditEvent.objects.filter(action="matters.workflow.save", after__version=2).exists()
    # The existing matter keeps version 1 and can still move on under it.
    m.refresh_from_db()
    assert m.workflow_id == v1.pk
    m = workflow.do_transition(m, "accept", acting_user=tree.user("village_secretary"))
    assert m.stage == "handling" and m.workflow_id == v1.pk
    new = raise_one(tree)
    assert new.workflow_id == v2.pk
    # Both versions are listed; the old one opens read-only.
    page = office.get(url("workflow", tree.county.pk)).content.decode()
    assert "说事登记" in page and url("version", tree.county.pk, v1.pk) in page
    old = office.get(url("version", tree.county.pk, v1.pk)).content.decode()
    assert "只读" in old and "登记受理" in old and "<form" not in old.split("<main")[1]
    other = do_create_place(None, "county", "另一县", acting_user=None)
    foreign = WorkflowDefinition.objects.create(county=other, key="default", name="x",
                                                definition=v1.definition)
    assert office.get(url("version", tree.county.pk, foreign.pk)).status_code == 404


def test_categories_add_rename_deactivate(tree, office):
    matter_settings(tree.county)  # the default preset's categories
    page = office.get(url("categories", tree.county.pk)).content.decode()
    assert "邻里纠纷" in page and "设施类型" in page
    response = office.post(url("categories", tree.county.pk),
                           {"code": "water_supply", "name": "饮水安全", "description": "自来水"})
    assert response.status_code == 302
    water = Category.objects.get(county=tree.county, code="water_supply")
    infra = Category.objects.get(county=tree.county, code="infrastructure")
    office.post(url("categories", tree.county.pk),
                {"code": "street_light", "name": "路灯", "parent": str(infra.pk)})
    light = Category.objects.get(county=tree.county, code="street_light")
    assert light.parent_id == infra.pk
    # A code in use, a bad code and a name taken are refused with sentences; nothing added.
    count = Category.objects.count()
    for data, sentence in (({"code": "water_supply", "name": "另一个"}, "已被使用"),
                           ({"code": "Water!", "name": "另一个"}, "小写字母开头"),
                           ({"code": "again", "name": "饮水安全"}, "已有名为")):
        response = office.post(url("categories", tree.county.pk), data)
        assert response.status_code == 400 and sentence in response.content.decode()
    assert Category.objects.count() == count
    office.post(url("category_update", tree.county.pk, water.pk),
                {"op": "rename", "name": "饮水", "description": "自来水和井水"})
    water.refresh_from_db()
    assert (water.name, water.description) == ("饮水", "自来水和井水")
    office.post(url("category_update", tree.county.pk, infra.pk), {"op": "deactivate"})
    assert not Category.objects.get(pk=infra.pk).is_active
    assert not Category.objects.get(pk=light.pk).is_active  # its children too
    # A child cannot come back before its parent.
    response = office.post(url("category_update", tree.county.pk, light.pk), {"op": "activate"},
                           follow=True)
    assert "请先启用上级分类" in response.content.decode()
    office.post(url("category_update", tree.county.pk, infra.pk), {"op": "activate"})
    assert Category.objects.get(pk=infra.pk).is_active
    actions = set(AuditEvent.objects.filter(action__startswith="matters.category.")
                  .values_list("action", flat=True))
    assert actions == {"matters.category.add", "matters.category.rename",
                       "matters.category.deactivate", "matters.category.activate"}
    # Someone else's category, or someone without the permission: refused.
    other = do_create_place(None, "county", "另一县", acting_user=None)
    foreign = Category.objects.create(county=other, code="x", name="外地")
    assert office.post(url("category_update", tree.county.pk, foreign.pk),
                       {"op": "deactivate"}).status_code == 404
    assert login_client(tree.user("supervisor")).post(
        url("category_update", tree.county.pk, water.pk), {"op": "deactivate"}).status_code == 403
    assert Category.objects.get(pk=water.pk).is_active


def test_calendar_overrides_over_http(tree):
    admin = login_client(tree.user("administrator"))
    page = admin.get(url("calendar")).content.decode()
    assert "2027" in page and "待核" in page
    m = raise_one(tree)
    Matter.objects.filter(pk=m.pk).update(deadline_uncertain=True)
    assert "1 件在办事项的时限待核" in admin.get(url("calendar")).content.decode()
    bad = admin.post(url("calendar"), {"days": "2027-01-01 休 元旦\n2027-13-01 休\n2027-02-06 歇"})
    assert bad.status_code == 400
    text = bad.content.decode()
    assert "第2行：日期应写成" in text and "第3行：请在日期后写“休”或“班”。" in text
    assert not CalendarOverride.objects.exists()
    response = admin.post(url("calendar"), {"days": "2027-01-01 休 元旦\n\n2027-02-06 班 春节调休"})
    assert response.status_code == 302
    assert dict(CalendarOverride.objects.values_list("date", "is_workday")) == {
        dt.date(2027, 1, 1): False, dt.date(2027, 2, 6): True}
    assert AuditEvent.objects.filter(action="core.calendar.set").count() == 2
    page = admin.get(url("calendar")).content.decode()
    assert "春节调休" in page and "可确定" in page
    assert login_client(tree.user("county_office")).post(
        url("calendar"), {"days": "2027-01-02 休"}).status_code == 403
    assert CalendarOverride.objects.count() == 2
