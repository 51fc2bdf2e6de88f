"""The county office opens the county dashboard in a real browser: the charts are drawn, the
figure cards show the scenario's hand-counted numbers, and a click on a town drills down."""

import pytest

from gongzhi.figures.tests.scenario import build
from gongzhi.testing import build_tree

pytestmark = pytest.mark.browser
MARCH = "?period=month&month=2025-03"


def _own_errors(page) -> list[str]:
    return [e for e in page.errors if "favicon" not in e]


def test_county_dashboard_draws_and_drills_down(browser_page, browser_login, live_server):
    from playwright.sync_api import expect

    tree = build_tree()
    build(tree)  # March 2025: 7 matters received, 4 closed (3 on time), 满意 2 + 基本满意 1
    page = browser_page
    browser_login(page, tree.user("county_office"),
                  next_path=f"/dashboards/{tree.county.pk}/{MARCH}")
    expect(page.locator("#dashboard-title")).to_contain_text("测试县")

    cards = {"received": "7", "completion_rate": "57.1%", "on_time_rate": "75.0%",
             "satisfaction_rate": "100.0%", "check_in_rate": "50.0%"}
    for key, shown in cards.items():
        expect(page.locator(f"#card-{key} .stat-value")).to_have_text(shown)
    expect(page.locator("#satisfaction-note")).to_contain_text("未评价 0 件")

    # ECharts drew every chart on a canvas.
    for chart in ("trend", "satisfaction", "category", "channel", "funnel", "overdue",
                  "children", "heat"):
        expect(page.locator(f"#chart-{chart} canvas").first).to_be_attached()
    assert page.evaluate("typeof window.echarts") == "object"

    # The period picker shows the month field for a month.
    expect(page.locator("label[data-for=month]")).to_be_visible()
    expect(page.locator("label[data-for=year]")).to_be_hidden()

    # Drill down: the town's dashboard for the same month, with breadcrumbs back up.
    with page.expect_navigation():
        page.locator("#children-table a.drill", has_text="城关镇").click()
    assert f"/dashboards/{tree.town.pk}/" in page.url and "month=2025-03" in page.url
    expect(page.locator("#dashboard-title")).to_contain_text("城关镇")
    expect(page.locator("#card-received .stat-value")).to_have_text("6")  # H too (town-level)
    expect(page.locator("nav.crumbs a", has_text="测试县")).to_be_visible()
    expect(page.locator("#chart-children canvas").first).to_be_attached()
    assert _own_errors(page) == []
