"""Builders for tests and benchmarks: a small county tree, users holding each role, API clients.

Everything is created through the actions, so tests exercise the same paths as users do.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.test import Client

from gongzhi.accounts.actions import do_create_token, do_create_user, do_grant_role
from gongzhi.accounts.models import User
from gongzhi.accounts.roles import Role
from gongzhi.places.actions import do_create_household, do_create_organisation, do_create_place
from gongzhi.places.models import Household, Organisation, Place

PASSWORD = "gongzhi-test-pass-2026"  # noqa: S105 - test accounts only

# Valid (checksummed) ID numbers for tests.
ID_NUMBERS = ["11010519491231002X", "32031119900101123X", "620826198003150047"]


@dataclass
class Tree:
    """Two towns, each with a village of two grids with households; and a department."""

    county: Place
    town: Place
    village: Place
    grid: Place
    grid2: Place
    household: Household
    household2: Household
    other_town: Place
    other_village: Place
    other_grid: Place
    other_household: Household
    department: Organisation
    users: dict[str, User] = field(default_factory=dict)

    def user(self, role: str) -> User:
        return self.users[role]


def build_tree(county_name: str = "测试县") -> Tree:
    county = do_create_place(None, "county", county_name, acting_user=None, code="110105")
    town = do_create_place(county, "town", "城关镇", acting_user=None, subtype="镇")
    village = do_create_place(town, "village", "高城寨村", acting_user=None, subtype="村")
    grid = do_create_place(village, "grid", "第一网格", acting_user=None)
    grid2 = do_create_place(village, "grid", "第二网格", acting_user=None)
    household = do_create_household(
        grid, acting_user=None, address="高城寨村1号", household_type="party",
        members=[
            {"name": "张建国", "relation": "head", "gender": "male", "phone": "13812341234",
             "id_number": ID_NUMBERS[0], "is_party_member": True},
            {"name": "李秀英", "relation": "spouse", "gender": "female",
             "special_groups": ["disabled"]},
        ],
    )
    household2 = do_create_household(
        grid2, acting_user=None, address="高城寨村2号", household_type="elderly",
        members=[{"name": "王桂兰", "relation": "head", "gender": "female",
                  "special_groups": ["lonely_elderly"], "phone": "13912345678"}],
    )
    other_town = do_create_place(county, "town", "八里镇", acting_user=None, subtype="镇")
    other_village = do_create_place(other_town, "village", "东关社区", acting_user=None,
                                    subtype="社区")
    other_grid = do_create_place(other_village, "grid", "东关一网格", acting_user=None)
    other_household = do_create_household(
        other_grid, acting_user=None, address="东关社区3号",
        members=[{"name": "赵志强", "relation": "head", "phone": "13700001111"}],
    )
    department = do_create_organisation(county, acting_user=None, kind="department",
                                        name="县供电公司", category="供电")
    tree = Tree(county, town, village, grid, grid2, household, household2, other_town,
                other_village, other_grid, other_household, department)
    where = {
        Role.RESIDENT: household.place,
        Role.GRID_WORKER: grid,
        Role.VILLAGE_CADRE: village,
        Role.VILLAGE_SECRETARY: village,
        Role.TOWN_STAFF: town,
        Role.TOWN_SECRETARY: town,
        Role.COUNTY_OFFICE: county,
        Role.DEPARTMENT_LIAISON: county,
        Role.SUPERVISOR: county,
        Role.POINTS_REVIEWER: village,
        Role.SHOP_KEEPER: village,
        Role.ADMINISTRATOR: county,
    }
    for role, place in where.items():
        user = do_create_user(
            f"u_{role}", acting_user=None, password=PASSWORD, display_name=str(role.label),
            county=county,
            organisation=department if role == Role.DEPARTMENT_LIAISON else None,
        )
        do_grant_role(user, role, place, acting_user=None)
        tree.users[role] = user
    return tree


def login_client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def api_client(user: User) -> tuple[Client, dict[str, str]]:
    """A client and the headers that carry a fresh bearer token for ``user``."""
    _token, raw = do_create_token(user, "test", acting_user=None)
    return Client(), {"Authorization": f"Bearer {raw}"}
