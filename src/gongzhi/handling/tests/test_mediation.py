"""说事评理: the ways, the mediation agreement (人民调解法) and the three outcomes."""

import copy
import datetime as dt

from django.urls import reverse
from django.utils import timezone

from gongzhi.audit.models import AuditEvent
from gongzhi.handling.models import Mediation
from gongzhi.matters.actions import do_save_workflow, load_preset
from gongzhi.matters.models import EventKind, Matter, MatterEvent

from .conftest import raise_matter

PARTIES = [{"name": "张建国", "contact": "13812341234"}, {"name": "王桂兰"}]
TERMS = [{"what": "拆除越界围墙", "who": "张建国", "by": "2026-12-31"},
         {"what": "补种两棵树", "who": "王桂兰", "by": "2027-03-31"}]


def agreement(**kw):
    data = {"way": "legal", "method": "peoples", "parties": PARTIES, "consent": True,
            "facts": "两户因宅基地界墙发生争执", "responsibilities": "张家围墙越界30厘米",
            "terms": TERMS, "work_record": "两次上门调解", "signed_at": None}
    data.update(kw)
    return data


def test_dispute_mediation_needs_consent_and_a_complete_agreement(tree, matter, api):
    caller = api("village_cadre")
    url = f"/matters/{matter.pk}/mediations"
    signed = timezone.now() - dt.timedelta(days=1)
    r = caller.post(url, agreement(consent=False))
    assert r.status_code == 400 and "同意" in r.json()["detail"]
    r = caller.post(url, agreement(terms=[], signed_at=signed.isoformat()))
    assert r.status_code == 400 and "协议事项" in r.json()["detail"]
    r = caller.post(url, agreement(responsibilities="", signed_at=signed.isoformat()))
    assert r.status_code == 400 and "责任认定" in r.json()["detail"]
    r = caller.post(url, agreement(terms=[{"what": "拆墙", "who": "张建国"}],
                                   signed_at=signed.isoformat()))
    assert r.status_code == 400 and "何时完成" in r.json()["detail"]
    r = caller.post(url, agreement(method=None))
    assert r.status_code == 400  # 法治事件剖析评 needs its method
    assert not Mediation.objects.exists()
    assert not AuditEvent.objects.filter(action="handling.mediation.create").exists()

    r = caller.post(url, agreement(signed_at=signed.isoformat()))
    assert r.status_code == 201, r.json()
    body = r.json()
    expected = timezone.localdate(signed) + dt.timedelta(days=30)
    assert body["confirmation_deadline"] == expected.isoformat()
    assert [t["who"] for t in body["terms"]] == ["张建国", "王桂兰"]
    event = MatterEvent.objects.get(matter=matter, kind=EventKind.MEDIATION)
    assert "人民调解" in event.summary and "调解协议" in event.summary
    assert "张建国" not in event.summary  # parties stay off the public timeline
    assert AuditEvent.objects.filter(action="handling.mediation.create").count() == 1
    # A simple way needs neither method nor agreement.
    r = caller.post(url, {"way": "simple", "facts": "当场说清楚了"})
    assert r.status_code == 201
    assert len(caller.get(url).json()) == 2


def test_mediation_from_the_page(tree, matter, page):
    signed = timezone.localdate() - dt.timedelta(days=2)
    r = page("village_secretary").post(reverse("handling:mediation", args=[matter.pk]), {
        "way": "joint", "method": "peoples", "consent": "1",
        "party_name": ["张建国", "王桂兰"], "party_contact": ["", ""],
        "facts": "排水沟堵塞互相指责", "responsibilities": "双方各半",
        "term_what": ["共同清理排水沟", "", ""], "term_who": ["双方", "", ""],
        "term_by": ["2026-12-15", "", ""], "signed_at": signed.isoformat()})
    assert r.status_code == 302
    m = Mediation.objects.get(matter=matter)
    assert m.parties == [{"name": "张建国"}, {"name": "王桂兰"}] and m.consent
    assert m.terms == [{"what": "共同清理排水沟", "who": "双方", "by": "2026-12-15"}]
    assert m.confirmation_deadline == signed + dt.timedelta(days=30)
    # Without consent the page shows the sentence and keeps what was typed.
    r = page("village_secretary").post(reverse("handling:mediation", args=[matter.pk]), {
        "way": "legal", "method": "administrative", "facts": "再次争执",
        "party_name": ["张建国", "王桂兰"]})
    assert r.status_code == 400
    html = r.content.decode()
    assert "调解须经双方当事人同意" in html and "再次争执" in html
    assert 'name="party_name" value="王桂兰"' in html
    # A grid worker may not record mediation.
    r = page("grid_worker").post(reverse("handling:mediation", args=[matter.pk]),
                                 {"way": "simple"})
    assert r.status_code == 403


def test_outcome_escalate_and_transfer(tree, matter, api):
    r = api("village_secretary").post(f"/matters/{matter.pk}/mediations", {
        "way": "joint", "facts": "调解未成", "outcome": "escalate",
        "outcome_reason": "双方分歧大，提请镇里调处"})
    assert r.status_code == 201, r.json()
    m = Matter.objects.get(pk=matter.pk)
    assert m.queue_place_id == tree.town.pk and m.escalation_count == 1
    other = raise_matter(tree, title="违建")
    r = api("village_secretary").post(f"/matters/{other.pk}/mediations", {
        "way": "legal", "method": "admonition", "outcome": "transfer"})
    assert r.status_code == 400 and "接收单位" in r.json()["detail"]
    r = api("village_secretary").post(f"/matters/{other.pk}/mediations", {
        "way": "legal", "method": "admonition", "outcome": "transfer",
        "transfer_to_id": tree.department.pk})
    assert r.status_code == 201
    assert Matter.objects.get(pk=other.pk).responsible_org_id == tree.department.pk


def test_archive_closes_through_the_workflow_when_it_has_a_path(tree, api):
    # The default workflow has no direct path from handling to closed: recorded only.
    m = raise_matter(tree)
    r = api("village_secretary").post(f"/matters/{m.pk}/mediations", {
        "way": "simple", "facts": "当场化解", "outcome": "archive"})
    assert r.status_code == 201
    assert not Matter.objects.get(pk=m.pk).is_closed
    # A locality whose workflow has one (说事评理 → 总结归档) closes the matter.
    defn = copy.deepcopy(load_preset("default")["workflow"])
    defn["transitions"].append({"key": "archive", "name": "总结归档", "from": ["handling"],
                                "to": "closed", "roles": ["village_secretary"]})
    do_save_workflow(tree.county, defn, acting_user=None)
    m = raise_matter(tree)
    r = api("village_secretary").post(f"/matters/{m.pk}/mediations", {
        "way": "simple", "facts": "当场化解", "outcome": "archive"})
    assert r.status_code == 201
    m = Matter.objects.get(pk=m.pk)
    assert m.is_closed and m.stage == "closed" and m.outcome == "solved"
    assert AuditEvent.objects.filter(action="matters.matter.transition",
                                     object_id=str(m.pk)).count() == 2
