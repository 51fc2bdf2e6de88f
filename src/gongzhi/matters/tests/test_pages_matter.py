"""The matter page over HTTP: what each role sees, transitions, notes, the complaint's reporter,
attachments and merging."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from gongzhi.accounts.actions import do_create_user, do_grant_role
from gongzhi.audit.models import AuditEvent
from gongzhi.matters import workflow
from gongzhi.matters.actions import do_raise_matter, matter_settings
from gongzhi.matters.models import Category, Matter, MatterEvent
from gongzhi.testing import login_client

NAME, PHONE = "钱七妹", "13600001234"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def page(tree):
    matter_settings(tree.county)

    def for_role(role_or_user):
        user = tree.user(role_or_user) if isinstance(role_or_user, str) else role_or_user
        return login_client(user)

    return for_role


def raise_one(tree, **kw):
    args = dict(place=tree.grid, title="村口路灯不亮", text="村口路灯坏了一个月，晚上出行不便。",
                channel="walk_in", ledger="claim", acting_user=tree.user("grid_worker"),
                reporter_name=NAME, reporter_phone=PHONE,
                category=Category.objects.get(county=tree.county, code="infrastructure"))
    args.update(kw)
    return do_raise_matter(**args)


def url(m, name="matters:detail", *args):
    return reverse(name, args=[m.pk, *args])


def test_secretary_sees_the_matter_and_its_actions(tree, page):
    m = raise_one(tree)
    r = page("village_secretary").get(url(m))
    html = r.content.decode()
    assert r.status_code == 200
    for text in (m.tracking_code, "村口路灯不亮", "利益诉求", "基础设施", "登记受理",
                 "城关镇", "高城寨村", "第一网格", "受理", "不予受理", "登记事项", "办理经过",
                 NAME, PHONE, 'id="handling-panel"'):
        assert text in html, text


def test_out_of_scope_matter_and_its_files_are_not_found(tree, page):
    m = raise_one(tree, attachments=[SimpleUploadedFile("灯.png", PNG, "image/png")])
    f = m.files.get()
    other = do_create_user("other_sec", acting_user=None, county=tree.county)
    do_grant_role(other, "village_secretary", tree.other_village, acting_user=None)
    client = page(other)
    for target in (url(m), url(m, "matters:file", f.pk)):
        assert client.get(target).status_code == 404, target
    r = client.post(url(m, "matters:transition"), {"transition": "accept"})
    assert r.status_code == 404
    m.refresh_from_db()
    assert m.stage == "intake"
    # In scope: the file comes through the access-checked view, never from MEDIA_URL.
    r = page("grid_worker").get(url(m, "matters:file", f.pk))
    assert r.status_code == 200 and b"".join(r.streaming_content) == PNG
    assert r["Cache-Control"] == "private, no-store"
    assert "/media/" not in page("grid_worker").get(url(m)).content.decode()


def test_a_legal_transition_moves_the_matter(tree, page):
    m = raise_one(tree)
    client = page("village_secretary")
    r = client.post(url(m, "matters:transition"), {"transition": "accept", "comment": "马上办"})
    assert r.status_code == 302 and r["Location"] == url(m)
    m.refresh_from_db()
    assert m.stage == "handling"
    html = client.get(url(m)).content.decode()
    assert "已执行“受理”，事项进入“办理”环节。" in html and "马上办" in html
    # The next step requires an outcome: its form shows the fields it needs.
    assert 'name="outcome"' in html and 'name="outcome_text"' in html
    assert 'name="explanation"' in html


def test_htmx_transition_swaps_the_page_section(tree, page):
    m = raise_one(tree)
    r = page("village_secretary").post(url(m, "matters:transition"), {"transition": "accept"},
                                       headers={"HX-Request": "true"})
    html = r.content.decode()
    assert r.status_code == 200 and "<html" not in html and 'id="matter"' in html
    assert "已执行“受理”" in html


def test_illegal_transitions_are_refused_and_change_nothing(tree, page):
    m = raise_one(tree)
    before = Matter.objects.get(pk=m.pk).updated_at
    events = MatterEvent.objects.filter(matter=m).count()
    # A role that may not take it.
    r = page("grid_worker").post(url(m, "matters:transition"),
                                 {"transition": "decline", "comment": "不归我们管"})
    assert r.status_code == 400
    assert "您的角色不能在此环节执行“不予受理”。" in r.content.decode()
    # Not from this stage.
    r = page("village_secretary").post(url(m, "matters:transition"),
                                       {"transition": "give_feedback", "comment": "x"})
    assert r.status_code == 400
    assert "事项当前处于“登记受理”环节，不能执行此操作。" in r.content.decode()
    # Missing what it requires.
    r = page("village_secretary").post(url(m, "matters:transition"), {"transition": "decline"})
    assert r.status_code == 400 and "需要填写意见" in r.content.decode()
    m.refresh_from_db()
    assert m.stage == "intake" and m.updated_at == before
    assert MatterEvent.objects.filter(matter=m).count() == events


def test_cannot_be_solved_needs_the_explanation(tree, page):
    sec = tree.user("village_secretary")
    m = workflow.do_transition(raise_one(tree), "accept", acting_user=sec)
    client = page("village_secretary")
    r = client.post(url(m, "matters:transition"), {
        "transition": "report_result", "outcome": "unsolvable", "outcome_text": "超出村里能力"},
        headers={"HX-Request": "true"})
    assert "必须填写向群众所作的解释" in r.content.decode()
    assert "超出村里能力" in r.content.decode()  # what was typed is kept in the open form
    m.refresh_from_db()
    assert m.stage == "handling" and m.outcome == ""
    r = client.post(url(m, "matters:transition"), {
        "transition": "report_result", "outcome": "unsolvable", "outcome_text": "超出村里能力",
        "explanation": "需县里统一规划，已上报。"})
    assert r.status_code == 302
    m.refresh_from_db()
    assert m.stage == "feedback" and m.explanation == "需县里统一规划，已上报。"


def test_progress_notes(tree, page):
    m = raise_one(tree)
    client = page("grid_worker")
    r = client.post(url(m, "matters:note"), {"text": "已联系电工，明天来修。", "is_public": "1"})
    assert r.status_code == 302
    note = MatterEvent.objects.get(matter=m, kind="note")
    assert note.is_public and note.actor == tree.user("grid_worker")
    r = client.post(url(m, "matters:note"), {"text": ""}, headers={"HX-Request": "true"})
    assert "请填写进展内容。" in r.content.decode()
    # A supervisor reads the matter but does not handle it here.
    html = page("supervisor").get(url(m)).content.decode()
    assert "已联系电工" in html and "记录办理进展" not in html
    r = page("supervisor").post(url(m, "matters:note"), {"text": "越权"})
    assert r.status_code == 400 and MatterEvent.objects.filter(kind="note").count() == 1


def test_ordinary_reporter_phone_is_masked_for_those_who_do_not_handle(tree, page):
    m = raise_one(tree)
    html = page("supervisor").get(url(m)).content.decode()
    assert NAME in html and PHONE not in html and "136****1234" in html
    html = page("supervisor").post(url(m, "matters:reporter")).content.decode()
    assert PHONE not in html and "136****1234" in html
    assert PHONE in page("grid_worker").get(url(m)).content.decode()


def test_complaint_reporter_is_protected_and_every_view_audited(tree, page):
    m = raise_one(tree, ledger="complaint", title="清运公司不来收垃圾",
                  text="清运公司连续一周没有来收垃圾。", accused_organisation=tree.department)
    # The grid worker sees the matter, not who complained.
    html = page("grid_worker").get(url(m)).content.decode()
    assert "清运公司不来收垃圾" in html and NAME not in html and PHONE not in html
    assert "反映人身份受保护" in html
    r = page("grid_worker").post(url(m, "matters:reporter"))
    assert r.status_code == 403
    # The organisation complained about does not even see the matter.
    liaison = page("department_liaison")
    assert liaison.get(url(m)).status_code == 404
    assert liaison.post(url(m, "matters:reporter")).status_code == 404
    assert not AuditEvent.objects.filter(action="matters.reporter.view").exists()
    # The village secretary may see it: on asking, and each asking is audited.
    client = page("village_secretary")
    html = client.get(url(m)).content.decode()
    assert NAME not in html and "查看举报人身份" in html
    r = client.post(url(m, "matters:reporter"), headers={"HX-Request": "true"})
    html = r.content.decode()
    assert r.status_code == 200 and NAME in html and PHONE in html
    client.post(url(m, "matters:reporter"))
    views = AuditEvent.objects.filter(action="matters.reporter.view")
    assert views.count() == 2
    assert {e.actor_id for e in views} == {tree.user("village_secretary").pk}
    assert {e.object_id for e in views} == {str(m.pk)}


def test_a_secretary_of_the_accused_unit_cannot_see_the_reporter(tree, page):
    m = raise_one(tree, ledger="complaint", accused_organisation=tree.department)
    insider = do_create_user("insider", acting_user=None, county=tree.county,
                             organisation=tree.department)
    do_grant_role(insider, "village_secretary", tree.village, acting_user=None)
    assert page(insider).get(url(m)).status_code == 404
    assert page(insider).post(url(m, "matters:reporter")).status_code == 404


def test_staff_merge_a_duplicate_from_the_matter_page(tree, page):
    first = raise_one(tree)
    dup = raise_one(tree, title="村口路灯不亮了", reporter_name="孙二")
    html = page("village_cadre").get(url(dup)).content.decode()
    assert "可能重复的事项" in html and first.tracking_code in html
    # No merge permission, no merge.
    assert "可能重复的事项" not in page("grid_worker").get(url(dup)).content.decode()
    r = page("grid_worker").post(url(dup, "matters:merge"), {"into": first.pk})
    assert r.status_code == 400 and "您没有合并事项的权限。" in r.content.decode()
    r = page("village_cadre").post(url(dup, "matters:merge"), {"into": first.pk})
    assert r.status_code == 302 and r["Location"] == url(first)
    dup.refresh_from_db()
    assert dup.merged_into_id == first.pk and dup.is_closed
