"""The demo county: its shape, its invariants, its logins, and that it is built once and the same
way every time."""

import io
import re
from collections import Counter, defaultdict

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test import Client

from gongzhi.accounts.models import RoleGrant, User
from gongzhi.accounts.roles import Role
from gongzhi.audit.log import verify
from gongzhi.audit.models import AuditEvent
from gongzhi.places import demo
from gongzhi.places.actions import do_add_person, do_create_household, do_create_place
from gongzhi.places.models import (
    LEVELS,
    Household,
    HouseholdType,
    Organisation,
    OrganisationKind,
    Person,
    Place,
    PlaceKind,
    Relation,
    SpecialGroup,
)
from gongzhi.places.validators import validate_id_number

SCALE = 200
SEED = 7


@pytest.fixture
def built(db):
    return demo.generate_demo(seed=SEED, scale=SCALE)


def age(person) -> int:
    ref = demo.REFERENCE_DATE
    born = person.birth_date
    return ref.year - born.year - ((ref.month, ref.day) < (born.month, born.day))


def test_counts_per_level(built):
    county = built.county
    assert (county.name, county.code, county.kind) == ("示范县", "620899", PlaceKind.COUNTY)
    kinds = Counter(Place.objects.filter(county=county).values_list("kind", flat=True))
    towns, villages = demo.layout_sizes(SCALE)
    assert kinds[PlaceKind.COUNTY] == 1
    assert kinds[PlaceKind.TOWN] == towns == built.counts["towns"] == 2
    assert kinds[PlaceKind.VILLAGE] == villages == (built.counts["villages"]
                                                    + built.counts["communities"])
    assert kinds[PlaceKind.GRID] == built.counts["grids"] >= villages
    assert kinds[PlaceKind.BUILDING] == built.counts["buildings"] >= kinds[PlaceKind.GRID]
    assert kinds[PlaceKind.HOUSEHOLD] == Household.objects.filter(county=county).count() == SCALE
    # Every place above a household has children; every household sits under a building.
    for place in Place.objects.filter(county=county).exclude(kind=PlaceKind.HOUSEHOLD):
        assert place.children.exists(), place.name
    assert not Place.objects.filter(kind=PlaceKind.HOUSEHOLD,
                                    county=county).exclude(parent__kind="building").exists()
    people = Person.objects.filter(county=county)
    assert people.count() == built.counts["people"]
    assert 1.8 * SCALE < people.count() < 3.8 * SCALE
    heads = Counter(people.filter(relation=Relation.HEAD).values_list("household_id", flat=True))
    assert len(heads) == SCALE and set(heads.values()) == {1}
    names = set(Place.objects.filter(county=county).values_list("name", flat=True))
    assert {"城关镇", "八里镇", "高城寨村", "第一网格"} <= names


def expected_ancestors(place_id: int, places: dict[int, tuple]) -> dict[str, int]:
    """The ancestor columns of a place, found by walking its parents."""
    out = {}
    current = place_id
    while current is not None:
        kind, parent_id = places[current][:2]
        out[kind] = current
        current = parent_id
    return out


def test_every_row_carries_its_ancestors(built):
    county = built.county
    columns = [f"{level}_id" for level in LEVELS]
    places = {row[0]: row[1:] for row in Place.objects.filter(county=county).values_list(
        "id", "kind", "parent_id", *columns)}
    assert len(places) == Place.objects.filter(county=county).count()
    for place_id, (_kind, _parent, *stored) in places.items():
        walked = expected_ancestors(place_id, places)
        assert stored == [walked.get(level) for level in LEVELS], place_id
    for model in (Person, Organisation):
        for place_id, *stored in model.objects.filter(county=county).values_list("place_id",
                                                                                   *columns):
            walked = expected_ancestors(place_id, places)
            assert stored == [walked.get(level) for level in LEVELS]
    for place_id, county_id in Household.objects.filter(county=county).values_list(
            "place_id", "county_id"):
        assert places[place_id][0] == PlaceKind.HOUSEHOLD and county_id == county.pk
    # The bulk load leaves every foreign key of the tables it wrote in place.
    with connection.cursor() as cursor:
        for model, count in ((Place, 7), (Household, 2), (Person, 7)):
            constraints = connection.introspection.get_constraints(cursor, model._meta.db_table)
            assert sum(1 for c in constraints.values() if c["foreign_key"]) == count
    cards = list(Household.objects.values_list("card_code", flat=True))
    assert len(set(cards)) == len(cards) and all(re.fullmatch(r"H[0-9A-F]{12}", c) for c in cards)


