"""Fixtures for the handling tests: a matter being handled in the village, API callers."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from gongzhi.matters import workflow
from gongzhi.matters.actions import do_raise_matter
from gongzhi.testing import api_client, login_client


def raise_matter(tree, *, accept: bool = True, **kw):
    args = dict(place=tree.grid, title="村口路灯不亮", text="村口路灯坏了一个月，晚上出行不便。",
                channel="walk_in", ledger="claim", acting_user=tree.user("grid_worker"))
    args.update(kw)
    matter = do_raise_matter(**args)
    if accept:
        matter = workflow.do_transition(matter, "accept",
                                        acting_user=tree.user("village_secretary"))
    return matter


@dataclass
class Api:
    """A JSON API caller holding a bearer token for one user."""

    client: object
    headers: dict

    def get(self, url: str):
        return self.client.get(f"/api/v1{url}", headers=self.headers)

    def post(self, url: str, data: dict | None = None):
        return self.client.post(f"/api/v1{url}", data=json.dumps(data or {}),
                                content_type="application/json", headers=self.headers)


@pytest.fixture
def api(tree):
    cache: dict[str, Api] = {}

    def for_role(role_or_user) -> Api:
        user = tree.user(role_or_user) if isinstance(role_or_user, str) else role_or_user
        if user.username not in cache:
            cache[user.username] = Api(*api_client(user))
        return cache[user.username]

    return for_role


@pytest.fixture
def page(tree):
    def for_role(role_or_user):
        user = tree.user(role_or_user) if isinstance(role_or_user, str) else role_or_user
        return login_client(user)

    return for_role


@pytest.fixture
def matter(tree):
    return raise_matter(tree)
