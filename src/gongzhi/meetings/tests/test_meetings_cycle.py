"""A whole 议事 cycle over HTTP: a schedule makes a meeting (moved off a holiday), topics come
from a matter, a resident and staff, residents second them, the agenda freezes, a late topic
is refused unless urgent with a reason, sign-in, no vote without a quorum, votes pass and fail,
a consensus, resolutions become assigned matters, their progress shows on the public page, and
the minutes come out as a PDF."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.utils import timezone
from weasyprint import HTML

from gongzhi.core.models import CalendarOverride
from gongzhi.matters import workflow
from gongzhi.matters.actions import do_raise_matter
from gongzhi.matters.models import Channel, Ledger, Matter
from gongzhi.meetings.kinds import SHUOSHI, ensure_kinds
from gongzhi.meetings.minutes import minutes_html
from gongzhi.meetings.models import (
    Meeting,
    MeetingSchedule,
    MeetingStatus,
    Resolution,
    Topic,
    TopicSource,
    TopicStatus,
)
from gongzhi.notifications.models import Notification
from gongzhi.testing import login_client

from .meeting_helpers import month_end, next_month, resident, villager_reps

pytestmark = pytest.mark.django_db


def test_full_meeting_cycle(tree, client):
    sec = tree.user("village_secretary")
    staff = login_client(sec)
    res1 = tree.user("resident")
    res2 = resident(tree, "res_wang")
    r1, r2 = login_client(res1), login_client(res2)
    kinds = ensure_kinds(tree.county)
    # Six 村民代表 are invited to a 说事议事会 (quorum: more than half, i.e. 4); the first has an
    # account and gets the notices.
    villager_reps(tree, 6, with_user=res1)

    # --- the schedule: the 15th and 30th; next month's 15th and 16th are local holidays ------
    year, month = next_month()
    planned = dt.date(year, month, 15)
    CalendarOverride.objects.create(date=planned, is_workday=False, note="本地假日")
    CalendarOverride.objects.create(date=planned + dt.timedelta(days=1), is_workday=False)
    CalendarOverride.objects.create(date=planned + dt.timedelta(days=2), is_workday=True)
    r = staff.post("/meetings/schedules/", {
        "village": tree.village.pk, "title": "说事议事日", "kind": kinds[SHUOSHI].pk,
        "days": "15，30", "time": "09:00", "location": "村委会议室", "holiday_policy": "next"})
    assert r.status_code == 302
    schedule = MeetingSchedule.objects.get(village=tree.village)
    assert schedule.days_of_month == [15, 30]

    out = io.StringIO()
    call_command("meetings", "schedule", "--until", month_end(year, month).isoformat(), stdout=out)
    assert '"created"' in out.getvalue()
    meetings = Meeting.objects.filter(schedule=schedule)
    held_on = {timezone.localtime(m.starts_at).date() for m in meetings}
    assert planned not in held_on
    assert planned + dt.timedelta(days=2) in held_on  # moved to the next working day
    count = meetings.count()
    call_command("meetings", "schedule", "--until", month_end(year, month).isoformat(),
                 stdout=io.StringIO())
    assert Meeting.objects.filter(schedule=schedule).count() == count  # idempotent

    meeting = meetings.get(starts_at__date=planned + dt.timedelta(days=2))
    assert meeting.invited_count == 6
    assert meeting.freeze_at == meeting.starts_at - dt.timedelta(days=10)
    assert Notification.objects.filter(user=res1, event="meetings.notice",
                                       url=f"/meetings/{meeting.pk}/").count() == 1

    # --- topics: from a matter (staff), from a resident, from staff ---------------------------
    matter = do_raise_matter(place=tree.grid, title="村东头排水沟堵塞", text="下雨就积水",
                             channel=Channel.WALK_IN, ledger=Ledger.CLAIM, acting_user=sec)
    r = staff.post("/meetings/topics/propose/", {"matter": matter.pk})
    assert r.status_code == 302
    from_matter = Topic.objects.get(matter=matter)
    assert from_matter.source == TopicSource.MATTER and from_matter.title == matter.title

    r = r1.post("/meetings/topics/propose/", {"title": "修缮村文化广场的路灯",
                                              "description": "晚上跳广场舞太黑"})
    assert r.status_code == 302
    from_resident = Topic.objects.get(title="修缮村文化广场的路灯")
    assert from_resident.source == TopicSource.RESIDENT
    assert from_resident.village_id == tree.village.pk

    r = staff.post(f"/meetings/{meeting.pk}/agenda/new/", {"title": "制定村规民约修订方案"})
    assert r.status_code == 302
    from_staff = Topic.objects.get(title="制定村规民约修订方案")
    assert from_staff.source == TopicSource.STAFF and from_staff.meeting_id == meeting.pk

    # --- seconds: once each; not one's own ----------------------------------------------------
    r = r2.post(f"/meetings/topics/{from_resident.pk}/second/")
    assert r.status_code == 302
    r = r2.post(f"/meetings/topics/{from_resident.pk}/second/", follow=True)
    assert "您已经附议过这个议题。" in r.content.decode()
    r = r1.post(f"/meetings/topics/{from_resident.pk}/second/", follow=True)
    assert "不能附议自己提出的议题。" in r.content.decode()
    r = r1.post(f"/meetings/topics/{from_matter.pk}/second/", HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and "我已附议" in r.content.decode()
    from_resident.refresh_from_db()
    from_matter.refresh_from_db()
    assert from_resident.seconds_count == 1 and from_matter.seconds_count == 1
    page = r1.get("/meetings/topics/").content.decode()
    assert "修缮村文化广场的路灯" in page and "村东头排水沟堵塞" in page

    # --- the agenda, then the freeze ----------------------------------------------------------
    for t in (from_matter, from_resident):
        r = staff.post(f"/meetings/{meeting.pk}/agenda/add/", {"topic": t.pk})
        assert r.status_code == 302
    public = client.get(f"/meetings/public/{tree.village.pk}/").content.decode()
    assert "议题征集中" in public and "修缮村文化广场的路灯" not in public
    r = staff.post(f"/meetings/{meeting.pk}/freeze/")
    assert r.status_code == 302
    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.FROZEN
    public = client.get(f"/meetings/public/{tree.village.pk}/").content.decode()
    assert "修缮村文化广场的路灯" in public and "村东头排水沟堵塞" in public
    assert "制定村规民约修订方案" in public
    assert "u_resident" not in public and "res_wang" not in public  # no proposer names

    # A late topic: refused unless urgent and with a reason.
    r = r2.post("/meetings/topics/propose/", {"title": "村口垃圾清运不及时"})
    late = Topic.objects.get(title="村口垃圾清运不及时")
    r = staff.post(f"/meetings/{meeting.pk}/agenda/add/", {"topic": late.pk})
    assert r.status_code == 400
    assert "只能以紧急议题增补" in r.content.decode()
    r = staff.post(f"/meetings/{meeting.pk}/agenda/add/", {"topic": late.pk, "urgent": "1"})
    assert r.status_code == 400 and "紧急增补议题须说明理由。" in r.content.decode()
    late.refresh_from_db()
    assert late.status == TopicStatus.PROPOSED and late.meeting_id is None
    r = staff.post(f"/meetings/{meeting.pk}/agenda/add/",
                   {"topic": late.pk, "urgent": "1", "reason": "已有群众投诉，须在本次会议解决"})
    assert r.status_code == 302
    late.refresh_from_db()
    assert late.is_urgent and late.meeting_id == meeting.pk and late.order == 4

    # --- at the meeting -------------------------------------------------------------------------
    r = staff.post(f"/meetings/{meeting.pk}/open/", {"chair": "张书记", "recorder": "李会计"})
    assert r.status_code == 302
    invitations = list(meeting.invitations.order_by("pk"))
    for inv in invitations[:3]:
        r = staff.post(f"/meetings/{meeting.pk}/sign-in/{inv.pk}/", {"present": "1"},
                       HTTP_HX_REQUEST="true")
        assert r.status_code == 200
    assert "未达到法定人数，不能表决。" in r.content.decode()
    r = staff.post(f"/meetings/{meeting.pk}/topics/{from_matter.pk}/vote/",
                   {"votes_for": 3, "votes_against": 0})
    assert r.status_code == 400
    assert "未达到法定人数，不能表决。" in r.content.decode()
    r = staff.post(f"/meetings/{meeting.pk}/topics/{from_staff.pk}/consensus/")
    assert r.status_code == 400
    r = staff.post(f"/meetings/{meeting.pk}/sign-in/{invitations[3].pk}/", {"present": "1"},
                   HTTP_HX_REQUEST="true")
    assert "已达到法定人数，可以表决。" in r.content.decode()
    meeting.refresh_from_db()
    assert meeting.quorum_met

    r = staff.post(f"/meetings/{meeting.pk}/topics/{from_matter.pk}/discussion/",
                   {"discussion": "大家同意由供电公司和村里共同疏通"})
    assert r.status_code == 302
    r = staff.post(f"/meetings/{meeting.pk}/topics/{from_matter.pk}/vote/",
                   {"votes_for": 5, "votes_against": 0})
    assert r.status_code == 400 and "超过了到会的4人" in r.content.decode()
    r = staff.post(f"/meetings/{meeting.pk}/topics/{from_matter.pk}/vote/",
                   {"votes_for": 3, "votes_against": 1})
    assert r.status_code == 302
    r = staff.post(f"/meetings/{meeting.pk}/topics/{from_resident.pk}/vote/",
                   {"votes_for": 2, "votes_against": 2})
    assert r.status_code == 302
    r = staff.post(f"/meetings/{meeting.pk}/topics/{from_staff.pk}/consensus/")
    assert r.status_code == 302
    for t in (from_matter, from_resident, from_staff):
        t.refresh_from_db()
    assert from_matter.status == TopicStatus.DECIDED and from_matter.vote.passed
    assert from_resident.status == TopicStatus.REJECTED and not from_resident.vote.passed
    assert from_staff.vote.consensus and from_staff.vote.passed

    # --- resolutions become work ---------------------------------------------------------------
    day = timezone.localtime(meeting.starts_at).date()
    deadline = day + dt.timedelta(days=30)
    r = staff.post(f"/meetings/{meeting.pk}/topics/{from_resident.pk}/resolution/",
                   {"text": "x", "deadline": deadline.isoformat(), "responsible_name": "村委会"})
    assert r.status_code == 400 and "表决通过或协商一致后" in r.content.decode()
    r = staff.post(f"/meetings/{meeting.pk}/topics/{from_matter.pk}/resolution/", {
        "text": "由县供电公司牵头，月底前疏通排水沟", "deadline": deadline.isoformat(),
        "responsible_org": tree.department.pk, "adopt": "1"})
    assert r.status_code == 302
    res_matter = Resolution.objects.get(topic=from_matter)
    assert res_matter.matter_id == matter.pk  # the source matter carries the work
    matter.refresh_from_db()
    assert matter.stage_kind == "handling"
    assert matter.responsible_org_id == tree.department.pk
    assert timezone.localtime(matter.due_at).date() == deadline

    cadre = tree.user("village_cadre")
    r = staff.post(f"/meetings/{meeting.pk}/topics/{from_staff.pk}/resolution/", {
        "text": "两周内拿出村规民约修订草案", "deadline": (day + dt.timedelta(days=14)).isoformat(),
        "responsible_user": cadre.pk})
    assert r.status_code == 302
    res_staff = Resolution.objects.get(topic=from_staff)
    assert res_staff.matter_id is None
    r = staff.post(f"/meetings/{meeting.pk}/resolutions/{res_staff.pk}/adopt/")
    assert r.status_code == 302
    res_staff.refresh_from_db()
    new_matter = Matter.objects.get(pk=res_staff.matter_id)
    assert new_matter.channel == Channel.MEETING and new_matter.ledger == Ledger.SUGGESTION
    assert new_matter.village_id == tree.village.pk
    assert new_matter.responsible_user_id == cadre.pk and new_matter.stage_kind == "handling"
    assert new_matter.title == "制定村规民约修订方案"
    r = staff.post(f"/meetings/{meeting.pk}/resolutions/{res_staff.pk}/adopt/")
    assert r.status_code == 400 and "该决议已转为事项。" in r.content.decode()

    # --- close; the public page shows results and progress -------------------------------------
    r = staff.post(f"/meetings/{meeting.pk}/close/", {"notes": "会议顺利结束"})
    assert r.status_code == 302
    meeting.refresh_from_db()
    late.refresh_from_db()
    assert meeting.status == MeetingStatus.CLOSED and late.status == TopicStatus.DEFERRED
    published = Resolution.objects.filter(topic__meeting=meeting, published_at__isnull=False)
    assert published.count() == 2

    public = client.get(f"/meetings/public/{tree.village.pk}/{meeting.pk}/").content.decode()
    assert "由县供电公司牵头，月底前疏通排水沟" in public
    assert "25%" in public  # handling: second of five steps of the default workflow
    workflow.do_transition(matter, "report_result", acting_user=sec,
                           fields={"outcome": "solved", "outcome_text": "已疏通"})
    public = client.get(f"/meetings/public/{tree.village.pk}/").content.decode()
    assert "50%" in public

    # The matter page names the meeting that decided it.
    page = staff.get(f"/matters/{new_matter.pk}/").content.decode()
    assert f"由{meeting.title}" in page and "决议" in page

    # --- minutes --------------------------------------------------------------------------------
    r = staff.get(f"/meetings/{meeting.pk}/minutes.pdf")
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    assert r.content[:5] == b"%PDF-"
    html = minutes_html(meeting)
    assert len(HTML(string=html).render().pages) >= 1
    preview = staff.get(f"/meetings/{meeting.pk}/minutes/").content.decode()
    for inv in invitations[:4]:
        assert inv.member.name in preview
    assert "缺席" in preview and invitations[5].member.name in preview
    assert "赞成 3 票，反对 1 票，弃权 0 票（到会 4 人）" in preview
    assert "协商一致" in preview and "未通过" in preview
    assert "由县供电公司牵头，月底前疏通排水沟" in preview
    assert "13812341234" not in preview  # no phone numbers
    assert client.get(f"/meetings/{meeting.pk}/minutes.pdf").status_code == 302  # login first