def test_residents_are_consistent(built):
    people = list(Person.objects.filter(county=built.county))
    numbers = [p.id_number for p in people]
    assert len(set(numbers)) == len(numbers)
    for p in people:
        assert validate_id_number(p.id_number) == p.id_number
        assert p.id_number.startswith(demo.DEMO_COUNTY_CODE)
        assert p.id_number[6:14] == p.birth_date.strftime("%Y%m%d")
        assert int(p.id_number[16]) % 2 == (1 if p.gender == "male" else 0)
        assert p.birth_date <= demo.REFERENCE_DATE
        assert not p.phone or re.fullmatch(r"1[3-9]\d{9}", p.phone)
        assert set(p.special_groups) <= set(SpecialGroup.values)
        if p.is_party_member:
            assert age(p) >= 18
        if SpecialGroup.LEFT_BEHIND_CHILD in p.special_groups:
            assert age(p) < 16
    party = sum(p.is_party_member for p in people) / len(people)
    assert 0.03 < party < 0.12
    by_household = defaultdict(list)
    for p in people:
        by_household[p.household_id].append(p)
    for members in by_household.values():
        head = next(p for p in members if p.relation == Relation.HEAD)
        for p in members:
            if p.relation == Relation.SPOUSE:
                assert p.gender != head.gender
            elif p.relation == Relation.CHILD:
                assert age(head) - age(p) >= 18
            elif p.relation == Relation.PARENT:
                assert age(p) - age(head) >= 18
            elif p.relation == Relation.GRANDCHILD:
                assert age(head) - age(p) >= 36
            if SpecialGroup.LONELY_ELDERLY in p.special_groups:
                assert members == [p] and age(p) >= 60
    types = dict(Household.objects.filter(county=built.county)
                 .values_list("place_id", "household_type"))
    for household_id, members in by_household.items():
        if types[household_id] == HouseholdType.PARTY:
            assert any(p.is_party_member for p in members)
        elif types[household_id] == HouseholdType.ELDERLY:
            assert all(age(p) >= 60 for p in members)
    assert set(types.values()) >= {HouseholdType.ORDINARY, HouseholdType.PARTY}


def test_departments_and_organisations(built):
    county = built.county
    departments = Organisation.objects.filter(county=county, place=county,
                                              kind=OrganisationKind.DEPARTMENT)
    categories = set(departments.values_list("category", flat=True))
    assert {"消防", "供电", "人社", "自然资源", "住建", "农业农村", "水务", "卫健", "民政",
            "市场监管", "城管执法"} <= categories
    at_towns = set(Organisation.objects.filter(town__isnull=False, village__isnull=True,
                                               kind=OrganisationKind.DEPARTMENT)
                   .values_list("category", flat=True))
    assert {"司法所", "派出所"} <= at_towns
    kinds = set(Organisation.objects.filter(county=county).values_list("kind", flat=True))
    assert {OrganisationKind.RESIDENT_UNIT, OrganisationKind.SOCIAL_ORG} <= kinds
    assert User.objects.get(username="dept_power").organisation.category == "供电"


def test_every_role_has_a_demo_login_that_logs_in(built):
    assert {login.role for login in demo.DEMO_LOGINS} == set(Role.values)
    for login in demo.DEMO_LOGINS:
        client = Client()
        response = client.post("/accounts/login/",
                               {"username": login.username, "password": demo.DEMO_PASSWORD})
        assert response.status_code == 302, login.username
        user = User.objects.get(username=login.username)
        assert client.session["_auth_user_id"] == str(user.pk)
        assert not user.is_superuser and not user.is_staff
        grant = RoleGrant.objects.get(user=user, role=login.role, is_active=True)
        assert grant.place.kind == login.level and grant.county == built.county
    wrong = Client().post("/accounts/login/", {"username": "admin", "password": "nope"})
    assert wrong.status_code == 200
    resident = User.objects.get(username="resident")
    assert resident.person.household_id == RoleGrant.objects.get(user=resident).place_id
    secretary = User.objects.get(username="village_secretary")
    assert secretary.person.is_party_member
    assert secretary.person.village.name == "高城寨村"


def test_every_place_has_its_cadres(built):
    county = built.county
    held = set(RoleGrant.objects.filter(county=county).values_list("role", "place_id"))
    for place in Place.objects.filter(county=county, kind=PlaceKind.TOWN):
        assert {(Role.TOWN_SECRETARY, place.pk), (Role.TOWN_STAFF, place.pk)} <= held
    for place in Place.objects.filter(county=county, kind=PlaceKind.VILLAGE):
        assert {(Role.VILLAGE_SECRETARY, place.pk), (Role.VILLAGE_CADRE, place.pk)} <= held
    for place in Place.objects.filter(county=county, kind=PlaceKind.GRID):
        assert (Role.GRID_WORKER, place.pk) in held
    # Cadre accounts other than the demo logins have no usable password.
    others = User.objects.filter(county=county).exclude(
        username__in=[d.username for d in demo.DEMO_LOGINS])
    assert others.exists() and not any(u.has_usable_password() for u in others)
    linked = list(User.objects.filter(county=county, person__isnull=False)
                  .values_list("person_id", flat=True))
    assert len(linked) == len(set(linked))


