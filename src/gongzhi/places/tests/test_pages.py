# Page query pins include one count for the notification bell in the top bar.
"""The registry's pages through HTTP: browser, household archive, reveal, grid book, navigation."""

import re

import pytest
from django.urls import reverse

from gongzhi.accounts.actions import do_create_user
from gongzhi.accounts.roles import Role
from gongzhi.audit.models import AuditEvent
from gongzhi.core import ui
from gongzhi.places import views as place_views
from gongzhi.places.actions import do_add_person, do_create_household, do_create_place
from gongzhi.places.models import Person
from gongzhi.places.templatetags.gongzhi_places import age
from gongzhi.testing import ID_NUMBERS, login_client

pytestmark = pytest.mark.django_db

FULL_PHONE = "13812341234"
MASKED_PHONE = "138****1234"
MASKED_ID = ID_NUMBERS[0][:6] + "********" + ID_NUMBERS[0][-4:]
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)


def get(tree, role, url, **extra):
    return login_client(tree.user(role)).get(url, **extra)


def html(response) -> str:
    return response.content.decode()


# --- the place browser ---------------------------------------------------------------------


@pytest.mark.parametrize(("role", "where"), [
    (Role.GRID_WORKER, "grid"),
    (Role.VILLAGE_SECRETARY, "village"),
    (Role.TOWN_STAFF, "town"),
    (Role.COUNTY_OFFICE, "county"),
    (Role.DEPARTMENT_LIAISON, "county"),
])
def test_browse_starts_at_the_place_of_the_grant(tree, role, where):
    response = get(tree, role, reverse("places:browse"))
    assert response.status_code == 302
    assert response["Location"] == reverse("places:place", args=[getattr(tree, where).pk])


def test_resident_browsing_lands_on_their_own_household(tree):
    client = login_client(tree.user(Role.RESIDENT))
    response = client.get(reverse("places:browse"), follow=True)
    assert response.redirect_chain[-1][0] == reverse(
        "places:household", args=[tree.household.pk])
    assert "张建国" in html(response)


def test_village_page_lists_grids_with_household_and_people_counts(tree):
    response = get(tree, Role.VILLAGE_SECRETARY, reverse("places:place", args=[tree.village.pk]))
    assert response.status_code == 200
    rows = {r["place"].name: (r["households"], r["people"]) for r in response.context["rows"]}
    assert rows == {"第一网格": (1, 2), "第二网格": (1, 1)}
    body = html(response)
    assert "第一网格" in body and "东关一网格" not in body
    assert reverse("places:grid_book", args=[tree.grid.pk]) not in body  # only on grid pages
    assert response.context["totals"] == {"households": 2, "people": 3}


def test_breadcrumb_links_only_what_is_in_scope(tree):
    response = get(tree, Role.GRID_WORKER, reverse("places:place", args=[tree.grid.pk]))
    body = html(response)
    assert "高城寨村" in body and "城关镇" in body  # ancestors are named...
    assert reverse("places:place", args=[tree.village.pk]) not in body  # ...not linked
    assert reverse("places:grid_book", args=[tree.grid.pk]) in body
    assert reverse("places:household", args=[tree.household.pk]) in body


def test_department_liaison_sees_places_but_no_people_counts(tree):
    response = get(tree, Role.DEPARTMENT_LIAISON, reverse("places:place", args=[tree.town.pk]))
    assert response.status_code == 200
    assert response.context["show_counts"] is False
    assert "户数" not in html(response)


@pytest.mark.parametrize("target", ["other_grid", "other_village", "village", "town", "county"])
def test_place_out_of_scope_is_404(tree, target):
    response = get(tree, Role.GRID_WORKER, reverse("places:place", args=[getattr(tree, target).pk]))
    assert response.status_code == 404


