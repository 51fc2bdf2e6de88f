"""The dashboards over HTTP: the numbers are compute()'s (on the hand-counted scenario of the
figures), access follows ``dashboards.view``, the period picker and the drill-down links."""

import re

import pytest

from gongzhi.figures.compute import compute, percent, rank
from gongzhi.figures.tests.scenario import NOW, T, at, build
from gongzhi.testing import login_client

MARCH = "?period=month&month=2025-03"


@pytest.fixture
def m(tree):
    return build(tree)


def get_json(client, url):
    with at(NOW):
        response = client.get(url)
    assert response.status_code == 200, response.content
    return response.json()


def test_the_county_dashboard_shows_computes_numbers(tree, m):
    client = login_client(tree.user("county_office"))
    data = get_json(client, f"/dashboards/{tree.county.pk}/data/{MARCH}")
    sets = ["matters", "handling_time", "satisfaction", "resolution", "summons", "overdue",
            "visits"]
    raw = compute(sets, tree.county, T(3, 1, 0), T(4, 1, 0), now=NOW, source="raw")["total"]
    # By hand (figures/tests/test_figures.py): 7 received, 4 closed, 2 满意 + 1 基本满意.
    assert (raw["received"], raw["closed"], raw["answered"]) == (7, 4, 3)
    for name, value in raw.items():
        assert data["totals"][name] == pytest.approx(value), name
    cards = {c["key"]: c for c in data["cards"]}
    assert cards["received"]["display"] == "7"
    assert cards["completion_rate"]["display"] == percent(4 / 7) == "57.1%"
    assert cards["on_time_rate"]["display"] == "75.0%"
    assert cards["satisfaction_rate"]["display"] == "100.0%"
    assert cards["check_in_rate"]["display"] == "50.0%"
    assert cards["overdue"]["value"] == raw["overdue"]
    assert data["satisfaction"]["no_answer"] == raw["no_answer"]

    # Children (towns), with the matter raised at the county level... none here; drill links.
    children = compute(["matters", "handling_time", "satisfaction", "overdue"], tree.county,
                       T(3, 1, 0), T(4, 1, 0), group_by="children", now=NOW, source="raw")
    assert [(r["key"], r["received"], r["overdue"]) for r in data["children"]] == [
        (r["key"], r["received"], r["overdue"]) for r in children["rows"]]
    town = next(r for r in data["children"] if r["key"] == tree.town.pk)
    assert town["received"] == 6 and town["url"] == f"/dashboards/{tree.town.pk}/"
    # The department league: compute's rows ranked with the minimum volume.
    departments = rank(compute(["matters", "handling_time", "satisfaction", "overdue"],
                               tree.county, T(3, 1, 0), T(4, 1, 0), group_by="department",
                               now=NOW, source="raw")["rows"], "completion_rate")
    assert [(r["key"], r["rank"], r["ranked"]) for r in data["departments"]] == [
        (r["key"], r["rank"], r["ranked"]) for r in departments]
    assert not any(r["ranked"] for r in data["departments"])  # fewer than 10 matters each
    # The trend: twelve months up to March 2025, March's own figures last.
    assert len(data["trend"]["labels"]) == 12 and data["trend"]["labels"][-1] == "2025年3月"
    assert data["trend"]["received"][-1] == 7 and data["trend"]["closed"][-1] == 4
    # Mixes add up to the matters received; the funnel counts the open matters now.
    assert sum(r["received"] for r in data["categories"]) == 7
    assert sum(r["received"] for r in data["channels"]) == 7
    assert sum(r["open"] for r in data["funnel"]) == raw["open"]
    assert data["heat"]["rows"] == ["第一网格", "第二网格", "东关一网格"]


def test_the_page_renders_cards_charts_and_drill_down(tree, m):
    client = login_client(tree.user("county_office"))
    with at(NOW):
        response = client.get(f"/dashboards/{tree.county.pk}/{MARCH}")
    assert response.status_code == 200
    html = response.content.decode()
    assert re.search(r'id="card-completion_rate"[^>]*><span class="stat-value">57.1%', html)
    assert 'id="dashboard-data"' in html and "dashboards/dashboard.js" in html
    assert "vendor/echarts.min.js" in html
    # No inline script but the JSON data (json_script is not executed).
    for tag in re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html):
        assert 'type="application/json"' in tag or "nonce=" in tag
    # Drill down keeps the period; breadcrumbs lead back up.
    assert f'href="/dashboards/{tree.town.pk}/?period=month&amp;month=2025-03"' in html
    with at(NOW):
        town_page = client.get(f"/dashboards/{tree.town.pk}/{MARCH}")
    assert town_page.status_code == 200
    assert f'href="/dashboards/{tree.county.pk}/?period=month' in town_page.content.decode()
    # The index goes to the user's highest place.
    index = client.get("/dashboards/")
    assert index.status_code == 302 and index["Location"] == f"/dashboards/{tree.county.pk}/"


def test_access(tree):
    village = f"/dashboards/{tree.village.pk}/data/"
    assert login_client(tree.user("village_secretary")).get(village).status_code == 200
    # A village secretary sees nothing above or beside the village.
    secretary = login_client(tree.user("village_secretary"))
    assert secretary.get(f"/dashboards/{tree.town.pk}/data/").status_code == 404
    assert secretary.get(f"/dashboards/{tree.other_village.pk}/").status_code == 404
    assert secretary.get(f"/dashboards/{tree.grid.pk}/data/").status_code == 200
    # Roles without the permission are refused.
    for role in ("grid_worker", "resident", "department_liaison"):
        assert login_client(tree.user(role)).get(village).status_code == 403
        assert login_client(tree.user(role)).get("/dashboards/").status_code == 403
    # Signed-out: to the login page.
    from django.test import Client

    assert Client().get(village).status_code == 302
    # A household is no dashboard.
    county = login_client(tree.user("county_office"))
    assert county.get(f"/dashboards/{tree.household.place.pk}/").status_code == 404


def test_periods(tree):
    client = login_client(tree.user("town_secretary"))
    url = f"/dashboards/{tree.town.pk}/data/"
    q = client.get(url + "?period=quarter&quarter=2025-Q2").json()["period"]
    assert (q["start"], q["end"], q["label"]) == ("2025-04-01", "2025-07-01", "2025年第2季度")
    y = client.get(url + "?period=year&year=2024").json()["period"]
    assert (y["start"], y["end"]) == ("2024-01-01", "2025-01-01")
    c = client.get(url + "?period=custom&start=2025-03-05&end=2025-03-19").json()
    assert (c["period"]["start"], c["period"]["end"]) == ("2025-03-05", "2025-03-20")
    bad = client.get(url + "?period=custom&start=2025-03-19&end=2025-03-05")
    assert bad.status_code == 400 and bad.json()["detail"] == "结束日期不能早于开始日期。"
    assert client.get(url + "?period=month&month=2025-13").status_code == 400
    page = client.get(f"/dashboards/{tree.town.pk}/?period=quarter&quarter=2025-Q9")
    assert page.status_code == 400 and "统计周期的日期格式不正确。" in page.content.decode()


def test_nav_entry(tree):
    html = login_client(tree.user("county_office")).get("/").content.decode()
    assert 'href="/dashboards/"' in html
    html = login_client(tree.user("grid_worker")).get("/").content.decode()
    assert 'href="/dashboards/"' not in html
