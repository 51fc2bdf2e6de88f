"""Logging in and switching language in a real browser."""

import re
import shutil
import subprocess

import pytest

from gongzhi.accounts.roles import Role
from gongzhi.testing import build_tree

pytestmark = pytest.mark.browser
CJK = re.compile(r"[\u4e00-\u9fff]")


def _own_errors(page) -> list[str]:
    """Console errors, less the browser asking for a favicon the site does not have."""
    return [e for e in page.errors if "favicon" not in e]


def test_a_chinese_font_is_installed(chromium_path):
    # Without one, every page and screenshot shows Chinese as empty boxes.
    assert shutil.which("fc-list")
    fonts = subprocess.run(
        ["fc-list", ":lang=zh", "family"], capture_output=True, text=True, check=True
    ).stdout
    assert fonts.strip(), "fc-list :lang=zh found no font"


def test_login_lands_on_the_workbench_in_chinese(
    browser_page, browser_login, live_server, tmp_path
):
    tree = build_tree()
    user = tree.user(Role.GRID_WORKER)
    page = browser_page

    page.goto(f"{live_server.url}/")
    assert "/accounts/login/" in page.url  # the workbench asks for a login first
    browser_login(page, user)

    assert page.url == f"{live_server.url}/"
    assert page.locator("html").get_attribute("lang") == "zh-Hans"
    heading = page.locator("h1").first.inner_text()
    assert CJK.search(heading), heading
    assert user.display_name in page.locator("body").inner_text()
    shot = tmp_path / "workbench.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 5_000
    errors = _own_errors(page)
    assert not errors, "\n".join(errors)


def test_wrong_password_stays_on_the_login_page(browser_page, browser_login, live_server):
    tree = build_tree()
    page = browser_login(browser_page, tree.user(Role.RESIDENT), password="not-the-password")

    assert "/accounts/login/" in page.url
    assert page.locator("input[name=password]").is_visible()
    assert "sessionid" not in {c["name"] for c in page.context.cookies()}
    page.goto(f"{live_server.url}/")
    assert "/accounts/login/" in page.url


def test_language_switch_to_english_and_back(browser_page, browser_login, live_server):
    tree = build_tree()
    page = browser_login(browser_page, tree.user(Role.VILLAGE_CADRE))
    assert page.locator("html").get_attribute("lang") == "zh-Hans"

    select = page.locator("select[name=language]")
    with page.expect_navigation():
        select.select_option("en")  # the page submits the switch by itself
    assert page.url == f"{live_server.url}/"
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("select[name=language]").input_value() == "en"

    with page.expect_navigation():
        page.locator("select[name=language]").select_option("zh-hans")
    assert page.locator("html").get_attribute("lang") == "zh-Hans"
    assert CJK.search(page.locator("h1").first.inner_text())
    errors = _own_errors(page)
    assert not errors, "\n".join(errors)
