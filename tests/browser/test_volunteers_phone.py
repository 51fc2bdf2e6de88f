"""A resident signs up for a volunteer activity on a phone, checks in on site with the code the
organiser shows, and sees it under their sign-ups; then cancels nothing, oversells nothing."""

import datetime as dt
import os
import re
from pathlib import Path

import pytest
from django.utils import timezone

from gongzhi.points.actions import do_adopt_rules
from gongzhi.testing import build_tree
from gongzhi.volunteers import actions
from gongzhi.volunteers.models import Signup

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


def _own_errors(page) -> list[str]:
    return [e for e in page.errors if "favicon" not in e]


def _shot(page, tmp_path, name: str) -> Path:
    """Screenshots go to the test's directory, or to GONGZHI_SCREENSHOTS when set (to look)."""
    folder = Path(os.environ.get("GONGZHI_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 5_000
    return path


def _no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_resident_signs_up_and_checks_in_on_a_phone(browser_page, browser_login, live_server,
                                                     tmp_path):
    from playwright.sync_api import expect

    tree = build_tree()
    do_adopt_rules(tree.village, "default", acting_user=None)
    cadre = tree.user("village_cadre")
    now = timezone.now()
    team = actions.do_create_team(tree.village, name="关爱老人服务队", kind="elderly",
                                  acting_user=cadre)
    activity = actions.do_create_activity(
        tree.village, title="为孤寡老人打扫庭院", address="高城寨村文化广场",
        starts_at=now + dt.timedelta(minutes=10), ends_at=now + dt.timedelta(hours=2), slots=2,
        team=team, acting_user=cadre)
    activity = actions.do_publish_activity(activity, acting_user=cadre)
    resident = tree.user("resident")

    page = browser_page
    page.set_viewport_size(PHONE)
    browser_login(page, resident, next_path="/volunteers/")
    page.wait_for_url(re.compile(r"/volunteers/$"))
    expect(page.locator("#activity-list")).to_contain_text("为孤寡老人打扫庭院")
    expect(page.locator("#activity-list")).to_contain_text("剩余 2 个名额")
    _no_sideways_scroll(page)
    _shot(page, tmp_path, "volunteers-phone-index.png")

    page.locator("#activity-list a", has_text="为孤寡老人打扫庭院").click()
    page.wait_for_url(re.compile(rf"/volunteers/activities/{activity.pk}/$"))
    # The organiser's code is not on a resident's page.
    assert activity.code not in page.locator("main").inner_text()
    page.locator("#sign-up").click()
    expect(page.locator(".msg-success")).to_contain_text("报名成功")
    expect(page.locator("#slots-left")).to_contain_text("剩余 1")
    signup = Signup.objects.get()
    assert (signup.user_id, signup.household_id, signup.status) == (
        resident.pk, tree.household.pk, "signed_up")
    _no_sideways_scroll(page)

    # On site: a wrong code is refused with a sentence, the right one checks in.
    page.fill("#id_code", "000")
    page.get_by_role("button", name="签到").click()
    expect(page.locator(".msg-error")).to_contain_text("签到码不对")
    page.fill("#id_code", activity.code)
    page.get_by_role("button", name="签到").click()
    expect(page.locator(".msg-success")).to_contain_text("签到成功")
    expect(page.locator("#signup-state")).to_contain_text("签到")
    expect(page.get_by_role("button", name="签退")).to_be_visible()
    signup.refresh_from_db()
    assert signup.checked_in_at is not None
    _no_sideways_scroll(page)
    _shot(page, tmp_path, "volunteers-phone-checked-in.png")

    # Scanning the organiser's QR code opens the same page with the code filled in.
    page.goto(f"{live_server.url}/volunteers/activities/{activity.pk}/?code={activity.code}")
    expect(page.locator("#id_code")).to_have_value(activity.code)

    page.goto(f"{live_server.url}/volunteers/")
    expect(page.locator("#my-signup-list")).to_contain_text("为孤寡老人打扫庭院")
    expect(page.locator("#my-signup-list")).to_contain_text("已签到")
    _no_sideways_scroll(page)
    errors = _own_errors(page)
    assert not errors, "\n".join(errors)
