"""Coverage: households not visited for N days, special groups first, by grid.

Today is 12 March 2025. In the village:

- 门牌1号 (first grid; 李秀英 is disabled): visited 3 March, 9 days ago;
- 门牌2号 (second grid; 王桂兰 lives alone, 孤寡老人): never visited;
- 16号 (first grid; a left-behind child): visited 20 January, 51 days ago;
- 11号 (first grid): visited 1 February, 39 days ago;
- 12–15号 (first grid): never visited.

Not visited for 30 days: the special ones first — 16号 (first grid) then 2号 (second grid) —
then, in the first grid, the never visited 12–15号 and then 11号. 1号 was visited recently.
For 90 days: 2号, then 12–15号.
"""

import re

import pytest

from gongzhi.accounts.actions import do_create_user, do_grant_role
from gongzhi.places.actions import do_create_household
from gongzhi.testing import login_client

from .conftest import D, visit


@pytest.fixture
def seen(village, today):
    t = village
    gw = t.user("grid_worker")
    visit(gw, t.household, D(3, 3))
    visit(gw, t.extra[5], D(1, 20))
    visit(gw, t.extra[0], D(2, 1))
    visit(gw, t.extra[0], D(1, 5))  # an older visit: the last one counts
    return t


def listed(html: str) -> list[int]:
    return [int(x) for x in re.findall(r'data-household="(\d+)"', html)]


def test_not_visited_for_30_and_90_days(seen, django_assert_max_num_queries):
    t = seen
    client = login_client(t.user("village_secretary"))
    # session, user, grants, the place, the count and the page of households, their special
    # groups, the summary by grid and its grids, the crumbs, the notifications badge
    with django_assert_max_num_queries(11) as first:
        html = client.get("/visits/coverage/").content.decode()
    queries = len(first.captured_queries)  # read now: the next request resets the log
    e = [h.pk for h in t.extra]
    assert listed(html) == [e[5], t.household2.pk, e[1], e[2], e[3], e[4], e[0]]
    assert "从未走访" in html and "39 天前" in html and "留守儿童" in html and "孤寡老人" in html
    # By grid: the first grid has 7 households, 6 not visited for 30 days, one of them special.
    summary = re.search(r'id="coverage-summary".*?</table>', html, re.S).group(0)
    cells = [re.findall(r'<td class="num">([^<]*)</td>', row)
             for row in re.findall(r"<tr><th.*?</tr>", summary, re.S)]
    assert cells == [["7", "6", "1", "14%"], ["1", "1", "1", "0%"]]
    html = client.get("/visits/coverage/", {"days": 90}).content.decode()
    assert listed(html) == [t.household2.pk, e[1], e[2], e[3], e[4]]
    html = client.get("/visits/coverage/", {"special": 1}).content.decode()
    assert listed(html) == [e[5], t.household2.pk]
    html = client.get("/visits/coverage/", {"other": 5}).content.decode()
    assert t.household.pk in listed(html)  # 9 days ago is more than 5
    # More households, not more queries (one query for the page, whatever its length).
    for n in range(5):
        do_create_household(t.grid2, acting_user=None, address=f"新户{n}",
                            members=[{"name": f"新{n}", "relation": "head",
                                      "special_groups": ["disabled"]}])
    with django_assert_max_num_queries(queries):
        html = client.get("/visits/coverage/").content.decode()
    assert len(listed(html)) == 12


def test_scope_and_api(seen, api):
    t = seen
    worker = login_client(t.user("grid_worker"))
    html = worker.get("/visits/coverage/").content.decode()
    assert t.household2.pk not in listed(html)  # the second grid is not the worker's
    assert worker.get("/visits/coverage/", {"place": t.grid2.pk}).status_code == 404
    body = api("village_secretary").get("/visits/coverage", days=30, limit=3).json()
    assert body["count"] == 7 and body["since"] == "2025-02-10"
    first = body["items"][0]
    assert (first["id"], first["special"], first["last_visit"], first["days_since"],
            first["special_groups"], first["head"]) == (
        t.extra[5].pk, True, "2025-01-20", 51, ["留守儿童"], "住户16")
    assert body["items"][1]["last_visit"] is None
    assert [(r["name"], r["households"], r["not_visited"], r["special_not_visited"])
            for r in body["by_place"]] == [("第一网格", 7, 6, 1), ("第二网格", 1, 1, 1)]
    page2 = api("village_secretary").get("/visits/coverage", days=30, limit=3, offset=3).json()
    assert [r["id"] for r in page2["items"]] == [t.extra[2].pk, t.extra[3].pk, t.extra[4].pk]
    assert api("grid_worker").get("/visits/coverage", place=t.village.pk).status_code == 404
    assert api("resident").get("/visits/coverage").status_code == 403
    # The town office sees the town broken down by village.
    clerk = do_create_user("clerk", acting_user=None, county=t.county)
    do_grant_role(clerk, "town_staff", t.town, acting_user=None)
    town = login_client(clerk).get("/visits/coverage/").content.decode()
    assert "高城寨村" in town and 'id="coverage-summary"' in town
