"""交办 (自办/代办/联办) and the outcome form, through the API and the pages."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from gongzhi.audit.models import AuditEvent
from gongzhi.core.errors import ActionError
from gongzhi.handling.actions import do_bulk_assign
from gongzhi.handling.models import Assignment
from gongzhi.matters.models import EventKind, Matter, MatterEvent
from gongzhi.notifications.models import Notification
from gongzhi.places.actions import do_create_organisation

from .conftest import raise_matter


def test_self_handling_to_a_person_defaults_to_the_stage_deadline(tree, matter, api):
    worker = tree.user("grid_worker")
    r = api("village_secretary").post(f"/matters/{matter.pk}/assign", {
        "mode": "self", "responsible_user_id": worker.pk, "instructions": "三天内修好"})
    assert r.status_code == 201, r.json()
    body = r.json()
    assert body["mode"] == "self" and body["responsible_user_id"] == worker.pk
    m = Matter.objects.get(pk=matter.pk)
    assert m.handling_mode == "self" and m.responsible_user_id == worker.pk
    assert m.due_at == matter.stage_deadline  # the handling stage's own limit
    assert Assignment.objects.filter(matter=m).count() == 1
    event = MatterEvent.objects.get(matter=m, kind=EventKind.ASSIGNED)
    assert event.is_public and "自办" in event.summary and event.comment == "三天内修好"
    assert AuditEvent.objects.filter(action="handling.matter.assign",
                                     object_id=str(m.pk)).exists()
    assert Notification.objects.filter(user=worker, event="handling.assigned",
                                       matter=m).exists()


def test_proxy_handling_with_a_deadline_moves_the_stage_deadline(tree, matter, page):
    due = (timezone.localtime() + dt.timedelta(days=3)).replace(second=0, microsecond=0)
    r = page("village_secretary").post(reverse("handling:assign", args=[matter.pk]), {
        "mode": "proxy", "responsible_user": tree.user("village_cadre").pk,
        "due_at": due.strftime("%Y-%m-%dT%H:%M")})
    assert r.status_code == 302
    m = Matter.objects.get(pk=matter.pk)
    assert m.handling_mode == "proxy" and m.due_at == due and m.stage_deadline == due


def test_joint_handling_needs_co_organisations(tree, matter, api, page):
    caller = api("village_secretary")
    r = caller.post(f"/matters/{matter.pk}/assign", {
        "mode": "joint", "responsible_org_id": tree.department.pk})
    assert r.status_code == 400 and "联办" in r.json()["detail"]
    assert not Assignment.objects.exists()
    assert Matter.objects.get(pk=matter.pk).handling_mode == ""
    # The page says the same sentence, keeps the form open, changes nothing.
    r = page("village_secretary").post(reverse("handling:assign", args=[matter.pk]), {
        "mode": "joint", "responsible_org": tree.department.pk})
    assert r.status_code == 400 and "联办须指定至少一个联办单位" in r.content.decode()

    water = do_create_organisation(tree.county, acting_user=None, kind="department",
                                   name="县水务局", category="供水")
    r = caller.post(f"/matters/{matter.pk}/assign", {
        "mode": "joint", "responsible_org_id": tree.department.pk, "co_org_ids": [water.pk]})
    assert r.status_code == 201, r.json()
    assert r.json()["co_org_ids"] == [water.pk]
    m = Matter.objects.get(pk=matter.pk)
    assert m.handling_mode == "joint" and m.responsible_org_id == tree.department.pk
    # The department's liaison is told.
    assert Notification.objects.filter(user=tree.user("department_liaison"),
                                       event="handling.assigned").exists()


def test_assignment_is_refused_without_permission_or_in_the_past(tree, matter, api):
    r = api("grid_worker").post(f"/matters/{matter.pk}/assign", {
        "mode": "self", "responsible_user_id": tree.user("grid_worker").pk})
    assert r.status_code == 403
    r = api("village_secretary").post(f"/matters/{matter.pk}/assign", {"mode": "self"})
    assert r.status_code == 400 and "责任人或责任单位" in r.json()["detail"]
    past = (timezone.now() - dt.timedelta(hours=1)).isoformat()
    r = api("village_secretary").post(f"/matters/{matter.pk}/assign", {
        "mode": "self", "responsible_user_id": tree.user("grid_worker").pk, "due_at": past})
    assert r.status_code == 400
    # A resident holds no handling role: not a possible responsible person.
    r = api("village_secretary").post(f"/matters/{matter.pk}/assign", {
        "mode": "self", "responsible_user_id": tree.user("resident").pk})
    assert r.status_code == 400
    assert not Assignment.objects.exists()
    # Out of scope: another village's secretary does not see the matter at all.
    other = raise_matter(tree, place=tree.other_grid, acting_user=None, accept=False)
    r = api("village_secretary").post(f"/matters/{other.pk}/assign", {
        "mode": "self", "responsible_user_id": tree.user("grid_worker").pk})
    assert r.status_code == 404


def test_htmx_assign_rerenders_the_panel(tree, matter, page):
    r = page("village_secretary").post(
        reverse("handling:assign", args=[matter.pk]),
        {"mode": "self", "responsible_org": tree.department.pk}, headers={"HX-Request": "true"})
    assert r.status_code == 200
    html = r.content.decode()
    assert 'id="handling-panel"' in html and "<html" not in html
    assert "已交办" in html and tree.department.name in html


def test_bulk_assign_is_all_or_nothing(tree):
    a = raise_matter(tree)
    b = raise_matter(tree, title="河道垃圾")
    closed = raise_matter(tree, title="已撤回", accept=False)
    from gongzhi.matters import workflow

    workflow.do_transition(closed, "decline", acting_user=tree.user("village_secretary"),
                           comment="重复反映")
    with pytest.raises(ActionError) as exc:
        do_bulk_assign([a, b, closed], acting_user=tree.user("village_secretary"),
                       mode="self", responsible_user=tree.user("grid_worker"))
    assert closed.tracking_code in str(exc.value)
    assert not Assignment.objects.exists()
    done = do_bulk_assign([a, b], acting_user=tree.user("village_secretary"), mode="self",
                          responsible_user=tree.user("grid_worker"))
    assert len(done) == 2
    assert AuditEvent.objects.filter(action="handling.matter.assign").count() == 2


def test_cannot_be_solved_needs_the_explanation(tree, matter, page):
    client = page("village_secretary")
    panel = client.get(reverse("handling:matter", args=[matter.pk]))
    assert panel.status_code == 200
    assert 'name="explanation"' in panel.content.decode()
    url = reverse("handling:result", args=[matter.pk])
    r = client.post(url, {"transition": "report_result", "outcome": "unsolvable",
                          "outcome_text": "线路需整体改造，超出村里能力"})
    assert r.status_code == 400 and "解释" in r.content.decode()
    assert Matter.objects.get(pk=matter.pk).stage == "handling"
    r = client.post(url, {"transition": "report_result", "outcome": "unsolvable",
                          "outcome_text": "线路需整体改造，超出村里能力",
                          "explanation": "已列入明年县里的电网改造计划，届时一并解决。"})
    assert r.status_code == 302
    m = Matter.objects.get(pk=matter.pk)
    assert m.stage == "feedback" and m.outcome == "unsolvable" and m.explanation
