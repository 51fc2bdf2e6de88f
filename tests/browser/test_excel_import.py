"""Importing the village spreadsheet in a real browser: errors shown, nothing written; then done."""

from __future__ import annotations

import pytest
from openpyxl import Workbook

from gongzhi.places import excel
from gongzhi.places.models import Person
from gongzhi.places.validators import id_number_check_digit
from gongzhi.testing import build_tree

pytestmark = pytest.mark.browser


def _id(first17: str) -> str:
    return first17 + id_number_check_digit(first17)


def _sheet(path, rows) -> str:
    wb = Workbook()
    wb.active.append(list(excel.HEADERS))
    for r in rows:
        wb.active.append(r)
    wb.save(path)
    return str(path)


def test_upload_check_fix_and_confirm(browser_page, browser_login, live_server, tmp_path,
                                      settings):
    settings.GONGZHI_IMPORT_STAGING_DIR = tmp_path / "staging"
    tree = build_tree()
    page = browser_login(browser_page, tree.user("village_secretary"))
    good = ["第一网格", "一组", "高城寨村12号", "1", "党员户", "刘振华", "户主", "", "",
            _id("11010519650308011"), "13800001111", "中共党员", "", ""]
    bad = ["第一网格", "", "高城寨村13号", "2", "一般户", "周敏", "户主", "", "",
           "110105196503080110", "", "", "", ""]
    page.goto(f"{live_server.url}/places/{tree.village.pk}/import/")
    page.set_input_files("input[name=file]", _sheet(tmp_path / "bad.xlsx", [good, bad]))
    page.get_by_role("button", name="上传并检查").click()
    page.wait_for_load_state()
    assert "第 3 行" in page.locator("section.errors").inner_text()
    assert not Person.objects.filter(name="刘振华").exists()

    bad[9] = ""
    page.set_input_files("input[name=file]", _sheet(tmp_path / "good.xlsx", [good, bad]))
    page.get_by_role("button", name="上传并检查").click()
    page.wait_for_load_state()
    assert "新建 2 户、2 人" in page.content()
    page.get_by_role("button", name="确认导入").click()
    page.wait_for_load_state()
    assert "已导入 2 户、2 人" in page.content()
    assert Person.objects.filter(name__in=["刘振华", "周敏"]).count() == 2
    assert page.errors == []
