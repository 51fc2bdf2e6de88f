"""四议两公开 over HTTP: strict order, the right kind of meeting, a passed vote with the statutory
quorum, then both disclosures on the public page (anonymised)."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from gongzhi.accounts.actions import do_create_user, do_grant_role
from gongzhi.matters.actions import do_raise_matter
from gongzhi.meetings import actions
from gongzhi.meetings.kinds import ensure_kinds
from gongzhi.meetings.models import Disclosure, FourStepProcedure, FourStepRecord
from gongzhi.meetings.procedures import STEPS, step_label
from gongzhi.testing import api_client, login_client

from .pa_helpers import close_matter, secretary, standard_members, voted_topic

pytestmark = pytest.mark.django_db


def _start(client, tree, title="修建村文化广场", matter=None):
    resp = client.post(reverse("meetings:fourstep_new"),
                       {"village": tree.village.pk, "title": title,
                        "matter": matter.pk if matter else ""})
    assert resp.status_code == 302, resp.content.decode()[:500]
    return FourStepProcedure.objects.get(title=title)


def _step(client, procedure, step, topic=None, content=""):
    return client.post(reverse("meetings:fourstep_step", args=[procedure.pk]),
                       {"step": step, "topic": topic.pk if topic else "", "content": content})


def _four_topics(tree):
    """One passed topic per meeting step, meetings on consecutive days."""
    standard_members(tree)
    return {
        "proposal": voted_topic(tree, "party_branch", days=11, present=2, votes_for=2),
        "consultation": voted_topic(tree, "two_committees", days=12, present=4, votes_for=3,
                                    votes_against=1),
        "review": voted_topic(tree, "party_members", days=13, present=5, votes_for=3,
                              votes_against=2),
        "decision": voted_topic(tree, "villager_reps", days=14, present=5, votes_for=4,
                                votes_against=1),
    }


def test_every_skip_and_reorder_is_refused_naming_the_required_step(tree):
    topics = _four_topics(tree)
    client = login_client(secretary(tree))
    procedure = _start(client, tree)
    for i, current in enumerate(STEPS):
        for other in STEPS:
            if other == current:
                continue
            resp = _step(client, procedure, other, topics.get(other), content="结果")
            assert resp.status_code == 400, (current, other)
            body = resp.content.decode()
            if STEPS.index(other) < i:
                expected = f"“{step_label(other)}”已经完成"
            else:
                expected = f"请先完成“{step_label(current)}”"
            assert expected in body, (current, other)
            procedure.refresh_from_db()
            assert procedure.current_step == current
        if current in topics:
            resp = _step(client, procedure, current, topics[current])
        else:
            resp = _step(client, procedure, current, content="广场已建成并投入使用")
        assert resp.status_code == 302, resp.content.decode()[:800]
        procedure.refresh_from_db()
    assert procedure.is_complete
    assert FourStepRecord.objects.filter(procedure=procedure).count() == 6
    # Nothing more once complete.
    resp = _step(client, procedure, "result_published", content="再次公开")
    assert resp.status_code == 400
    assert "已全部完成" in resp.content.decode()


def test_wrong_kind_of_meeting_is_refused(tree):
    standard_members(tree)
    committees = voted_topic(tree, "two_committees", days=11, present=4, votes_for=4)
    client = login_client(secretary(tree))
    procedure = _start(client, tree)
    resp = _step(client, procedure, "proposal", committees)
    assert resp.status_code == 400
    body = resp.content.decode()
    assert "“党支部提议”须由党支部会议作出" in body and "两委会议的议题" in body
    branch = voted_topic(tree, "party_branch", days=12, present=3, votes_for=3, title="另一事项")
    assert _step(client, procedure, "proposal", branch).status_code == 302
    # 两委会议商议 cannot be done by the 党支部会议 either.
    other_branch = voted_topic(tree, "party_branch", days=13, present=3, votes_for=3, title="又一")
    resp = _step(client, procedure, "consultation", other_branch)
    assert resp.status_code == 400
    assert "“两委会议商议”须由两委会议作出" in resp.content.decode()
    procedure.refresh_from_db()
    assert procedure.current_step == "consultation"


def test_failed_vote_is_refused(tree):
    standard_members(tree)
    client = login_client(secretary(tree))
    procedure = _start(client, tree)
    branch = voted_topic(tree, "party_branch", days=11, present=3, votes_for=1, votes_against=2)
    resp = _step(client, procedure, "proposal", branch)
    assert resp.status_code == 400
    assert "表决未通过，不能作为“党支部提议”的依据" in resp.content.decode()
    procedure.refresh_from_db()
    assert procedure.current_step == "proposal"
    assert not FourStepRecord.objects.filter(procedure=procedure).exists()


def test_statutory_quorum_holds_even_when_the_kind_is_relaxed(tree):
    """A county that drops the 党员大会's quorum cannot drop the law's two thirds."""
    standard_members(tree)
    kind = ensure_kinds(tree.county)["party_members"]
    actions.do_save_kind(tree.county, acting_user=None, kind=kind, name=kind.name,
                         invitee_groups=kind.invitee_groups, quorum=None,
                         decision=kind.decision)
    topics = {
        "proposal": voted_topic(tree, "party_branch", days=11, present=2, votes_for=2),
        "consultation": voted_topic(tree, "two_committees", days=12, present=3, votes_for=3),
        # 2 of 6 party members present: passes the relaxed kind, not the law.
        "review": voted_topic(tree, "party_members", days=13, present=2, votes_for=2),
    }
    client = login_client(secretary(tree))
    procedure = _start(client, tree)
    assert _step(client, procedure, "proposal", topics["proposal"]).status_code == 302
    assert _step(client, procedure, "consultation", topics["consultation"]).status_code == 302
    resp = _step(client, procedure, "review", topics["review"])
    assert resp.status_code == 400
    assert "党员大会到会人数不足" in resp.content.decode()


def test_meeting_held_before_the_previous_step_is_refused(tree):
    standard_members(tree)
    consultation = voted_topic(tree, "two_committees", days=11, present=4, votes_for=4)
    proposal = voted_topic(tree, "party_branch", days=12, present=3, votes_for=3, title="同一事项")
    client = login_client(secretary(tree))
    procedure = _start(client, tree)
    assert _step(client, procedure, "proposal", proposal).status_code == 302
    resp = _step(client, procedure, "consultation", consultation)
    assert resp.status_code == 400
    assert "须在“党支部提议”的会议之后召开" in resp.content.decode()


def test_in_order_publishes_both_disclosures_anonymised(tree):
    sec = secretary(tree)
    matter = do_raise_matter(place=tree.grid, title="村里缺少活动场地", text="希望修建文化广场",
                             channel="walk_in", ledger="suggestion", acting_user=sec,
                             reporter_name="张建国", reporter_phone="13812341234")
    topics = _four_topics(tree)
    actions.do_record_resolution(
        topics["decision"], acting_user=sec,
        text="同意修建村文化广场，预算30万元；联系人电话13912345678，身份证号11010519491231002X。",
        deadline=timezone.localdate() + dt.timedelta(days=60), responsible_name="村委会")
    client = login_client(sec)
    procedure = _start(client, tree, matter=matter)
    for step in ("proposal", "consultation", "review", "decision"):
        assert _step(client, procedure, step, topics[step]).status_code == 302
    resp = _step(client, procedure, "resolution_published")
    assert resp.status_code == 302
    resolution_item = Disclosure.objects.get(village=tree.village, is_major=True)
    assert resolution_item.domain == "village" and resolution_item.published_at
    assert "同意修建村文化广场" in resolution_item.content
    assert "党员大会审议" in resolution_item.content and "赞成3票" in resolution_item.content

    # The result waits for the matter that carries the decision.
    resp = _step(client, procedure, "result_published", content="已建成")
    assert resp.status_code == 400
    assert "尚未办结，办结后才能公开实施结果" in resp.content.decode()
    close_matter(tree, matter)
    resp = _step(client, procedure, "result_published")
    assert resp.status_code == 302
    procedure.refresh_from_db()
    assert procedure.is_complete
    result_item = Disclosure.objects.filter(village=tree.village, is_major=True).latest("pk")
    assert "已解决" in result_item.content and "已按决议完成" in result_item.content

    # Both on the public page, no login, phones and ID numbers masked.
    page = login_client(tree.user("resident")).get(
        reverse("meetings:public_disclosures", args=[tree.village.pk]))
    anon = reverse("meetings:public_disclosures", args=[tree.village.pk])
    from django.test import Client

    for resp in (page, Client().get(anon)):
        assert resp.status_code == 200
        body = resp.content.decode()
        assert "四议两公开决议公开：修建村文化广场" in body
        assert "四议两公开实施结果公开：修建村文化广场" in body
        assert "139****5678" in body and "13912345678" not in body
        assert "11010519491231002X" not in body and "110105********002X" in body
        assert "13812341234" not in body and "张建国" not in body
    # And in the public API.
    data = Client().get(f"/api/v1/public/villages/{tree.village.pk}/disclosures").json()
    assert data["count"] == 2
    assert all("13912345678" not in i["content"] for i in data["items"])
    steps = Client().get(
        f"/api/v1/public/villages/{tree.village.pk}/fourstep-procedures").json()[0]["steps"]
    assert [s["state"] for s in steps] == ["done"] * 6


def test_api_refuses_out_of_order_with_the_required_step(tree):
    topics = _four_topics(tree)
    client, headers = api_client(secretary(tree))
    resp = client.post("/api/v1/fourstep-procedures", {"village": tree.village.pk,
                                                       "title": "修建村文化广场"},
                       content_type="application/json", headers=headers)
    assert resp.status_code == 201, resp.content
    pid = resp.json()["id"]
    url = f"/api/v1/fourstep-procedures/{pid}/steps"
    resp = client.post(url, {"step": "review", "topic": topics["review"].pk},
                       content_type="application/json", headers=headers)
    assert resp.status_code == 400
    assert "请先完成“党支部提议”" in resp.json()["detail"]
    resp = client.post(url, {"step": "proposal", "topic": topics["proposal"].pk},
                       content_type="application/json", headers=headers)
    assert resp.status_code == 200
    assert resp.json()["current_step"] == "consultation"
    assert resp.json()["steps"][0]["state"] == "done"


def test_access(tree):
    standard_members(tree)
    branch = voted_topic(tree, "party_branch", days=11, present=3, votes_for=3)
    procedure = _start(login_client(secretary(tree)), tree)
    detail = reverse("meetings:fourstep_detail", args=[procedure.pk])
    staff = login_client(secretary(tree))
    assert "修建村文化广场" in staff.get(reverse("meetings:fourstep_list")).content.decode()
    body = staff.get(detail).content.decode()
    assert "党支部提议" in body and f'value="{branch.pk}"' in body  # offered as a candidate
    # Residents read the public page only.
    resident = login_client(tree.user("resident"))
    assert resident.get(reverse("meetings:fourstep_list")).status_code == 403
    assert resident.get(detail).status_code == 403
    assert _step(resident, procedure, "proposal", branch).status_code == 403
    assert resident.get(reverse("meetings:public_disclosures",
                                args=[tree.village.pk])).status_code == 200
    # Grid workers see the procedure but cannot record a step.
    grid = login_client(tree.user("grid_worker"))
    assert grid.get(detail).status_code == 200
    assert _step(grid, procedure, "proposal", branch).status_code == 403
    # Another village's secretary: the procedure does not exist.
    other = do_create_user("other_sec", acting_user=None)
    do_grant_role(other, "village_secretary", tree.other_village, acting_user=None)
    other_client = login_client(other)
    assert other_client.get(detail).status_code == 404
    assert _step(other_client, procedure, "proposal", branch).status_code == 404
    resp = other_client.post(reverse("meetings:fourstep_new"),
                             {"village": tree.village.pk, "title": "越权"})
    assert resp.status_code == 404
    # Anonymous visitors are sent to log in.
    from django.test import Client

    assert Client().get(detail).status_code == 302
    procedure.refresh_from_db()
    assert procedure.current_step == "proposal"
