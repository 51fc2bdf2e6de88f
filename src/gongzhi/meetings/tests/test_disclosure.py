"""三务公开 over HTTP: publishing, the public page, the legal rhythm as a county policy,
coverage per period, and the idempotent reminders."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from gongzhi.accounts.actions import do_create_user, do_grant_role
from gongzhi.meetings.disclosure import (
    DEFAULT_RHYTHM,
    coverage,
    disclosure_reminders_task,
    period_containing,
    previous_period,
    status_of,
)
from gongzhi.meetings.models import Disclosure, DisclosurePolicy
from gongzhi.notifications.models import Notification
from gongzhi.places.models import Place
from gongzhi.testing import login_client

pytestmark = pytest.mark.django_db

D = dt.date


def _publish(client, village, **data):
    today = timezone.localdate()
    start, _end = period_containing(today, "month")
    payload = {"domain": "finance", "title": "本月财务收支", "content": "收入1万元，支出5千元。",
               "period_start": start.isoformat(), "period_end": today.isoformat()}
    payload.update(data)
    return client.post(reverse("meetings:disclosure_publish", args=[village.pk]), payload)


def _registered_long_ago(tree) -> None:
    """The villages joined two years ago, so every recent period is owed."""
    Place.objects.filter(kind="village").update(
        created_at=timezone.now() - dt.timedelta(days=730))


def _next_month_day(day: int) -> dt.date:
    """A day of next month: its previous month is the current one."""
    _start, end = period_containing(timezone.localdate(), "month")
    return end + dt.timedelta(days=day)


def test_periods_and_status_rule():
    assert period_containing(D(2026, 2, 14), "month") == (D(2026, 2, 1), D(2026, 2, 28))
    assert period_containing(D(2026, 5, 3), "quarter") == (D(2026, 4, 1), D(2026, 6, 30))
    assert period_containing(D(2026, 5, 3), "year") == (D(2026, 1, 1), D(2026, 12, 31))
    assert previous_period(D(2026, 1, 5), "month") == (D(2025, 12, 1), D(2025, 12, 31))
    assert previous_period(D(2026, 1, 5), "quarter") == (D(2025, 10, 1), D(2025, 12, 31))
    start, end, due = D(2026, 3, 1), D(2026, 3, 31), D(2026, 4, 10)
    assert status_of(start, end, due, None, D(2026, 3, 20)) == "open"
    assert status_of(start, end, due, None, D(2026, 4, 10)) == "due"
    assert status_of(start, end, due, None, D(2026, 4, 11)) == "overdue"
    assert status_of(start, end, due, D(2026, 4, 10), D(2026, 5, 1)) == "covered"
    assert status_of(start, end, due, D(2026, 4, 11), D(2026, 5, 1)) == "late"
    assert DEFAULT_RHYTHM.by_domain == {"party": "quarter", "village": "quarter",
                                        "finance": "month"}
    assert DEFAULT_RHYTHM.due_days == 10


def test_publish_and_the_public_page(tree):
    client = login_client(tree.user("village_secretary"))
    page = reverse("meetings:disclosure_village", args=[tree.village.pk])
    assert "本期进行中" in client.get(page).content.decode()
    resp = _publish(client, tree.village, content="收入1万元；经手人电话13812341234。")
    assert resp.status_code == 302, resp.content.decode()[:500]
    item = Disclosure.objects.get(village=tree.village)
    assert item.published_at and item.domain == "finance" and not item.is_major
    body = client.get(page).content.decode()
    assert "已按期公开" in body and "本月财务收支" in body
    # The public page: no login, phone masked, a town or an unknown id is no village page.
    public = Client().get(reverse("meetings:public_disclosures", args=[tree.village.pk]))
    assert public.status_code == 200
    text = public.content.decode()
    assert "本月财务收支" in text and "138****1234" in text and "13812341234" not in text
    assert Client().get(reverse("meetings:public_disclosures",
                                args=[tree.town.pk])).status_code == 404
    assert Client().get(reverse("meetings:public_disclosures",
                                args=[999999])).status_code == 404
    # Nothing of another village.
    other = Client().get(reverse("meetings:public_disclosures", args=[tree.other_village.pk]))
    assert "本月财务收支" not in other.content.decode()


def test_refusals_show_their_sentence(tree):
    client = login_client(tree.user("village_secretary"))
    resp = _publish(client, tree.village, title="")
    assert resp.status_code == 400 and "请填写公开事项的标题" in resp.content.decode()
    future = timezone.localdate() + dt.timedelta(days=40)
    resp = _publish(client, tree.village, period_start=future.isoformat(),
                    period_end=future.isoformat())
    assert resp.status_code == 400 and "不能公开尚未开始的期间" in resp.content.decode()
    resp = _publish(client, tree.village, period_start="", period_end="")
    assert resp.status_code == 400 and "请填写公开内容所属的期间" in resp.content.decode()
    assert not Disclosure.objects.exists()


def test_major_item_is_published_at_once_outside_the_rhythm(tree):
    client = login_client(tree.user("village_cadre"))
    resp = _publish(client, tree.village, domain="village", title="村集体土地流转", is_major="on",
                    period_start="", period_end="")
    assert resp.status_code == 302
    item = Disclosure.objects.get()
    today = timezone.localdate()
    assert item.is_major and item.period_start == item.period_end == today and item.published_at
    # It does not stand for the quarter's routine 村务 disclosure.
    cov = coverage([tree.village], today)[tree.village.pk]["village"]
    assert cov[0].status == "open" and cov[0].items == []


def test_reminders_are_idempotent(tree):
    _registered_long_ago(tree)
    secretary = tree.user("village_secretary")
    overdue_day = _next_month_day(15)  # the current month is then past its due date
    call_command("disclosures", "remind", "--date", overdue_day.isoformat())
    notes = Notification.objects.filter(user=secretary, event="disclosure_overdue")
    assert notes.count() == 3  # 党务, 村务 and 财务 of the village
    assert any("财务公开已逾期" in n.title for n in notes)
    call_command("disclosures", "remind", "--date", overdue_day.isoformat())
    disclosure_reminders_task.enqueue(overdue_day.isoformat())
    assert Notification.objects.filter(user=secretary, event="disclosure_overdue").count() == 3
    # Nobody else is told (the other village has no secretary; cadres are not secretaries).
    assert Notification.objects.filter(event="disclosure_overdue").count() == 3


def test_covered_period_sends_nothing_and_due_comes_before_overdue(tree):
    _registered_long_ago(tree)
    secretary = tree.user("village_secretary")
    client = login_client(secretary)
    assert _publish(client, tree.village).status_code == 302  # this month's 财务
    due_day = _next_month_day(3)  # next month's 3rd: this month is due by the 10th
    call_command("disclosures", "remind", "--date", due_day.isoformat())
    titles = list(Notification.objects.filter(user=secretary).values_list("event", "title"))
    assert not any("财务" in t for _e, t in titles)
    overdue_day = _next_month_day(15)
    call_command("disclosures", "remind", "--date", overdue_day.isoformat())
    assert not Notification.objects.filter(user=secretary, title__contains="财务").exists()


def test_due_reminder(tree):
    _registered_long_ago(tree)
    secretary = tree.user("village_secretary")
    due_day = _next_month_day(3)
    call_command("disclosures", "remind", "--date", due_day.isoformat())
    call_command("disclosures", "remind", "--date", due_day.isoformat())
    due = Notification.objects.filter(user=secretary, event="disclosure_due")
    assert due.filter(title__contains="财务公开应在").count() == 1


def test_periods_before_the_village_joined_are_not_owed(tree):
    secretary = tree.user("village_secretary")
    today = timezone.localdate()
    call_command("disclosures", "remind", "--date", today.isoformat())
    assert not Notification.objects.filter(user=secretary).exists()
    _registered_long_ago(tree)
    call_command("disclosures", "remind", "--date", today.isoformat())
    events = Notification.objects.filter(user=secretary).values_list("event", flat=True)
    assert len(events) == 3 and set(events) <= {"disclosure_due", "disclosure_overdue"}


def test_rhythm_is_a_county_policy_within_the_law(tree):
    url = reverse("meetings:disclosure_rhythm")
    county = login_client(tree.user("county_office"))
    assert county.get(url).status_code == 200
    form = {"county": tree.county.pk, "party": "quarter", "village": "year",
            "finance": "month", "due_days": 10}
    resp = county.post(url, form)
    assert resp.status_code == 400 and "村务至少每季度公开一次" in resp.content.decode()
    assert not DisclosurePolicy.objects.exists()
    resp = county.post(url, {**form, "village": "quarter", "finance": "quarter", "due_days": 15})
    assert resp.status_code == 302
    policy = DisclosurePolicy.objects.get(county=tree.county)
    assert (policy.finance, policy.due_days) == ("quarter", 15)
    # Finance is now quarterly: the coverage page shows quarters for 财务.
    secretary = login_client(tree.user("village_secretary"))
    body = secretary.get(reverse("meetings:disclosure_village",
                                 args=[tree.village.pk])).content.decode()
    assert "财务" in body and "季度" in body
    # Only the county sets it.
    assert secretary.get(url).status_code == 403
    assert secretary.post(url, form).status_code == 403


def test_overview_lists_the_villages_in_reach(tree):
    county = login_client(tree.user("county_office"))
    body = county.get(reverse("meetings:disclosures")).content.decode()
    assert tree.village.name in body and tree.other_village.name in body
    town = login_client(tree.user("town_secretary"))
    body = town.get(reverse("meetings:disclosures")).content.decode()
    assert tree.village.name in body and tree.other_village.name not in body


def test_access(tree):
    village_page = reverse("meetings:disclosure_village", args=[tree.village.pk])
    resident = login_client(tree.user("resident"))
    assert resident.get(reverse("meetings:disclosures")).status_code == 403
    assert resident.get(village_page).status_code == 403
    assert _publish(resident, tree.village).status_code == 403
    assert resident.get(reverse("meetings:public_disclosures",
                                args=[tree.village.pk])).status_code == 200
    grid = login_client(tree.user("grid_worker"))
    assert grid.get(village_page).status_code == 200
    assert _publish(grid, tree.village).status_code == 403
    other = do_create_user("other_sec", acting_user=None)
    do_grant_role(other, "village_secretary", tree.other_village, acting_user=None)
    other_client = login_client(other)
    assert other_client.get(village_page).status_code == 404
    assert _publish(other_client, tree.village).status_code == 404
    assert not Disclosure.objects.exists()
    # The API answers the same way.
    from gongzhi.testing import api_client

    api, headers = api_client(other)
    resp = api.get(f"/api/v1/disclosures/coverage/{tree.village.pk}", headers=headers)
    assert resp.status_code == 404
    api, headers = api_client(tree.user("village_secretary"))
    resp = api.get(f"/api/v1/disclosures/coverage/{tree.village.pk}", headers=headers)
    assert resp.status_code == 200
    assert {p["domain"] for p in resp.json()["periods"]} == {"party", "village", "finance"}


def test_public_page_queries_do_not_grow_with_items(tree):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = login_client(tree.user("village_secretary"))
    url = reverse("meetings:public_disclosures", args=[tree.village.pk])
    _publish(client, tree.village, title="第一项")
    with CaptureQueriesContext(connection) as one:
        assert Client().get(url).status_code == 200
    for i in range(5):
        _publish(client, tree.village, title=f"另一项{i}", domain="village")
    with CaptureQueriesContext(connection) as six:
        assert Client().get(url).status_code == 200
    assert len(six) == len(one)
