"""A village with enough households to visit, a pinned day, and API clients.

Today is pinned to Wednesday 12 March 2025: this ISO week runs Monday 10 to Sunday 16 March,
last week Monday 3 to Sunday 9 March.
"""

from __future__ import annotations

import datetime as dt
import json
from contextlib import contextmanager
from unittest import mock
from zoneinfo import ZoneInfo

import pytest

from gongzhi.accounts.models import RoleGrant
from gongzhi.matters.actions import matter_settings
from gongzhi.places.actions import do_create_household
from gongzhi.testing import api_client

TZ = ZoneInfo("Asia/Shanghai")
TODAY = dt.date(2025, 3, 12)
MONDAY = dt.date(2025, 3, 10)
LAST_SUNDAY = dt.date(2025, 3, 9)


def D(month: int, day: int) -> dt.date:
    return dt.date(2025, month, day)


@contextmanager
def on(day: dt.date, hour: int = 10):
    moment = dt.datetime.combine(day, dt.time(hour), tzinfo=TZ)
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


@pytest.fixture
def today():
    with on(TODAY):
        yield TODAY


@pytest.fixture
def village(tree):
    """Six more households in the first grid (门牌 11–16号), one with a left-behind child;
    grants dated before the scenario so every week counts."""
    matter_settings(tree.county)
    extra = []
    for n in range(11, 17):
        members = [{"name": f"住户{n}", "relation": "head"}]
        if n == 16:
            members.append({"name": f"孩子{n}", "relation": "child",
                            "special_groups": ["left_behind_child"]})
        extra.append(do_create_household(tree.grid, acting_user=None, address=f"高城寨村{n}号",
                                         members=members))
    RoleGrant.objects.update(granted_at=dt.datetime(2025, 1, 1, tzinfo=TZ))
    tree.extra = extra
    return tree


class Api:
    def __init__(self, user):
        self.client, self.headers = api_client(user)

    def get(self, url, **params):
        return self.client.get(f"/api/v1{url}", params, headers=self.headers)

    def post(self, url, data=None):
        return self.client.post(f"/api/v1{url}", data=json.dumps(data or {}),
                                content_type="application/json", headers=self.headers)


@pytest.fixture
def api(tree):
    return lambda role: Api(tree.user(role))


def members(household):
    from gongzhi.places.models import Person

    return list(Person.objects.filter(household_id=household.pk).order_by("pk"))


def visit(user, household, day, **kw):
    """Record a visit through the action, as of the pinned today (nobody home by default)."""
    from gongzhi.visits.actions import do_record_visit

    kw.setdefault("nobody_home", not kw.get("met"))
    with on(TODAY):
        return do_record_visit(household, acting_user=user, visited_on=day, **kw)
