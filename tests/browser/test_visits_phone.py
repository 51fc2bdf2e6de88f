"""A grid worker records a visit at the door, on a phone: finds the household, ticks who was
met, writes what was heard with a photo, and turns the need into a matter in the same step."""

import os
import re
import struct
import zlib
from pathlib import Path

import pytest

from gongzhi.matters.models import Matter
from gongzhi.testing import build_tree
from gongzhi.visits.models import Visit

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


def _png(width: int = 48, height: int = 32, rgb: tuple[int, int, int] = (166, 30, 30)) -> bytes:
    """A small valid PNG, as a phone's camera would send (in miniature)."""
    raw = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))

    def chunk(tag: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + tag + data
                + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw))
            + chunk(b"IEND", b""))


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


def test_grid_worker_records_a_visit_on_a_phone(browser_page, browser_login, live_server,
                                                 tmp_path, settings):
    from playwright.sync_api import expect

    settings.MEDIA_ROOT = tmp_path / "media"
    tree = build_tree()
    worker = tree.user("grid_worker")
    page = browser_page
    page.set_viewport_size(PHONE)
    browser_login(page, worker, next_path="/visits/new/")
    page.wait_for_url(re.compile(r"/visits/new/"))
    _no_sideways_scroll(page)
    # Nothing typed yet: the households most due a visit are offered (this one has a disabled
    # member: 重点关爱).
    expect(page.locator("#household-list")).to_contain_text("高城寨村1号")
    expect(page.locator("#household-list")).to_contain_text("重点关爱")

    # Typing the head's name narrows the list as one types (htmx).
    with page.expect_response(re.compile(r"/visits/households/search/")):
        page.fill("#household-q", "张建")
    expect(page.locator("#household-list li")).to_have_count(1)
    page.locator("#household-list a").click()
    page.wait_for_url(re.compile(r"\?household=\d+"))
    expect(page.locator("#chosen-household")).to_contain_text("高城寨村1号")

    # Who was met: ticking 无人在家 clears and disables the people; ticking a person clears it.
    page.get_by_text("无人在家", exact=True).click()
    assert page.locator('input[name="met"]').first.is_disabled()
    page.get_by_text("无人在家", exact=True).click()
    page.get_by_text("李秀英").click()
    page.get_by_text("特殊群体关爱", exact=True).click()
    page.fill("#id_notes",
              "李秀英的轮椅坏了，出门困难，希望帮忙申请一辆新的。联系电话13812345678。")
    page.set_input_files("#id_photos", files=[
        {"name": "轮椅.png", "mimeType": "image/png", "buffer": _png()}])
    expect(page.locator("[data-file-names]")).to_have_text("已选择：轮椅.png")
    # The matter's fields appear only when asked for.
    assert not page.locator("#id_matter_title").is_visible()
    page.get_by_text("这条需求要办理，登记为事项").click()
    page.fill("#id_matter_title", "帮残疾人申请轮椅")
    _no_sideways_scroll(page)
    _shot(page, tmp_path, "visits-phone-record.png")

    page.get_by_role("button", name="保存走访").click()
    page.wait_for_url(re.compile(r"/visits/\d+/$"))
    visit = Visit.objects.get()
    matter = Matter.objects.get()
    assert (visit.kind, visit.household_id, visit.visitor_id) == (
        "special_group", tree.household.pk, worker.pk)
    assert [p.name for p in visit.met.all()] == ["李秀英"]
    assert [p.name for p in visit.photos.all()] == ["轮椅.png"]
    assert matter.channel == "visit" and matter.visit_link.visit_id == visit.pk
    assert matter.reporter_person.name == "李秀英"
    body = page.locator("main").inner_text()
    assert matter.tracking_code in body and "帮残疾人申请轮椅" in body
    assert "138****5678" in body and "13812345678" not in body  # masked for a grid worker
    expect(page.locator(".msg-success")).to_contain_text(matter.tracking_code)
    # The photo is shown through the visit's own address (it loads: the browser decoded it).
    assert page.locator(".photo-grid img").evaluate("img => img.naturalWidth") == 48
    _no_sideways_scroll(page)
    _shot(page, tmp_path, "visits-phone-detail.png")

    # My visits: this week's count against the quota of five.
    page.goto(f"{live_server.url}/visits/")
    expect(page.locator("#week-count")).to_contain_text("1")
    expect(page.locator("#week-count")).to_contain_text("/ 5")
    _no_sideways_scroll(page)
    _shot(page, tmp_path, "visits-phone-index.png")
    errors = _own_errors(page)
    assert not errors, "\n".join(errors)