def test_one_audit_event_for_the_generation(built):
    events = AuditEvent.objects.filter(action="places.demo.generate")
    assert events.count() == 1
    event = events.get()
    assert event.county_id == built.county.pk
    assert event.after["households"] == SCALE and event.after["seed"] == SEED
    assert event.after["demo_logins"] == [d.username for d in demo.DEMO_LOGINS]
    assert not AuditEvent.objects.filter(action__in=["places.place.create",
                                                     "places.household.create"]).exists()
    assert verify() == []


def test_running_again_changes_nothing(built):
    before = (Place.objects.count(), Person.objects.count(), User.objects.count(),
              AuditEvent.objects.count())
    again = demo.generate_demo(seed=SEED + 1, scale=SCALE * 2)
    assert not again.created and again.county == built.county and again.cadres_created == 0
    assert again.logins == built.logins
    assert (Place.objects.count(), Person.objects.count(), User.objects.count(),
            AuditEvent.objects.count()) == before


def test_the_command_prints_the_logins_both_times(db):
    for expected in ("Built the demo county", "exists already; nothing was changed"):
        out = io.StringIO()
        call_command("demo", "--seed", "3", "--scale", "60", "--no-progress", "--no-activity",
                     stdout=out)
        text = out.getvalue()
        assert expected in text
        assert demo.DEMO_PASSWORD in text
        for login in demo.DEMO_LOGINS:
            assert login.username in text
    assert Place.objects.filter(kind=PlaceKind.COUNTY).count() == 1


class _Rollback(Exception):
    pass


def digest_of(seed: int, scale: int) -> str:
    """Build the county in a transaction that is rolled back, and return its digest."""
    try:
        with transaction.atomic():
            result = demo.generate_demo(seed=seed, scale=scale)
            digest = demo.demo_digest(result.county)
            raise _Rollback
    except _Rollback:
        pass
    assert demo.demo_county() is None
    return digest


def test_same_seed_and_scale_give_the_same_county(db):
    first = digest_of(SEED, 120)
    assert digest_of(SEED, 120) == first
    assert digest_of(SEED + 1, 120) != first
    assert digest_of(SEED, 121) != first


def test_normal_writes_work_after_the_bulk_load(built):
    town = Place.objects.get(county=built.county, name="八里镇")
    village = do_create_place(town, PlaceKind.VILLAGE, "新建村", acting_user=None)
    grid = do_create_place(village, PlaceKind.GRID, "第一网格", acting_user=None)
    assert village.pk > Place.objects.exclude(pk__in=[village.pk, grid.pk]).order_by("-pk")[0].pk
    household = do_create_household(grid, acting_user=None, address="新建村1号",
                                    members=[{"name": "周新", "relation": "head"}])
    person = do_add_person(household, {"name": "吴新", "relation": "spouse"}, acting_user=None)
    assert person.pk > Person.objects.exclude(pk=person.pk).order_by("-pk")[0].pk - 1
    assert household.place.village_id == village.pk


def test_an_interrupted_run_is_completed_by_the_next(db, monkeypatch):
    calls = {"n": 0}
    original = demo._create_account

    def failing(username, *args, **kwargs):
        if username.startswith("grid_worker-"):
            calls["n"] += 1
            if calls["n"] == 3:
                raise RuntimeError("interrupted")
        return original(username, *args, **kwargs)

    monkeypatch.setattr(demo, "_create_account", failing)
    with pytest.raises(RuntimeError):
        demo.generate_demo(seed=SEED, scale=SCALE)
    county = demo.demo_county()
    assert county is not None
    grids = Place.objects.filter(county=county, kind=PlaceKind.GRID).count()
    workers = RoleGrant.objects.filter(county=county, role=Role.GRID_WORKER)
    assert workers.count() < grids
    monkeypatch.setattr(demo, "_create_account", original)
    again = demo.generate_demo(seed=SEED, scale=SCALE)
    assert not again.created and again.cadres_created > 0
    assert workers.count() == grids


@pytest.mark.parametrize("scale", [1, 2, 7])
def test_tiny_counties_work(db, scale):
    result = demo.generate_demo(seed=1, scale=scale)
    assert Household.objects.filter(county=result.county).count() == scale
    assert {login for login, _role, _place in result.logins} == {
        d.username for d in demo.DEMO_LOGINS}
    linked = list(User.objects.filter(person__isnull=False).values_list("person_id", flat=True))
    assert len(linked) == len(set(linked))


def test_name_and_layout_helpers():
    assert demo.chinese_number(1) == "一" and demo.chinese_number(12) == "十二"
    assert demo.chinese_number(40) == "四十" and demo.chinese_number(99) == "九十九"
    assert demo.split_evenly(10, [1, 1, 1]) in ([4, 3, 3], [3, 4, 3], [3, 3, 4])
    assert sum(demo.split_evenly(1000, [0.3, 1.7, 2.2], minimum=1)) == 1000
