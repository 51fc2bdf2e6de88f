"""The access matrix: for every role, what it sees and may change, through the API and pages.

``build_tree()`` grants each role at one place of a county with two towns (see
``gongzhi.testing``); a second county ("elsewhere") is out of everyone's scope. The table
below is the specification: every object of the fixture not listed as seen must answer 404,
every write not listed as allowed must be refused (403 when the caller can see the object,
404 when it cannot) and leave the rows and the audit chain as they were.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from gongzhi.accounts.roles import Role
from gongzhi.audit.models import AuditEvent
from gongzhi.places.actions import do_create_household, do_create_organisation, do_create_place
from gongzhi.places.models import Household, Person, Place
from gongzhi.testing import api_client, login_client

# Sets of fixture objects, by the names the fixture below gives them.
HOME = {"household"}
GRID = {"grid", "household"}
VILLAGE = {"village", "grid", "grid2", "household", "household2"}
TOWN = {"town", *VILLAGE}
COUNTY = {"county", *TOWN, "other_town", "other_village", "other_grid", "other_household"}
HOME_PEOPLE = {"head", "spouse"}
VILLAGE_PEOPLE = {*HOME_PEOPLE, "wang"}
COUNTY_PEOPLE = {*VILLAGE_PEOPLE, "zhao"}
DEPT = {"department"}
NONE: set[str] = set()

# Answers: 200/201 done, 403 refused (the object is visible), 404 refused (it is not).
OK, CREATED, FORBIDDEN, HIDDEN = 200, 201, 403, 404


@dataclass(frozen=True)
class Expect:
    places: set[str]  # places listed and readable (also the page /places/<id>/)
    people: set[str]  # people listed and readable, masked; their households likewise
    orgs: set[str]  # organisations listed and readable
    reveal: int  # POST /people/<head>/reveal, and the page's reveal (people.view_sensitive)
    new_household: int  # POST /households under "grid" (people.change)
    new_member: int  # POST /households/<household>/people (people.change)
    edit_person: int  # PATCH /people/<head> (people.change)
    rename: int  # PATCH /places/<grid> (places.change)


# fmt: off
MATRIX = {
    #                               places   people          orgs  reveal new_hh member edit rename
    Role.RESIDENT:           Expect(HOME,    HOME_PEOPLE,    NONE, 403,   404,   403,   403, 404),
    Role.GRID_WORKER:        Expect(GRID,    HOME_PEOPLE,    NONE, 403,   201,   201,   200, 403),
    Role.VILLAGE_CADRE:      Expect(VILLAGE, VILLAGE_PEOPLE, NONE, 403,   201,   201,   200, 403),
    Role.VILLAGE_SECRETARY:  Expect(VILLAGE, VILLAGE_PEOPLE, NONE, 200,   201,   201,   200, 200),
    Role.TOWN_STAFF:         Expect(TOWN,    VILLAGE_PEOPLE, NONE, 403,   403,   403,   403, 403),
    Role.TOWN_SECRETARY:     Expect(TOWN,    VILLAGE_PEOPLE, NONE, 200,   403,   403,   403, 200),
    Role.COUNTY_OFFICE:      Expect(COUNTY,  COUNTY_PEOPLE,  DEPT, 403,   403,   403,   403, 403),
    Role.DEPARTMENT_LIAISON: Expect(COUNTY,  NONE,           DEPT, 404,   403,   404,   404, 403),
    Role.SUPERVISOR:         Expect(COUNTY,  COUNTY_PEOPLE,  DEPT, 403,   403,   403,   403, 403),
    Role.POINTS_REVIEWER:    Expect(VILLAGE, VILLAGE_PEOPLE, NONE, 403,   403,   403,   403, 403),
    Role.SHOP_KEEPER:        Expect(VILLAGE, VILLAGE_PEOPLE, NONE, 403,   403,   403,   403, 403),
    Role.ADMINISTRATOR:      Expect(COUNTY,  COUNTY_PEOPLE,  DEPT, 200,   201,   201,   200, 200),
}
# fmt: on
ROLES = list(Role)
HOUSEHOLD_OF = {"head": "household", "spouse": "household", "wang": "household2",
                "zhao": "other_household", "sun": "far_household"}


def test_the_matrix_covers_every_role():
    assert set(MATRIX) == set(Role)


# ---------------------------------------------------------------- fixture


@pytest.fixture
def world(tree):
    """The tree's objects by name, plus a second county that no role reaches."""
    far_county = do_create_place(None, "county", "邻县", acting_user=None)
    far_town = do_create_place(far_county, "town", "河口镇", acting_user=None)
    far_village = do_create_place(far_town, "village", "河口村", acting_user=None)
    far_grid = do_create_place(far_village, "grid", "河口一网格", acting_user=None)
    far_household = do_create_household(
        far_grid, acting_user=None, address="河口村8号",
        members=[{"name": "孙丽", "relation": "head", "phone": "13600002222"}],
    )
    far_org = do_create_organisation(far_county, acting_user=None, kind="department",
                                     name="邻县水务局")
    places = {
        "county": tree.county, "town": tree.town, "village": tree.village, "grid": tree.grid,
        "grid2": tree.grid2, "household": tree.household.place,
        "household2": tree.household2.place, "other_town": tree.other_town,
        "other_village": tree.other_village, "other_grid": tree.other_grid,
        "other_household": tree.other_household.place, "far_county": far_county,
        "far_town": far_town, "far_village": far_village, "far_grid": far_grid,
        "far_household": far_household.place,
    }
    people = {p.name: p for p in Person.objects.all()}
    return {
        "tree": tree,
        "places": places,
        "people": {"head": people["张建国"], "spouse": people["李秀英"],
                   "wang": people["王桂兰"], "zhao": people["赵志强"], "sun": people["孙丽"]},
        "orgs": {"department": tree.department, "far_department": far_org},
    }


