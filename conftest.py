"""Shared pytest fixtures.

Tests run against the database that DATABASE_URL names (SQLite by default).
"""

import pytest

from gongzhi.core.context import request_context


@pytest.fixture(autouse=True)
def _request_id():
    with request_context():
        yield


@pytest.fixture
def tree(db):
    from gongzhi.testing import build_tree

    return build_tree()
