"""提级上报 (village → town → county, refused at the top) and 移交处置."""

import pytest
from django.urls import reverse

from gongzhi.audit.models import AuditEvent
from gongzhi.core.errors import ActionForbidden
from gongzhi.handling.models import Escalation
from gongzhi.matters import workflow
from gongzhi.matters.models import EventKind, Matter, MatterEvent
from gongzhi.notifications.models import Notification
from gongzhi.places.actions import do_create_organisation

RESULT = {"outcome": "solved", "outcome_text": "已修复"}


def test_escalation_moves_the_queue_and_the_right_to_act(tree, matter, api):
    # The village assigned it first; escalation releases that assignment.
    api("village_secretary").post(f"/matters/{matter.pk}/assign", {
        "mode": "self", "responsible_user_id": tree.user("village_cadre").pk})
    r = api("village_secretary").post(f"/matters/{matter.pk}/escalate",
                                      {"reason": "涉及跨村线路，村里无法协调"})
    assert r.status_code == 201, r.json()
    assert r.json()["queue_place_id"] == tree.town.pk and r.json()["escalation_count"] == 1
    m = Matter.objects.get(pk=matter.pk)
    assert m.queue_place_id == tree.town.pk and m.escalation_count == 1
    assert m.responsible_user_id is None and m.stage == "handling"
    esc = Escalation.objects.get(matter=m)
    assert esc.kind == "escalate" and esc.from_place_id == tree.village.pk
    event = MatterEvent.objects.get(matter=m, kind=EventKind.ESCALATED)
    assert event.is_public and "提级上报" in event.summary and tree.town.name in event.summary
    # The whole history stays with the same matter.
    assert MatterEvent.objects.filter(matter=m, kind=EventKind.RAISED).exists()
    assert AuditEvent.objects.filter(action="handling.matter.escalate",
                                     object_id=str(m.pk)).exists()
    for role in ("town_staff", "town_secretary"):
        assert Notification.objects.filter(user=tree.user(role),
                                           event="handling.escalated").exists()

    # The village still sees it but no longer acts on it; the town does.
    assert api("village_cadre").get(f"/matters/{m.pk}/summons").status_code == 200
    with pytest.raises(ActionForbidden):
        workflow.do_transition(m, "report_result", acting_user=tree.user("village_cadre"),
                               fields=RESULT)
    r = api("village_secretary").post(f"/matters/{m.pk}/assign", {
        "mode": "self", "responsible_user_id": tree.user("village_cadre").pk})
    assert r.status_code == 403
    r = api("village_secretary").post(f"/matters/{m.pk}/escalate", {"reason": "再报"})
    assert r.status_code == 403
    r = api("town_staff").post(f"/matters/{m.pk}/assign", {
        "mode": "joint", "responsible_org_id": tree.department.pk,
        "co_org_ids": [do_create_organisation(tree.county, acting_user=None, kind="department",
                                              name="镇城建办").pk]})
    assert r.status_code == 201, r.json()
    m = workflow.do_transition(Matter.objects.get(pk=m.pk), "report_result",
                               acting_user=tree.user("town_staff"), fields=RESULT)
    assert m.stage == "feedback"


def test_town_to_county_then_refused_at_the_top(tree, matter, api, page):
    r = page("village_secretary").post(reverse("handling:escalate", args=[matter.pk]),
                                       {"reason": "村里无法解决"})
    assert r.status_code == 302
    assert api("town_secretary").post(f"/matters/{matter.pk}/escalate",
                                      {"reason": "需县里统筹"}).status_code == 201
    m = Matter.objects.get(pk=matter.pk)
    assert m.queue_place_id == tree.county.pk and m.escalation_count == 2
    # Now only the county acts: the town's staff are refused.
    with pytest.raises(ActionForbidden):
        workflow.do_transition(m, "report_result", acting_user=tree.user("town_staff"),
                               fields=RESULT)
    r = api("county_office").post(f"/matters/{m.pk}/escalate", {"reason": "继续上报"})
    assert r.status_code == 400 and "县（区）" in r.json()["detail"]
    assert Matter.objects.get(pk=m.pk).escalation_count == 2
    assert Escalation.objects.filter(matter=m).count() == 2
    # The panel says so instead of offering the form.
    html = page("county_office").get(reverse("handling:matter", args=[m.pk])).content.decode()
    escalate_url = reverse("handling:escalate", args=[m.pk])
    assert "不能再提级上报" in html and f'action="{escalate_url}"' not in html


def test_escalation_needs_a_reason(tree, matter, api):
    r = api("village_secretary").post(f"/matters/{matter.pk}/escalate", {"reason": " "})
    assert r.status_code == 400
    assert Matter.objects.get(pk=matter.pk).queue_place_id == tree.village.pk
    assert not AuditEvent.objects.filter(action="handling.matter.escalate").exists()


def test_automatic_escalation_for_the_deadline_job(tree, matter):
    from gongzhi.handling.actions import do_escalate

    esc = do_escalate(matter, acting_user=None, reason="办理超时，自动提级", automatic=True)
    assert esc.is_automatic and esc.to_place_id == tree.town.pk


def test_transfer_to_another_body(tree, matter, api, page):
    law = do_create_organisation(tree.county, acting_user=None, kind="department",
                                 name="县综合执法局", category="综合执法")
    r = api("village_secretary").post(f"/matters/{matter.pk}/transfer",
                                      {"organisation_id": law.pk, "reason": ""})
    assert r.status_code == 400
    r = api("grid_worker").post(f"/matters/{matter.pk}/transfer",
                                {"organisation_id": law.pk, "reason": "违建"})
    assert r.status_code == 403
    r = api("village_secretary").post(f"/matters/{matter.pk}/transfer",
                                      {"organisation_id": law.pk, "reason": "涉及违法建设"})
    assert r.status_code == 201, r.json()
    assert r.json()["kind"] == "transfer" and r.json()["to_org_id"] == law.pk
    m = Matter.objects.get(pk=matter.pk)
    assert m.responsible_org_id == law.pk and m.queue_place_id == tree.village.pk
    assert MatterEvent.objects.get(matter=m, kind=EventKind.TRANSFERRED).is_public
    assert AuditEvent.objects.filter(action="handling.matter.transfer").count() == 1
    # Transferring again to the same body is refused; to another via the page works.
    r = api("village_secretary").post(f"/matters/{matter.pk}/transfer",
                                      {"organisation_id": law.pk, "reason": "再次移交"})
    assert r.status_code == 400
    r = page("village_secretary").post(reverse("handling:transfer", args=[matter.pk]),
                                       {"organisation": tree.department.pk, "reason": "属供电"})
    assert r.status_code == 302
    assert Matter.objects.get(pk=matter.pk).responsible_org_id == tree.department.pk
    # An organisation of another county is unknown here.
    from gongzhi.places.actions import do_create_place

    elsewhere = do_create_place(None, "county", "外县", acting_user=None)
    foreign = do_create_organisation(elsewhere, acting_user=None, kind="department",
                                     name="外县执法局")
    r = api("village_secretary").post(f"/matters/{matter.pk}/transfer",
                                      {"organisation_id": foreign.pk, "reason": "x"})
    assert r.status_code == 400