def state() -> tuple[int, ...]:
    return (Place.objects.count(), Household.objects.count(), Person.objects.count(),
            AuditEvent.objects.count())


class Caller:
    """The API as one user: by bearer token or by a logged-in session."""

    def __init__(self, user, channel: str):
        if channel == "token":
            self.client, self.headers = api_client(user)
        else:
            self.client, self.headers = login_client(user), {}

    def get(self, url: str):
        return self.client.get(f"/api/v1{url}", headers=self.headers)

    def send(self, method: str, url: str, data: dict):
        return getattr(self.client, method)(f"/api/v1{url}", data=json.dumps(data),
                                            content_type="application/json",
                                            headers=self.headers)

    def ids(self, url: str) -> set[int]:
        response = self.get(f"{url}?limit=200")
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["count"] == len(body["items"])
        return {item["id"] for item in body["items"]}


# ---------------------------------------------------------------- reads


@pytest.mark.parametrize("channel", ["token", "session"])
@pytest.mark.parametrize("role", ROLES)
def test_reads(world, role, channel):
    expect = MATRIX[role]
    api = Caller(world["tree"].user(role), channel)
    places, people, orgs = world["places"], world["people"], world["orgs"]
    seen_households = {HOUSEHOLD_OF[name] for name in expect.people}

    assert api.ids("/places") == {places[n].pk for n in expect.places}
    assert api.ids("/people") == {people[n].pk for n in expect.people}
    assert api.ids("/households") == {places[n].pk for n in seen_households}
    assert api.ids("/organisations") == {orgs[n].pk for n in expect.orgs}

    for name, place in places.items():
        code = api.get(f"/places/{place.pk}").status_code
        assert code == (OK if name in expect.places else HIDDEN), (name, code)
        if place.kind == "household":
            code = api.get(f"/households/{place.pk}").status_code
            assert code == (OK if name in seen_households else HIDDEN), (name, code)
    for name, person in people.items():
        response = api.get(f"/people/{person.pk}")
        assert response.status_code == (OK if name in expect.people else HIDDEN), name
        if response.status_code == OK and person.phone:
            assert response.json()["phone"] == person.masked_phone != person.phone
    for name, org in orgs.items():
        code = api.get(f"/organisations/{org.pk}").status_code
        assert code == (OK if name in expect.orgs else HIDDEN), (name, code)


@pytest.mark.parametrize("role", ROLES)
def test_pages(world, role):
    """The pages load through the same access path: in scope they answer, else 404.

    ``/places/<id>/`` may redirect a household to its record page (302); the record page
    ``/places/household/<id>/`` needs the household's people in scope; revealing a person's
    numbers on a page is refused as through the API and audited only when shown.
    """
    expect = MATRIX[role]
    client = login_client(world["tree"].user(role))
    seen_households = {HOUSEHOLD_OF[name] for name in expect.people}
    for name, place in world["places"].items():
        code = client.get(f"/places/{place.pk}/").status_code
        assert code in ((OK, 302) if name in expect.places else (HIDDEN,)), (name, code)
        if place.kind == "household":
            code = client.get(f"/places/household/{place.pk}/").status_code
            assert code == (OK if name in seen_households else HIDDEN), (name, code)

    for name, person in world["people"].items():
        before = AuditEvent.objects.count()
        code = client.post(f"/places/person/{person.pk}/reveal/", {"reason": "核实"}).status_code
        assert code == (expect.reveal if name in expect.people else HIDDEN), (name, code)
        assert AuditEvent.objects.count() == before + (code == OK), name


