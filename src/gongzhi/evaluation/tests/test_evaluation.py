"""评 over HTTP: the reporter's link, reopening after 不满意, expiry as no answer, return visits,
other evaluators, and who may do what."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.management import call_command
from django.utils import timezone

from gongzhi.accounts.actions import do_create_user
from gongzhi.audit.log import verify
from gongzhi.evaluation import tokens
from gongzhi.evaluation.models import Evaluation, EvaluationRequest, ReturnVisit
from gongzhi.matters import workflow
from gongzhi.matters.actions import do_raise_matter, matter_settings
from gongzhi.matters.models import EventKind, Matter, MatterEvent
from gongzhi.notifications.models import Notification
from gongzhi.places.models import Organisation, Person
from gongzhi.testing import api_client, login_client


def head_of(household) -> Person:
    return Person.objects.get(household_id=household.pk, relation="head")


def raise_matter(tree, **kw) -> Matter:
    args = dict(place=tree.grid, title="村口路灯不亮", text="村口路灯坏了一个月，晚上看不见路",
                channel="walk_in", ledger="claim", acting_user=tree.user("grid_worker"),
                reporter_person=head_of(tree.household), reporter_phone="13812341234")
    args.update(kw)
    return do_raise_matter(**args)


def to_evaluation(tree, matter: Matter, *, accept: bool = True) -> Matter:
    sec = tree.user("village_secretary")
    if accept:
        matter = workflow.do_transition(matter, "accept", acting_user=sec)
    matter = workflow.do_transition(matter, "report_result", acting_user=sec,
                                    fields={"outcome": "solved", "outcome_text": "已更换灯泡"})
    return workflow.do_transition(matter, "give_feedback", acting_user=sec,
                                  comment="已电话告知反映人")


def current_request(matter: Matter) -> EvaluationRequest:
    return EvaluationRequest.objects.filter(matter=matter).order_by("-id").first()


def set_policy(tree, **values):
    settings = matter_settings(tree.county)
    settings.policy = {**settings.policy, **values}
    settings.save(update_fields=["policy"])


@pytest.fixture
def reporter(tree):
    return do_create_user("reporter_zhang", acting_user=None, county=tree.county,
                          person=head_of(tree.household))


def test_full_evaluation_cycle_on_the_default_preset(tree, reporter, client):
    matter = to_evaluation(tree, raise_matter(tree))
    assert matter.stage == "evaluation"
    req = current_request(matter)
    assert req.status == "pending" and req.round == 1
    assert req.expires_at > timezone.now() + dt.timedelta(days=5)  # 7 working days
    link = tokens.link(req)
    assert re.fullmatch(r"/e/\d+-[2-9A-HJ-NP-Z]{16}/", link)
    # The registered reporter is told, with the link.
    note = Notification.objects.get(user=reporter, event="evaluation_request")
    assert note.url == link and matter.title in note.title

    page = client.get(link)
    assert page.status_code == 200
    html = page.content.decode()
    assert matter.title in html and "已更换灯泡" in html
    for word in ("满意", "基本满意", "不满意", "服务态度", "办理效率", "办理结果"):
        assert word in html
    assert "实际效果" not in html  # only where the locality rates it (安泽)
    assert "张建国" not in html and "13812341234" not in html

    before = timezone.now()
    answer = client.post(link, {"outcome": "dissatisfied", "attitude": "basic",
                                "efficiency": "dissatisfied", "result": "dissatisfied",
                                "comment": "灯还是不亮"})
    assert answer.status_code == 302
    matter.refresh_from_db()
    assert matter.stage == "handling" and not matter.is_closed
    assert matter.reopen_count == 1
    assert matter.stage_entered_at >= before and matter.stage_deadline > timezone.now()
    ev = Evaluation.objects.get(matter=matter)
    assert (ev.kind, ev.via, ev.outcome, ev.attitude, ev.reopened) == (
        "reporter", "link", "dissatisfied", "basic", True)
    assert ev.comment == "灯还是不亮" and ev.round == 1
    reopened = MatterEvent.objects.get(matter=matter, kind=EventKind.REOPENED)
    assert "重新办理" in reopened.summary and reopened.is_public
    # The link worked once.
    again = client.get(link)
    assert "已经评价过" in again.content.decode()
    client.post(link, {"outcome": "satisfied"})
    assert Evaluation.objects.filter(matter=matter).count() == 1

    # Handled again: a new round, a new link; this time 满意 (through the API) closes it.
    matter = to_evaluation(tree, matter, accept=False)
    req2 = current_request(matter)
    assert req2.pk != req.pk and req2.round == 2
    assert list(Notification.objects.filter(user=reporter, event="evaluation_request")
                .order_by("pk").values_list("url", flat=True)) == [link, tokens.link(req2)]
    token = tokens.make_token(req2)
    got = client.get(f"/api/v1/evaluate/{token}")
    assert got.status_code == 200 and got.json()["status"] == "pending"
    assert [a["name"] for a in got.json()["aspects"]] == ["attitude", "efficiency", "result"]
    done = client.post(f"/api/v1/evaluate/{token}", {"outcome": "satisfied", "result": "basic"},
                       content_type="application/json")
    assert done.status_code == 200, done.content
    assert done.json()["status"] == "answered"
    matter.refresh_from_db()
    assert matter.is_closed and matter.stage == "closed" and matter.reopen_count == 1
    assert list(Evaluation.objects.filter(matter=matter).values_list("outcome", "round")) == [
        ("dissatisfied", 1), ("satisfied", 2)]
    assert verify() == []


def test_token_is_single_use_and_expires(tree, client):
    matter = to_evaluation(tree, raise_matter(tree))
    req = current_request(matter)
    link = tokens.link(req)
    token = tokens.make_token(req)
    # A token we did not sign is unknown.
    forged = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert client.get(f"/e/{forged}/").status_code == 404
    assert client.get(f"/api/v1/evaluate/{forged}").status_code == 404
    assert client.get("/e/not-a-token/").status_code == 404
    # Expired: a clear message, and nothing is recorded.
    EvaluationRequest.objects.filter(pk=req.pk).update(
        expires_at=timezone.now() - dt.timedelta(minutes=1))
    page = client.get(link)
    assert page.status_code == 410 and "评价期限已过" in page.content.decode()
    assert client.post(link, {"outcome": "satisfied"}).status_code == 410
    api = client.post(f"/api/v1/evaluate/{token}", {"outcome": "satisfied"},
                      content_type="application/json")
    assert api.status_code == 410 and "评价期限已过" in api.json()["detail"]
    assert not Evaluation.objects.exists()
    matter.refresh_from_db()
    assert matter.stage == "evaluation"
    # Within the deadline it works once; the second answer is refused.
    EvaluationRequest.objects.filter(pk=req.pk).update(
        expires_at=timezone.now() + dt.timedelta(days=1))
    first = client.post(f"/api/v1/evaluate/{token}", {"outcome": "basic"},
                        content_type="application/json")
    assert first.status_code == 200
    second = client.post(f"/api/v1/evaluate/{token}", {"outcome": "dissatisfied"},
                         content_type="application/json")
    assert second.status_code == 400 and "已经评价过" in second.json()["detail"]
    assert Evaluation.objects.get().outcome == "basic"
    matter.refresh_from_db()
    assert matter.is_closed and matter.reopen_count == 0


def test_invalid_answer_changes_nothing(tree, client):
    matter = to_evaluation(tree, raise_matter(tree))
    link = tokens.link(current_request(matter))
    page = client.post(link, {"outcome": "great"})
    assert page.status_code == 400 and "请选择总体评价" in page.content.decode()
    effect = client.post(link, {"outcome": "satisfied", "effect": "satisfied"})
    assert effect.status_code == 400  # this locality does not rate the effect
    assert not Evaluation.objects.exists()
    assert current_request(matter).status == "pending"


def test_effect_is_rated_where_the_policy_says(tree, client):
    set_policy(tree, evaluation_aspects=["attitude", "efficiency", "result", "effect"])
    matter = to_evaluation(tree, raise_matter(tree))
    link = tokens.link(current_request(matter))
    assert "实际效果" in client.get(link).content.decode()
    assert client.post(link, {"outcome": "satisfied", "effect": "basic"}).status_code == 302
    assert Evaluation.objects.get().effect == "basic"


def test_no_answer_is_recorded_never_as_satisfied(tree):
    matter = to_evaluation(tree, raise_matter(tree))
    req = current_request(matter)
    call_command("supervise", "scan")  # not due yet: nothing happens
    assert not Evaluation.objects.exists()
    EvaluationRequest.objects.filter(pk=req.pk).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1))
    call_command("supervise", "scan")
    ev = Evaluation.objects.get()
    assert (ev.kind, ev.via, ev.outcome) == ("reporter", "system", "no_answer")
    assert not ev.counts_as_satisfied
    req.refresh_from_db()
    matter.refresh_from_db()
    assert req.status == "expired"
    assert matter.is_closed and matter.stage == "closed"
    last = MatterEvent.objects.filter(matter=matter, kind=EventKind.TRANSITION).last()
    assert last.transition == "no_answer"
    # A second run changes nothing.
    events = MatterEvent.objects.count()
    call_command("supervise", "scan")
    assert Evaluation.objects.count() == 1 and MatterEvent.objects.count() == events


def test_return_visit_records_and_reopens(tree):
    matter = to_evaluation(tree, raise_matter(tree))
    client, headers = api_client(tree.user("village_cadre"))
    url = f"/api/v1/matters/{matter.pk}/return-visits"
    missed = client.post(url, {"reached": False, "notes": "电话无人接听"},
                         content_type="application/json", headers=headers)
    assert missed.status_code == 201, missed.content
    assert missed.json()["evaluation_id"] is None
    said = client.post(url, {"reached": True, "resolved": "no", "satisfaction": "dissatisfied",
                             "notes": "反映人说灯只亮了两天", "as_evaluation": True},
                       content_type="application/json", headers=headers)
    assert said.status_code == 201, said.content
    ev = Evaluation.objects.get(pk=said.json()["evaluation_id"])
    assert (ev.kind, ev.via, ev.outcome, ev.reopened) == ("reporter", "phone", "dissatisfied",
                                                           True)
    assert ev.by == tree.user("village_cadre")
    matter.refresh_from_db()
    assert matter.stage == "handling" and matter.reopen_count == 1
    # The reporter's link no longer takes an answer.
    assert current_request(matter).status == "answered"
    listed = client.get(url, headers=headers).json()
    assert listed["count"] == 2 and ReturnVisit.objects.count() == 2
    # Not in an evaluation stage now: it cannot be recorded as the reporter's evaluation.
    refused = client.post(url, {"reached": True, "satisfaction": "satisfied",
                                "as_evaluation": True},
                          content_type="application/json", headers=headers)
    assert refused.status_code == 400 and "评价环节" in refused.json()["detail"]
    assert ReturnVisit.objects.count() == 2
    assert MatterEvent.objects.filter(matter=matter, kind=EventKind.RETURN_VISIT).count() == 2


def test_return_visit_page(tree):
    matter = to_evaluation(tree, raise_matter(tree))
    client = login_client(tree.user("village_secretary"))
    url = f"/evaluation/matters/{matter.pk}/return-visit/"
    assert client.get(url).status_code == 200
    response = client.post(url, {"reached": "yes", "resolved": "yes", "satisfaction": "satisfied",
                                 "as_evaluation": "on", "notes": "反映人表示满意"})
    assert response.status_code == 302
    matter.refresh_from_db()
    assert matter.is_closed
    assert Evaluation.objects.get().via == "phone"
    assert login_client(tree.user("grid_worker")).get(url).status_code == 403


def test_other_evaluator_kinds(tree):
    matter = to_evaluation(tree, raise_matter(tree))
    client, headers = api_client(tree.user("town_secretary"))
    url = f"/api/v1/matters/{matter.pk}/evaluations"
    body = {"kind": "party_member", "outcome": "dissatisfied", "evaluator_name": "李党员",
            "comment": "还需再看"}
    refused = client.post(url, body, content_type="application/json", headers=headers)
    assert refused.status_code == 400 and "未启用" in refused.json()["detail"]

    set_policy(tree, evaluator_kinds=["reporter", "party_member", "unit", "department",
                                      "superior"])
    made = client.post(url, body, content_type="application/json", headers=headers)
    assert made.status_code == 201, made.content
    assert made.json()["reopened"] is False
    matter.refresh_from_db()
    assert matter.stage == "evaluation"  # only the reporter's 不满意 reopens by default
    no_name = client.post(url, {"kind": "party_member", "outcome": "satisfied"},
                          content_type="application/json", headers=headers)
    assert no_name.status_code == 400
    dept = client.post(url, {"kind": "department", "outcome": "basic",
                             "organisation": tree.department.pk},
                       content_type="application/json", headers=headers)
    assert dept.status_code == 201 and dept.json()["organisation_id"] == tree.department.pk
    reporter_kind = client.post(url, {"kind": "reporter", "outcome": "satisfied"},
                                content_type="application/json", headers=headers)
    assert reporter_kind.status_code == 400

    set_policy(tree, reopen_on=["reporter", "superior"])
    sup = client.post(url, {"kind": "superior", "outcome": "dissatisfied", "comment": "不合格"},
                      content_type="application/json", headers=headers)
    assert sup.status_code == 201 and sup.json()["reopened"] is True
    matter.refresh_from_db()
    assert matter.stage == "handling" and matter.reopen_count == 1
    listed = client.get(url, headers=headers).json()
    assert [e["kind"] for e in listed["items"]] == ["party_member", "department", "superior"]


def test_who_may_evaluate(tree):
    set_policy(tree, evaluator_kinds=["reporter", "party_member"])
    matter = to_evaluation(tree, raise_matter(tree))
    body = {"kind": "party_member", "outcome": "satisfied", "evaluator_name": "李党员"}
    url = f"/api/v1/matters/{matter.pk}/evaluations"
    grid, headers = api_client(tree.user("grid_worker"))  # sees the matter, may not evaluate
    assert grid.post(url, body, content_type="application/json",
                     headers=headers).status_code == 403
    from gongzhi.accounts.actions import do_grant_role

    other = do_create_user("other_town_sec", acting_user=None, county=tree.county)
    do_grant_role(other, "town_secretary", tree.other_town, acting_user=None)
    c, h = api_client(other)
    assert c.post(url, body, content_type="application/json", headers=h).status_code == 404
    assert c.get(url, headers=h).status_code == 404
    anon = login_client(tree.user("resident"))
    assert anon.get(f"/evaluation/matters/{matter.pk}/evaluate/").status_code == 403
    assert not Evaluation.objects.exists()


def test_staff_see_the_link_to_read_out(tree):
    matter = to_evaluation(tree, raise_matter(tree, reporter_person=None, reporter_name="王大爷"))
    client, headers = api_client(tree.user("village_secretary"))
    got = client.get(f"/api/v1/matters/{matter.pk}/evaluation-request", headers=headers)
    assert got.status_code == 200
    assert got.json()["link"].endswith(tokens.link(current_request(matter)))
    grid, gh = api_client(tree.user("grid_worker"))
    assert grid.get(f"/api/v1/matters/{matter.pk}/evaluation-request",
                    headers=gh).status_code == 403
    # No registered reporter: nobody is notified, the link waits for staff.
    assert not Notification.objects.filter(event="evaluation_request").exists()


def test_panel_shows_ratings_and_link(tree, rf):
    from gongzhi.matters.panels import panels_for

    matter = to_evaluation(tree, raise_matter(tree))
    request = rf.get("/")
    request.user = tree.user("village_secretary")
    panels = dict((p.key, ctx) for p, ctx in panels_for(request, matter))
    assert "evaluation" in panels
    assert panels["evaluation"]["evaluation_link"].endswith(
        tokens.link(current_request(matter)))
    request.user = tree.user("grid_worker")
    panels = dict((p.key, ctx) for p, ctx in panels_for(request, matter))
    assert panels.get("evaluation", {}).get("evaluation_link", "") == ""


def test_organisation_must_be_local(tree):
    set_policy(tree, evaluator_kinds=["reporter", "unit"])
    matter = to_evaluation(tree, raise_matter(tree))
    client, headers = api_client(tree.user("county_office"))
    assert Organisation.objects.filter(pk=tree.department.pk).exists()
    made = client.post(f"/api/v1/matters/{matter.pk}/evaluations",
                       {"kind": "unit", "outcome": "satisfied", "evaluator_name": "县供销社"},
                       content_type="application/json", headers=headers)
    assert made.status_code == 201


def test_anze_rates_the_effect_and_reopens_into_rectification(tree, client):
    from gongzhi.matters.actions import do_adopt_preset

    do_adopt_preset(tree.county, "anze", acting_user=None)
    matter = to_evaluation(tree, raise_matter(tree))
    link = tokens.link(current_request(matter))
    assert "实际效果" in client.get(link).content.decode()
    client.post(link, {"outcome": "dissatisfied", "effect": "dissatisfied", "comment": "没效果"})
    matter.refresh_from_db()
    assert matter.stage == "rectify" and matter.reopen_count == 1
    assert Evaluation.objects.get().effect == "dissatisfied"
    sec = tree.user("village_secretary")
    matter = workflow.do_transition(matter, "report_result", acting_user=sec,
                                    fields={"outcome": "solved", "outcome_text": "已整改"})
    matter = workflow.do_transition(matter, "give_feedback", acting_user=sec, comment="已告知")
    done = client.post(tokens.link(current_request(matter)), {"outcome": "satisfied"})
    assert done.status_code == 302
    matter.refresh_from_db()
    assert matter.stage == "disclosure" and not matter.is_closed  # 晒 comes after 评