def test_anonymous_is_sent_to_login(client, tree):
    response = client.get(reverse("places:place", args=[tree.village.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_search_finds_people_and_places_within_scope_only(tree):
    client = login_client(tree.user(Role.VILLAGE_SECRETARY))
    url = reverse("places:place", args=[tree.village.pk])
    body = html(client.get(url, {"q": "张建国"}))
    assert "张建国" in body and MASKED_PHONE in body and FULL_PHONE not in body
    assert reverse("places:household", args=[tree.household.pk]) in body
    body = html(client.get(url, {"q": "第二"}))
    assert "第二网格" in body
    # 赵志强 lives in another town: not found, even from the county-wide search box.
    response = client.get(reverse("places:browse"), {"q": "赵志强"})
    assert "赵志强" not in html(response).replace('value="赵志强"', "")


def test_browser_paginates(tree, monkeypatch):
    monkeypatch.setattr(place_views, "PAGE_SIZE", 1)
    client = login_client(tree.user(Role.VILLAGE_SECRETARY))
    url = reverse("places:place", args=[tree.village.pk])
    first = client.get(url)
    second = client.get(url, {"page": 2})
    assert [r["place"].name for r in first.context["rows"]] == ["第一网格"]
    assert [r["place"].name for r in second.context["rows"]] == ["第二网格"]
    assert "?page=2" in html(first)


def _add_households(grid, count, start=0):
    for i in range(count):
        do_create_household(grid, acting_user=None, address=f"新户{start + i}号", members=[
            {"name": f"居民{start + i}", "relation": "head", "phone": "13900000000"},
            {"name": f"家属{start + i}", "relation": "child", "special_groups": ["disabled"]},
        ])


def test_browser_query_count_does_not_grow_with_children(tree, django_assert_max_num_queries):
    client = login_client(tree.user(Role.VILLAGE_SECRETARY))
    for i in range(6):
        grid = do_create_place(tree.village, "grid", f"新网格{i}", acting_user=None)
        _add_households(grid, 2, start=i * 10)
    building = do_create_place(tree.grid, "building", "1号楼", acting_user=None)
    _add_households(building, 3, start=100)
    _add_households(tree.grid, 3, start=200)
    # session, user, grants, place, ancestors, 2 totals, children count + page, 2 grouped counts
    with django_assert_max_num_queries(12):
        response = client.get(reverse("places:place", args=[tree.village.pk]))
    assert len(response.context["rows"]) == 8
    # A grid page mixes buildings and households: one grouped query per kind, still bounded.
    with django_assert_max_num_queries(13):
        response = client.get(reverse("places:place", args=[tree.grid.pk]))
    rows = {r["place"].name: r for r in response.context["rows"]}
    assert rows["1号楼"]["households"] == 3 and rows["1号楼"]["people"] == 6


# --- 一户一档 --------------------------------------------------------------------------------


def test_household_page_masks_numbers_for_grid_worker(tree):
    response = get(tree, Role.GRID_WORKER, reverse("places:household", args=[tree.household.pk]))
    assert response.status_code == 200
    body = html(response)
    for text in ("高城寨村1号", "党员户", "张建国", "李秀英", "户主", "配偶", "残疾人",
                 tree.household.card_code, MASKED_PHONE, MASKED_ID):
        assert text in body, text
    assert FULL_PHONE not in body
    assert ID_NUMBERS[0] not in body
    assert "/reveal/" not in body and "显示完整信息" not in body
    assert "no-store" in response["Cache-Control"]


def test_household_page_query_count_is_fixed(tree, django_assert_max_num_queries):
    for i in range(5):
        do_add_person(tree.household, {"name": f"成员{i}", "relation": "child"}, acting_user=None)
    client = login_client(tree.user(Role.VILLAGE_SECRETARY))
    # session, user, grants, household and its place, members, ancestors
    with django_assert_max_num_queries(7):
        response = client.get(reverse("places:household", args=[tree.household.pk]))
    assert len(response.context["members"]) == 7
    assert html(response).count("显示完整信息</button>") == 1  # only 张建国 has numbers


def test_household_page_shows_age_from_the_id_number(tree):
    response = get(tree, Role.GRID_WORKER, reverse("places:household", args=[tree.household.pk]))
    born_1949 = response.context["members"][0]
    assert age(born_1949) >= 75
    assert f">{age(born_1949)}<" in html(response)


@pytest.mark.parametrize("role", [Role.RESIDENT, Role.GRID_WORKER, Role.VILLAGE_CADRE,
                                  Role.VILLAGE_SECRETARY, Role.TOWN_SECRETARY, Role.SUPERVISOR,
                                  Role.ADMINISTRATOR])
def test_household_page_renders_for_roles_that_see_people(tree, role):
    response = get(tree, role, reverse("places:household", args=[tree.household.pk]))
    assert response.status_code == 200
    assert "张建国" in html(response)


@pytest.mark.parametrize(("role", "target"), [
    (Role.GRID_WORKER, "household2"),       # the neighbouring grid
    (Role.GRID_WORKER, "other_household"),  # another town
    (Role.RESIDENT, "household2"),          # not their own
    (Role.DEPARTMENT_LIAISON, "household"),  # sees places, not people
])
def test_household_out_of_scope_is_404(tree, role, target):
    response = get(tree, role, reverse("places:household", args=[getattr(tree, target).pk]))
    assert response.status_code == 404


def _head(tree):
    return Person.objects.get(household_id=tree.household.pk, relation="head")


def test_reveal_for_village_secretary_shows_numbers_and_is_audited(tree):
    client = login_client(tree.user(Role.VILLAGE_SECRETARY))
    page = html(client.get(reverse("places:household", args=[tree.household.pk])))
    person = _head(tree)
    url = reverse("places:reveal_person", args=[person.pk])
    assert f'hx-post="{url}"' in page
    assert FULL_PHONE not in page

    response = client.post(url, headers={"HX-Request": "true"})
    assert response.status_code == 200
    body = html(response)
    assert body.lstrip().startswith("<tr")  # the partial: one table row
    assert FULL_PHONE in body and ID_NUMBERS[0] in body
    event = AuditEvent.objects.get(action="places.person.reveal")
    assert event.actor == tree.user(Role.VILLAGE_SECRETARY)
    assert event.object_id == str(person.pk)
    assert "no-store" in response["Cache-Control"]

    # Without htmx the same view answers with a full page.
    response = client.post(url)
    assert response.status_code == 200
    assert "<html" in html(response) and FULL_PHONE in html(response)
    assert AuditEvent.objects.filter(action="places.person.reveal").count() == 2


def test_reveal_refused_for_grid_worker(tree):
    client = login_client(tree.user(Role.GRID_WORKER))
    url = reverse("places:reveal_person", args=[_head(tree).pk])
    response = client.post(url, headers={"HX-Request": "true"})
    assert response.status_code == 403
    assert FULL_PHONE not in html(response)
    assert not AuditEvent.objects.filter(action="places.person.reveal").exists()


def test_reveal_out_of_scope_is_404_and_get_is_refused(tree):
    person = _head(tree)
    other = login_client(tree.user(Role.VILLAGE_SECRETARY))
    stranger = Person.objects.get(name="赵志强")
    assert other.post(reverse("places:reveal_person", args=[stranger.pk])).status_code == 404
    assert other.get(reverse("places:reveal_person", args=[person.pk])).status_code == 405
    assert not AuditEvent.objects.filter(action="places.person.reveal").exists()


# --- 一网格一册 ------------------------------------------------------------------------------


def test_grid_book_summary_and_special_groups_first(tree):
    response = get(tree, Role.GRID_WORKER, reverse("places:grid_book", args=[tree.grid.pk]))
    assert response.status_code == 200
    summary = response.context["summary"]
    assert summary["households"] == 1 and summary["people"] == 2
    assert summary["party_members"] == 1
    assert {t["label"]: t["count"] for t in summary["by_type"]}["党员户"] == 1
    special = {g["code"]: g["count"] for g in response.context["special"]}
    assert special["disabled"] == 1 and special["lonely_elderly"] == 0
    assert [g["code"] for g in response.context["special"]][:3] == [
        "lonely_elderly", "left_behind_child", "disabled"]
    body = html(response)
    assert body.index("李秀英") < body.index("张建国")  # the special-group list comes first
    assert FULL_PHONE not in body
    assert "data-print" in body


@pytest.mark.parametrize(("role", "status"), [
    (Role.VILLAGE_SECRETARY, 200), (Role.TOWN_SECRETARY, 200), (Role.POINTS_REVIEWER, 200),
    (Role.DEPARTMENT_LIAISON, 403), (Role.RESIDENT, 404),
])
def test_grid_book_access_by_role(tree, role, status):
    response = get(tree, role, reverse("places:grid_book", args=[tree.grid.pk]))
    assert response.status_code == status


def test_grid_book_out_of_scope_or_not_a_grid_is_404(tree):
    client = login_client(tree.user(Role.GRID_WORKER))
    assert client.get(reverse("places:grid_book", args=[tree.grid2.pk])).status_code == 404
    village = login_client(tree.user(Role.VILLAGE_SECRETARY))
    assert village.get(reverse("places:grid_book", args=[tree.village.pk])).status_code == 404


def test_grid_book_groups_households_by_building(tree):
    building = do_create_place(tree.grid, "building", "3号楼", acting_user=None)
    _add_households(building, 2)
    response = get(tree, Role.GRID_WORKER, reverse("places:grid_book", args=[tree.grid.pk]))
    groups = [(g["building"].name if g["building"] else None,
               [(r["household"].place.name, r["head"].name, r["members"]) for r in g["rows"]])
              for g in response.context["groups"]]
    assert groups == [
        ("3号楼", [("新户0号", "居民0", 2), ("新户1号", "居民1", 2)]),
        (None, [("高城寨村1号", "张建国", 2)]),
    ]


def test_grid_book_query_count_is_fixed(tree, django_assert_max_num_queries):
    client = login_client(tree.user(Role.GRID_WORKER))
    url = reverse("places:grid_book", args=[tree.grid.pk])
    building = do_create_place(tree.grid, "building", "1号楼", acting_user=None)
    _add_households(building, 5)
    _add_households(tree.grid, 5, start=50)
    # session, user, grants, grid, ancestors, buildings, households, people
    with django_assert_max_num_queries(9):
        response = client.get(url)
    assert response.context["summary"]["households"] == 11
    assert response.context["summary"]["people"] == 22


# --- workbench, navigation, pages in general -------------------------------------------------


def test_home_lists_role_and_place_names(tree):
    response = get(tree, Role.GRID_WORKER, reverse("home"))
    body = html(response)
    assert "网格员" in body
    assert "测试县 / 城关镇 / 高城寨村 / 第一网格" in body
    assert reverse("places:grid_book", args=[tree.grid.pk]) in body


def test_resident_home_links_to_their_household(tree):
    body = html(get(tree, Role.RESIDENT, reverse("home")))
    assert "居民" in body
    assert reverse("places:household", args=[tree.household.pk]) in body


def test_nav_by_role(tree):
    nobody = do_create_user("nobody", acting_user=None, password="x-Long-pass-1")
    body = html(login_client(nobody).get(reverse("home")))
    assert reverse("places:browse") not in body
    assert "您还没有被授予任何角色" in body
    body = html(get(tree, Role.GRID_WORKER, reverse("home")))
    assert f'href="{reverse("places:browse")}"' in body


@pytest.fixture
def sensitive_nav_entry():
    ui.register_nav("敏感入口", "admin:index", "people.view_sensitive", order=99)
    yield
    ui.NAVIGATION[:] = [e for e in ui.NAVIGATION if ui._as_entry(e).url_name != "admin:index"]


def test_registered_nav_entry_follows_its_permission(tree, sensitive_nav_entry):
    assert "敏感入口" in html(get(tree, Role.VILLAGE_SECRETARY, reverse("home")))
    assert "敏感入口" not in html(get(tree, Role.GRID_WORKER, reverse("home")))


def test_plain_tuples_appended_to_navigation_work_too(tree):
    ui.NAVIGATION.append(("元组入口", "admin:index", "people.view_sensitive"))
    try:
        assert "元组入口" in html(get(tree, Role.TOWN_SECRETARY, reverse("home")))
        assert "元组入口" not in html(get(tree, Role.VILLAGE_CADRE, reverse("home")))
    finally:
        ui.NAVIGATION.pop()


def test_nav_marks_the_current_entry(tree):
    body = html(get(tree, Role.GRID_WORKER, reverse("places:place", args=[tree.grid.pk])))
    assert f'<a href="{reverse("places:browse")}" aria-current="page">' in body


@pytest.fixture
def test_panel():
    ui.register_panel("includes/breadcrumbs.html", permission="people.view_sensitive",
                      context=lambda request: {"crumbs": [{"label": "面板内容", "url": None}]})
    yield
    ui.PANELS[:] = [p for p in ui.PANELS if p.template != "includes/breadcrumbs.html"]


def test_registered_panels_appear_on_the_workbench_by_permission(tree, test_panel):
    assert "面板内容" in html(get(tree, Role.VILLAGE_SECRETARY, reverse("home")))
    assert "面板内容" not in html(get(tree, Role.GRID_WORKER, reverse("home")))


def test_pages_have_no_inline_event_handlers(tree):
    client = login_client(tree.user(Role.VILLAGE_SECRETARY))
    for url in (reverse("home"), reverse("places:place", args=[tree.village.pk]),
                reverse("places:household", args=[tree.household.pk]),
                reverse("places:grid_book", args=[tree.grid.pk])):
        response = client.get(url)
        assert response.status_code == 200, url
        assert not INLINE_HANDLER.search(html(response)), url
        assert "script-src 'self'" in response["Content-Security-Policy"]


def test_household_page_in_english(tree):
    client = login_client(tree.user(Role.GRID_WORKER))
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    body = html(client.get(reverse("places:household", args=[tree.household.pk])))
    assert '<html lang="en">' in body
    for text in ("Household archive", "Members", "Head of household", "Party member household",
                 "Person with disability", MASKED_PHONE):
        assert text in body, text
    for text in ("家庭成员", "户主", "党员户", "残疾人"):
        assert text not in body, text
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    assert "家庭成员" in html(client.get(reverse("places:household", args=[tree.household.pk])))


def test_nav_folds_entries_into_group_menus(tree):
    """A county leader holds many permissions: the entries are folded into a few group menus
    (说事办事, 议事协商 ...), the current entry's group is marked, and a group with one entry
    the user can see is shown as a plain link."""
    body = html(get(tree, Role.COUNTY_OFFICE, reverse("matters:list")))
    nav = body.split('id="site-nav"', 1)[1].split("</nav>", 1)[0]
    assert '<summary class="active">说事办事</summary>' in nav
    assert "<summary>议事协商</summary>" in nav
    assert f'<a href="{reverse("matters:list")}" aria-current="page">' in nav
    assert nav.count('class="nav-group"') < nav.count("<a href=")
    for role in (Role.COUNTY_OFFICE, Role.GRID_WORKER, Role.RESIDENT):
        nav = html(get(tree, role, reverse("home"))).split('id="site-nav"', 1)[1]
        for menu in nav.split("</nav>", 1)[0].split('<details class="nav-group">')[1:]:
            assert menu.split("</details>", 1)[0].count("<a href=") >= 2, (role, menu)
