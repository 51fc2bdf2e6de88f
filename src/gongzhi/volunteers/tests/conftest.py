"""A village with the default points rules adopted, a second resident, API clients and a
clock to move.

The scenario's activity is on Saturday 15 March 2025, 09:00–12:00 (Asia/Shanghai).
"""

from __future__ import annotations

import datetime as dt
import json
from contextlib import contextmanager
from unittest import mock
from zoneinfo import ZoneInfo

import pytest

from gongzhi.accounts.actions import do_create_user, do_grant_role
from gongzhi.points.actions import do_adopt_rules
from gongzhi.testing import api_client

TZ = ZoneInfo("Asia/Shanghai")
DAY = dt.date(2025, 3, 15)


def at(hour: int, minute: int = 0, day: dt.date = DAY) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=TZ)


@contextmanager
def on(moment: dt.datetime):
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


class Api:
    def __init__(self, user):
        self.user = user
        self.client, self.headers = api_client(user)

    def get(self, url, **params):
        return self.client.get(f"/api/v1{url}", params, headers=self.headers)

    def post(self, url, data=None):
        return self.client.post(f"/api/v1{url}", data=json.dumps(data or {}),
                                content_type="application/json", headers=self.headers)


def add_resident(tree, household, username: str):
    user = do_create_user(username, acting_user=None, password="x-pass-2026-long",
                          display_name=username, county=tree.county)
    do_grant_role(user, "resident", household.place, acting_user=None)
    return user


@pytest.fixture
def village(tree):
    """The default rule book (志愿服务时长 VH: 1 point an hour, at most 20 a month) and a
    second resident, of 高城寨村2号."""
    with on(at(8, 0, dt.date(2025, 3, 1))):
        do_adopt_rules(tree.village, "default", acting_user=None)
    tree.resident2 = add_resident(tree, tree.household2, "u_resident2")
    return tree


@pytest.fixture
def api(village):
    def make(who):
        return Api(who if not isinstance(who, str) else village.user(who))
    return make


def new_activity(api, village, *, slots: int = 10, **extra) -> dict:
    """A published activity of the village, 15 March 09:00–12:00, created on 10 March."""
    cadre = api("village_cadre")
    with on(at(10, 0, dt.date(2025, 3, 10))):
        r = cadre.post("/volunteers/activities", {
            "place": village.village.pk, "title": "清理河道垃圾", "address": "村委会门前",
            "starts_at": at(9).isoformat(), "ends_at": at(12).isoformat(), "slots": slots,
            **extra})
        assert r.status_code == 201, r.content
        activity = r.json()
        r = cadre.post(f"/volunteers/activities/{activity['id']}/publish")
        assert r.status_code == 200, r.content
    return r.json()