# ---------------------------------------------------------------- writes in scope


@pytest.mark.parametrize("role", ROLES)
def test_writes_at_home(world, role):
    """Each write at the role's own corner succeeds or is refused as the table says."""
    expect = MATRIX[role]
    api = Caller(world["tree"].user(role), "token")
    places, head = world["places"], world["people"]["head"]

    def attempt(expected: int, method: str, url: str, data: dict, grows: tuple[int, ...]):
        before = state()
        response = api.send(method, url, data)
        assert response.status_code == expected, (url, response.content)
        if expected >= 400:
            assert response.json()["detail"]
        after = state()
        if expected in (OK, CREATED):
            assert after == tuple(b + g for b, g in zip(before, grows, strict=True)), url
        else:
            assert after == before, url

    #                                    places households people audit
    attempt(expect.new_household, "post", "/households",
            {"parent": places["grid"].pk, "address": "高城寨村9号",
             "members": [{"name": "周新", "relation": "head"}]}, (1, 1, 1, 1))
    attempt(expect.new_member, "post", f"/households/{places['household'].pk}/people",
            {"name": "张小明", "relation": "child"}, (0, 0, 1, 1))
    attempt(expect.edit_person, "patch", f"/people/{head.pk}", {"phone": "13900002222"},
            (0, 0, 0, 1))
    attempt(expect.rename, "patch", f"/places/{places['grid'].pk}", {"name": "新一网格"},
            (0, 0, 0, 1))
    attempt(expect.reveal, "post", f"/people/{head.pk}/reveal", {"reason": "回访核实"},
            (0, 0, 0, 1))

    head.refresh_from_db()
    places["grid"].refresh_from_db()
    assert (head.phone == "13900002222") == (expect.edit_person == OK)
    assert (places["grid"].name == "新一网格") == (expect.rename == OK)


@pytest.mark.parametrize("role", [r for r in ROLES if MATRIX[r].reveal == OK])
def test_reveal_shows_full_numbers_and_is_audited(world, role):
    api = Caller(world["tree"].user(role), "token")
    head = world["people"]["head"]
    response = api.send("post", f"/people/{head.pk}/reveal", {"reason": "回访核实"})
    assert response.json() == {"id": head.pk, "name": "张建国", "phone": "13812341234",
                               "id_number": head.id_number}
    event = AuditEvent.objects.order_by("-id").first()
    assert (event.action, event.object_id, event.actor_id) == (
        "places.person.reveal", str(head.pk), world["tree"].user(role).pk)


# ---------------------------------------------------------------- writes out of scope


@pytest.mark.parametrize("role", ROLES)
def test_writes_out_of_scope_are_404_and_change_nothing(world, role):
    """Every write aimed at an object the role cannot see is a 404, whatever the permission."""
    expect = MATRIX[role]
    api = Caller(world["tree"].user(role), "token")
    places, people = world["places"], world["people"]
    hidden_grids = [n for n in ("grid2", "other_grid", "far_grid") if n not in expect.places]
    hidden_people = [n for n in people if n not in expect.people]
    assert "far_grid" in hidden_grids and "sun" in hidden_people

    before = state()
    for grid in hidden_grids:
        tries = [
            ("post", "/households", {"parent": places[grid].pk, "address": "越界1号"}),
            ("post", "/places", {"parent": places[grid].pk, "kind": "building", "name": "楼"}),
            ("patch", f"/places/{places[grid].pk}", {"name": "越界"}),
        ]
        for method, url, data in tries:
            response = api.send(method, url, data)
            assert response.status_code == HIDDEN, (grid, url, response.content)
            assert response.json() == {"detail": "未找到。"}
    for name in hidden_people:
        person = people[name]
        household = places[HOUSEHOLD_OF[name]]
        for method, url, data in [
            ("patch", f"/people/{person.pk}", {"phone": "13900009999"}),
            ("post", f"/people/{person.pk}/reveal", {}),
            ("post", f"/households/{household.pk}/people", {"name": "越界"}),
            ("patch", f"/households/{household.pk}", {"address": "越界"}),
        ]:
            assert api.send(method, url, data).status_code == HIDDEN, (name, url)
    assert state() == before
    assert not Place.objects.filter(name="越界").exists()
    assert not Person.objects.filter(phone="13900009999").exists()
