"""The weekly quota, counted per ISO week by hand, as the secretary sees it over HTTP.

Today is Wednesday 12 March 2025 (this week: 10–16 March; last week: 3–9 March).

- 网格员 (grid worker, default quota 5): this week 4 visits to 3 different households
  (门牌1号 twice) → 3 of 5, behind by 2. Last week 5 different households, two of them on
  Sunday 9 March → last week met. A visit on Sunday 2 March is the week before: not counted.
- 村两委干部 (village cadre): a county-wide quota row for the role says 6 (a town row of 1
  for the other town does not apply); this week 6 different households → met exactly.
- 村书记 (village secretary): a quota row at the village says 2; 2 households this week → met.
- Town staff and the town secretary (default 5) did not visit: behind by 5, seen by the town
  secretary, not by the village secretary (their grants are at the town).
"""

import pytest

from gongzhi.accounts.actions import do_create_user, do_grant_role
from gongzhi.testing import login_client
from gongzhi.visits.actions import do_set_visit_quota
from gongzhi.visits.models import VisitQuota

from .conftest import D, visit


@pytest.fixture
def week(village, today):
    t = village
    homes = [t.household, *t.extra]  # seven households in the first grid
    gw, vc, vs = t.user("grid_worker"), t.user("village_cadre"), t.user("village_secretary")
    for home, day in [(homes[0], D(3, 10)), (homes[0], D(3, 12)), (homes[1], D(3, 11)),
                      (homes[2], D(3, 12))]:
        visit(gw, home, day)
    for home, day in [(homes[0], D(3, 3)), (homes[1], D(3, 4)), (homes[2], D(3, 5)),
                      (homes[3], D(3, 9)), (homes[4], D(3, 9)), (homes[5], D(3, 2))]:
        visit(gw, home, day)
    for home in homes[:6]:
        visit(vc, home, D(3, 11))
    for home in homes[:2]:
        visit(vs, home, D(3, 10))
    admin = t.user("administrator")
    do_set_visit_quota(t.county, "village_cadre", 6, acting_user=admin)
    do_set_visit_quota(t.county, "village_cadre", 1, acting_user=admin, place=t.other_town)
    do_set_visit_quota(t.county, "village_secretary", 2, acting_user=admin, place=t.village)
    return t


def rows(html: str) -> list[int]:
    import re

    return [int(x) for x in re.findall(r'data-user="(\d+)"', html)]


def test_the_secretary_sees_who_is_behind_first(week, django_assert_max_num_queries):
    t = week
    client = login_client(t.user("village_secretary"))
    # session, user, grants, the place, the grants under it, the quota rows, the counts per
    # cadre, the ancestors for the crumbs, and the page's own notifications badge
    with django_assert_max_num_queries(9) as first:
        response = client.get("/visits/quota/")
    queries = len(first.captured_queries)  # read now: the next request resets the log
    assert response.status_code == 200
    html = response.content.decode()
    gw, vc, vs = t.user("grid_worker"), t.user("village_cadre"), t.user("village_secretary")
    assert rows(html) == [gw.pk, *sorted([vc.pk, vs.pk], key=lambda pk: str(
        {vc.pk: vc, vs.pk: vs}[pk]))]
    assert t.user("town_staff").pk not in rows(html)
    assert "3 / 5" in html and "6 / 6" in html and "2 / 2" in html
    assert "还差 2 户" in html
    assert '<span class="stat-value" id="behind-count">1</span>' in html
    # More cadres and visits, not more queries.
    for n in range(3):
        extra = do_create_user(f"gw{n}", acting_user=None, county=t.county)
        do_grant_role(extra, "grid_worker", t.grid, acting_user=None)
        visit(extra, t.extra[n], D(3, 11))
    with django_assert_max_num_queries(queries):
        html = client.get("/visits/quota/").content.decode()
    assert len(rows(html)) == 6


def test_the_same_standing_through_the_api(week, api):
    t = week
    body = api("village_secretary").get("/visits/quota").json()
    assert (body["week_start"], body["week_end"], body["place_id"]) == (
        "2025-03-10", "2025-03-16", t.village.pk)
    first = body["items"][0]
    assert (first["user_id"], first["this_week"], first["last_week"], first["quota"],
            first["behind"], first["shortfall"]) == (t.user("grid_worker").pk, 3, 5, 5, True, 2)
    by_user = {r["user_id"]: r for r in body["items"]}
    assert by_user[t.user("village_cadre").pk]["quota"] == 6
    assert by_user[t.user("village_cadre").pk]["behind"] is False
    assert by_user[t.user("village_secretary").pk]["quota"] == 2
    # A cadre without oversight sees only their own standing; a place is refused.
    own = api("grid_worker").get("/visits/quota").json()
    assert [r["user_id"] for r in own["items"]] == [t.user("grid_worker").pk]
    assert api("grid_worker").get("/visits/quota", place=t.village.pk).status_code == 403
    # The town secretary sees the town's cadres too: the town staff behind by 5 come first.
    town = api("town_secretary").get("/visits/quota").json()
    assert town["items"][0]["shortfall"] == 5
    assert {t.user("town_staff").pk, t.user("grid_worker").pk} <= {
        r["user_id"] for r in town["items"]}
    # Outside the secretary's places: 404.
    assert api("village_secretary").get("/visits/quota", place=t.other_village.pk
                                        ).status_code == 404


def test_who_may_see_and_set_quotas(week):
    t = week
    assert login_client(t.user("grid_worker")).get("/visits/quota/").status_code == 403
    town_sec = login_client(t.user("town_secretary"))
    assert town_sec.get("/visits/quotas/").status_code == 200
    # The town secretary may set a quota for the town, not for the county or another town.
    assert town_sec.post("/visits/quotas/", {"role": "grid_worker", "place": t.town.pk,
                                             "per_week": 3}).status_code == 302
    assert VisitQuota.objects.get(role="grid_worker").place == t.town
    assert town_sec.post("/visits/quotas/", {"role": "grid_worker", "place": t.other_town.pk,
                                             "per_week": 3}).status_code == 404
    response = town_sec.post("/visits/quotas/", {"role": "grid_worker", "place": t.town.pk,
                                                 "per_week": 99})
    assert response.status_code == 400 and "0到50" in response.content.decode()
    # The grid worker's quota is now 3 under the town: 3 this week meets it.
    body = login_client(t.user("village_secretary")).get("/visits/quota/").content.decode()
    assert "3 / 3" in body and "还差" not in body
