"""A resident says something from a phone, without an account, and tracks it by its code."""

import os
import re
from pathlib import Path

import pytest

from gongzhi.matters.actions import do_raise_matter, matter_settings
from gongzhi.matters.models import Category, Matter
from gongzhi.testing import build_tree

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


def test_resident_raises_a_matter_on_a_phone(browser_page, live_server, tmp_path):
    from playwright.sync_api import expect

    tree = build_tree()
    matter_settings(tree.county)
    earlier = do_raise_matter(place=tree.grid, title="村口路灯不亮", channel="walk_in",
                              text="村口那盏路灯坏了，晚上看不见路。", ledger="claim",
                              category=Category.objects.get(county=tree.county,
                                                            code="infrastructure"),
                              acting_user=tree.user("village_cadre"))
    page = browser_page

    def choose(select: str, label: str) -> None:
        """Pick an option of the place picker and wait for htmx to swap in the next choices."""
        with page.expect_response(re.compile(r"/places/")):
            page.select_option(select, label=label)
        expect(page.locator(".htmx-settling, .htmx-swapping, .htmx-request")).to_have_count(0)
    page.set_viewport_size(PHONE)

    page.goto(f"{live_server.url}/m/")
    page.get_by_role("link", name=re.compile("我要说事")).click()
    page.wait_for_url(re.compile(r"/m/\d+/say/"))
    # No sideways scrolling on a phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    # Town first, then the village list narrows (htmx), then the village's grids appear.
    choose("#id_town", "城关镇")
    expect(page.locator("#id_village option")).to_have_count(2)  # "请选择" and the one village
    choose("#id_village", "高城寨村")
    choose("#id_grid", "第一网格")

    # Choosing 投诉举报 says the reporter is protected.
    page.get_by_text("投诉举报", exact=True).click()
    assert page.locator(".shield-note").is_visible()
    page.get_by_text("利益诉求", exact=True).click()
    assert not page.locator(".shield-note").is_visible()

    page.select_option("#id_category", label="基础设施")
    page.get_by_text("急事急说").click()
    page.fill("#id_title", "村口路灯坏了一个月")
    page.fill("#id_text", "村口那盏路灯坏了一个月，晚上老人出门看不见路，希望尽快修好。")
    # Leaving the text box looks for open matters like it (htmx): shown, and "mine too".
    page.locator("#id_name").focus()
    expect(page.locator("#similar .hint-box")).to_be_visible()
    expect(page.locator("#similar")).to_contain_text("村口路灯不亮")
    page.get_by_label("这也是我要说的事").check()
    # A photo, chosen through the page's own button (the file input itself is hidden).
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    page.set_input_files("#id_attachments", files=[
        {"name": "路灯.png", "mimeType": "image/png", "buffer": png}])
    expect(page.locator(".file-names")).to_have_text("已选择：路灯.png")
    page.fill("#id_name", "张建国")
    page.fill("#id_phone", "13812341234")
    _shot(page, tmp_path, "matters-phone-raise.png")

    page.get_by_role("button", name="提交").click()
    page.wait_for_url(re.compile(r"/m/done/"))
    code = page.locator("#tracking-code").inner_text().strip()
    matter = Matter.objects.get(tracking_code=code)
    assert matter.channel == "web" and matter.urgency == "urgent"
    assert matter.grid_id == tree.grid.pk and matter.reporter_name == "张建国"
    assert matter.attributes["same_as"] == earlier.tracking_code and not matter.merged_into_id
    assert [f.name for f in matter.files.all()] == ["路灯.png"]
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    _shot(page, tmp_path, "matters-phone-done.png")

    page.get_by_role("link", name="查看办理进度").click()
    page.wait_for_url(re.compile(rf"/m/track/{code}/"))
    body = page.locator("body").inner_text()
    assert "村口路灯坏了一个月" in body and "登记事项" in body
    assert "张建国" not in body and "13812341234" not in body
    _shot(page, tmp_path, "matters-phone-track.png")
    errors = _own_errors(page)
    assert not errors, "\n".join(errors)
